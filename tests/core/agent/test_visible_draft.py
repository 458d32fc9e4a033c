"""visible_draft reads a long line's end, not every word of it, and shows what it showed."""

from __future__ import annotations

import random
import re

import pytest

from core.agent import confidence
from core.agent.confidence import (
    _NOTE_WORDS,
    _OPENING,
    _PARTIAL_NOTE,
    _WORD_START,
    MEMO_LINE,
    _trailing,
    visible_draft,
)


def reference(text: str) -> str:
    """visible_draft as it was: every word of the last line looked at, the whole text searched."""
    text = MEMO_LINE.sub("", text)
    trailing = _trailing(text.rstrip())
    if trailing is not None:
        text = text[: trailing.start()]
    line_start = text.rfind("\n") + 1
    line = text[line_start:]
    for match in _WORD_START.finditer(line):
        fragment = line[match.start() :].lstrip("([*_").lower()
        word = re.match(r"[a-z]*", fragment)
        assert word is not None
        rest = fragment[word.end() :]
        at_line_start = not line[: match.start()].strip()
        candidates = _NOTE_WORDS if at_line_start else _NOTE_WORDS[:1]
        if not rest and any(k.startswith(word.group()) for k in candidates):
            return text[: line_start + match.start()].rstrip(" ")
        if word.group() in candidates and _PARTIAL_NOTE.fullmatch(rest):
            return text[: line_start + match.start()].rstrip(" ")
        if at_line_start and word.group() in ("memo", "note") and rest.lstrip().startswith(":"):
            return text[:line_start]
    opening = _OPENING.search(text)
    return text[: opening.start()] if opening is not None else text


PIECES = [
    "word",
    " ",
    "  ",
    "\n",
    "\t",
    "\u00a0",
    "\u2003",
    "(",
    "[",
    "*",
    "**",
    "_",
    ")",
    "]",
    "conf",
    "idence",
    "Confidence",
    "CONFIDENCE",
    "c",
    "con",
    ":",
    "=",
    " 0.",
    "9",
    "95",
    "%",
    ".",
    " level",
    " score",
    "ſcore",
    "İ",
    "ı",
    "memo",
    "MEMO",
    "note",
    "Note",
    "NOTE",
    "m",
    "note:",
    "memo :",
    "x" * 30,
    "detect",
    "mind",
    "done",
    "no",
    "one",
    "1.",
    "٣",
]


@pytest.mark.parametrize("seed", range(6))
def test_it_shows_exactly_what_a_scan_of_every_word_shows(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(3_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14)))
        assert visible_draft(text) == reference(text), repr(text)


def test_a_long_line_costs_its_end_not_all_its_words(monkeypatch: pytest.MonkeyPatch) -> None:
    looked = 0
    candidates = confidence._hold_candidates

    def counted(line: str):  # type: ignore[no-untyped-def]
        nonlocal looked
        for match in candidates(line):
            looked += 1
            yield match

    monkeypatch.setattr(confidence, "_hold_candidates", counted)
    line = "word " * 20_000 + "and the (confid"
    assert visible_draft(line) == "word " * 20_000 + "and the"
    assert looked <= 3  # the first word and the fragment: not 20,000 words
