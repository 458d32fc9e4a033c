"""Confidence: parsed from the model's answer, clamped on hard-failure signals or refusals."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_CONFIDENCE = re.compile(
    r"^\W*confidence\W*[:=]?\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<pct>%)?\W*$",
    re.IGNORECASE | re.MULTILINE,
)
# A note at the very end, inline or on its own line: "(confidence: 0.95)", "Confidence: 90%",
# "CONFIDENCE=0.9", "**Confidence level:** 0.8".
_NOTE_BODY = (
    r"[(\[]?[*_\s]*confidence(?:[ \t]+(?:level|score))?[*_\s]*[:=]?[*_\s]*"
    r"(?P<value>\d+(?:\.\d+)?)[ \t]*(?P<pct>%)?[*_\s]*[)\]]?"
)
_TRAILING = re.compile(r"(?P<note>" + _NOTE_BODY + r")[\s.]*\Z", re.IGNORECASE)
# Every character a trailing note can hold (besides whitespace and digits); "ſıİ" match s/i
# when case is ignored.
_NOTE_CHARS = frozenset("confidencelvsrCONFIDENCELVSR*_()[]:=.%ſıİ")
MEMO_LINE = re.compile(r"^[ \t]*(?:MEMO|NOTE)[ \t]*:.*(?:\n|\Z)", re.IGNORECASE | re.MULTILINE)
# What may still grow into a hidden note at the end of a draft.
_NOTE_WORDS = ("confidence", "memo", "note")
_PARTIAL_NOTE = re.compile(
    r"[*_\s]*(?:level|score)?[*_\s]*[:=]?[*_\s]*(?:\d+(?:\.\d*)?)?[ \t]*%?[*_\s]*[)\]]?[\s.]*",
    re.IGNORECASE,
)
_OPENING = re.compile(r"(?<=\s)[(\[*_]+\s*\Z")
# Every character a note in the making can hold (its words, "level"/"score", punctuation; plus
# whitespace and digits): one held back lies in the run of these that ends the line.
_HOLD_CHARS = _NOTE_CHARS | frozenset("mtMT")
_WORD_START = re.compile(r"(?:^|(?<=[\s(\[*_]))[(\[*_]*[A-Za-z]")
# Substrings that mean "this did not work", whatever the model claims.
FAILURE_SIGNALS: tuple[str, ...] = (
    "unhealthy",
    "Exited (",
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ERROR 1045",
    "Error response from daemon",
    "command not found",
    "Traceback (most recent call last)",
    "Segmentation fault",
    "FATAL:",
    "Access denied for user",
    "OOMKilled",
)
_REFUSALS = re.compile(
    r"\b(I (?:cannot|can't|can not|am unable to|'m unable to|am not able to|don't have access)"
    r"|I'm sorry, but|as an AI\b|unable to (?:complete|help|access|perform))",
    re.IGNORECASE,
)


def _trailing(text: str) -> re.Match[str] | None:
    """``_TRAILING.search(text)``, reading only the run of note characters at the end."""
    start = len(text)
    while start and (
        text[start - 1] in _NOTE_CHARS or text[start - 1].isspace() or text[start - 1].isdecimal()
    ):
        start -= 1
    return _TRAILING.search(text, start)


def _value(match: re.Match[str]) -> float:
    value = float(match.group("value"))
    if match.group("pct") or value > 1.0:
        value /= 100.0
    return min(1.0, max(0.0, value))


def parse_confidence(text: str) -> tuple[str, float | None]:
    """The answer without its confidence note, and the note's value in [0, 1] (None: absent).

    The note is found at the end of the answer, inline or on its own line, in any case
    ("(confidence: 0.95)", "Confidence: 90%", "CONFIDENCE=0.9"), else on a line of its own.
    """
    trailing = _trailing(text.rstrip())
    if trailing is not None:
        return text[: trailing.start()].rstrip(" \t\n*_-—–,;:"), _value(trailing)
    matches = list(_CONFIDENCE.finditer(text))
    if not matches:
        return text.strip(), None
    last = matches[-1]
    stripped = (text[: last.start()] + text[last.end() :]).strip()
    return stripped, _value(last)


def strip_notes(text: str) -> str:
    """The answer as a reader sees it: no MEMO lines, no confidence note."""
    return parse_confidence(MEMO_LINE.sub("", text))[0]


def visible_draft(text: str) -> str:
    """What of a half-written answer may be shown: notes hidden, a note in the making held back.

    A trailing fragment that could still become a confidence note or a MEMO line ("(conf",
    "Confidence: 0.") is held back until more text shows it is not one.
    """
    text = MEMO_LINE.sub("", text)
    trailing = _trailing(text.rstrip())
    if trailing is not None:
        text = text[: trailing.start()]
    line_start = text.rfind("\n") + 1
    line = text[line_start:]
    lead = len(line) - len(line.lstrip())  # a word starting here starts the line
    for match in _hold_candidates(line):
        fragment = line[match.start() :].lstrip("([*_").lower()
        word = re.match(r"[a-z]*", fragment)
        assert word is not None
        rest = fragment[word.end() :]
        at_line_start = match.start() <= lead
        candidates = _NOTE_WORDS if at_line_start else _NOTE_WORDS[:1]
        if not rest and any(k.startswith(word.group()) for k in candidates):
            return text[: line_start + match.start()].rstrip(" ")
        if word.group() in candidates and _PARTIAL_NOTE.fullmatch(rest):
            return text[: line_start + match.start()].rstrip(" ")
        if at_line_start and word.group() in ("memo", "note") and rest.lstrip().startswith(":"):
            return text[:line_start]
    # An opening can only be the brackets before the trailing whitespace: search just there.
    bare = text.rstrip()
    opening = _OPENING.search(text, len(bare.rstrip("([*_")))
    return text[: opening.start()] if opening is not None else text


def _hold_candidates(line: str) -> Iterator[re.Match[str]]:
    """The line's first word, then the words in the run of note characters that ends it.

    Only these can start a fragment held back (each is note characters to the end of the
    line, or the line's first word), so a long line costs its last words, not all of them.
    """
    words = _WORD_START.finditer(line)
    first = next(words, None)
    if first is None:
        return
    yield first
    start = len(line)
    while start and (
        line[start - 1] in _HOLD_CHARS or line[start - 1].isspace() or line[start - 1].isdecimal()
    ):
        start -= 1
    # No word straddles ``start`` (the character before it is no bracket), so the words from
    # there are the ones a scan of the whole line would find.
    yield from (words if start <= first.end() else _WORD_START.finditer(line, start))


def failure_signals(outputs: Iterable[str]) -> list[str]:
    """Hard-failure signals found in tool outputs, in FAILURE_SIGNALS order, no duplicates."""
    found: list[str] = []
    joined = "\n".join(outputs)
    lowered = joined.lower()
    for signal in FAILURE_SIGNALS:
        if signal.lower() in lowered and signal not in found:
            found.append(signal)
    return found


def is_refusal(answer: str) -> bool:
    """True when the answer is the model declining or saying it could not do the work."""
    return bool(_REFUSALS.search(answer[:600])) or not answer.strip()


def assess(
    stated: float | None,
    *,
    answer: str,
    signals: Iterable[str],
    default: float,
    clamp: float,
) -> float:
    """The confidence to act on: stated (or default), clamped to ``clamp`` on failure evidence."""
    value = default if stated is None else stated
    if list(signals) or is_refusal(answer):
        value = min(value, clamp)
    return value
