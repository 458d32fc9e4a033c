"""Matching a request to a code skill with no model call.

Explicit: ``run <skill> [json | key=value …]``. Implicit: a request close enough to one of an
ACTIVE skill's examples. Examples are aligned word by word with the request (``difflib``), so
a ``{param}`` placeholder takes the words that sit where it sits; the score is the character
similarity of the normalised request and the example filled with those values.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import shlex
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from core.skills.model import CodeSkill

DEFAULT_THRESHOLD = 0.85  # SKILL_MATCH_THRESHOLD
_PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_EDGE_PUNCT = "?!.,;:\"'`()<>"
_WORD = re.compile(r'"[^"]*"|\'[^\']*\'|\S+')
_ZEROS = itertools.repeat(0)  # dict.get's default, endlessly


@dataclass(frozen=True, slots=True)
class Match:
    """A skill chosen for a request, with the parameters read from it."""

    skill: CodeSkill
    params: dict[str, Any] = field(hash=False)
    score: float = 1.0
    example: str = ""


def normalize(text: str) -> str:
    """Lower case, single spaces, no punctuation at the ends of words."""
    words = (w.strip(_EDGE_PUNCT) for w in text.lower().split())
    return " ".join(w for w in words if w)


def parse_args(text: str) -> dict[str, Any]:
    """``{"json": "object"}`` or ``key=value key2="two words"``; raises ValueError."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"the parameters are not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError("the parameters must be a JSON object")
        return data
    out: dict[str, Any] = {}
    try:
        parts = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"cannot read the parameters ({exc})") from None
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"expected key=value, got {part!r}")
        out[key] = _scalar(value)
    return out


def _scalar(value: str) -> Any:
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if isinstance(parsed, int | float | bool) else value


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        low = value.lower()
        if low in {"true", "yes", "on"}:
            return True
        if low in {"false", "no", "off"}:
            return False
        raise ValueError(value)
    return value


@dataclass(frozen=True, slots=True)
class _Request:
    """A request read once for all the examples it is compared with."""

    raw: list[str]  # words, quotes removed
    quoted: list[bool]
    words: list[str]  # lower case, edge punctuation stripped
    normal: str

    @classmethod
    def of(cls, request: str) -> _Request:
        words = _WORD.findall(request)
        quoted = [w[:1] in "\"'" and len(w) > 1 and w[-1] == w[0] for w in words]
        raw = [w[1:-1] if q else w for w, q in zip(words, quoted, strict=True)]
        return cls(raw, quoted, [w.strip(_EDGE_PUNCT).lower() for w in raw], normalize(request))


@functools.lru_cache(maxsize=1024)
def _example_words(example: str) -> tuple[str, ...]:
    """An example's words; a placeholder ``{name}`` becomes ``"\\0name"``."""
    out = []
    for w in example.split():
        m = _PLACEHOLDER.match(w.strip(_EDGE_PUNCT.replace("(", "").replace(")", "")))
        out.append("\x00" + m.group(1) if m else w.strip(_EDGE_PUNCT).lower())
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What an example fixes: its words other than placeholders, as text and letter counts."""

    fixed: int  # length of the fixed words joined by single spaces
    chars: tuple[str, ...]  # the distinct characters of the fixed words…
    counts: tuple[int, ...]  # …and how often each occurs
    placeholders: int
    bounded: bool  # False when a fixed word holds a brace (a value could land inside it)


@functools.lru_cache(maxsize=1024)
def _shape(example: str) -> _Shape:
    words = _example_words(example)
    fixed = " ".join(w for w in words if w and not w.startswith("\x00"))
    letters = Counter(fixed)
    return _Shape(
        fixed=len(fixed),
        chars=tuple(letters),
        counts=tuple(letters.values()),
        placeholders=sum(w.startswith("\x00") for w in words),
        bounded="{" not in fixed and "}" not in fixed,
    )


def warm() -> None:
    """Import jsonschema now (in a thread once the app is up), not on the first match."""
    import jsonschema  # noqa: F401


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    import jsonschema  # here: `hearth chat` draws its prompt without it

    schema = json.loads(schema_json)
    return jsonschema.validators.validator_for(schema)(schema)


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    # A compiled validator per schema: jsonschema.validate() re-checks the schema every call.
    return bool(_validator(json.dumps(schema, sort_keys=True)).is_valid(value))


class _Matcher:
    """Scores examples against one request, reusing what difflib caches about the request."""

    def __init__(self, request: str) -> None:
        self.request = _Request.of(request)
        self._words = SequenceMatcher(None, autojunk=False)
        self._words.set_seq2(self.request.words)
        self._chars = SequenceMatcher(None, autojunk=False)
        self._chars.set_seq2(self.request.normal)
        self._letters: dict[str, int] = dict(Counter(self.request.normal))
        # The most a value can add to a filled example: a whole request word and a space.
        self._widest = sorted((len(w) + 1 for w in self.request.raw), reverse=True)

    def _bound(self, example: str) -> float:
        """An upper bound of ``score(example)``, before any alignment (see below)."""
        shape = _shape(example)
        if not shape.bounded:
            return 1.0
        # The filled example F is the fixed words plus values taken from request words, so
        # matches(F, R) <= common(fixed, R) + w and |F| >= |fixed| + w - 1, w being the
        # values' length with their spaces; the ratio 2·matches/(|F|+|R|) grows with w.
        # map() keeps the per-letter loop in C: this runs for every example of every skill.
        common = sum(map(min, shape.counts, map(self._letters.get, shape.chars, _ZEROS)))
        width = sum(self._widest[: shape.placeholders])
        total = shape.fixed + width + len(self.request.normal) - 1
        return 1.0 if total <= 0 else 2 * (common + width) / total

    def score(
        self, example: str, skill: CodeSkill, floor: float = 0.0
    ) -> tuple[float, dict[str, Any]]:
        """How close the request is to ``example`` (0–1; 0 when below ``floor``), and params."""
        if floor and self._bound(example) < floor:
            return 0.0, {}
        req = self.request
        ex = _example_words(example)
        props = skill.params.get("properties", {})
        values: dict[str, str] = {}
        self._words.set_seq1(list(ex))
        for tag, i1, i2, j1, j2 in self._words.get_opcodes():
            if tag == "equal":
                continue
            names = [w[1:] for w in ex[i1:i2] if w.startswith("\x00")]
            # A placeholder takes exactly one word (quote a value with spaces in the request).
            if len(names) == 1 and i2 - i1 == 1 and j2 - j1 == 1:
                word = req.raw[j1]
                values[names[0]] = word if req.quoted[j1] else word.strip(_EDGE_PUNCT)
        placeholders = [w[1:] for w in ex if w.startswith("\x00")]
        if any(not values.get(p) for p in placeholders):
            return 0.0, {}
        filled = example
        for name, value in values.items():
            filled = filled.replace("{" + name + "}", value)
        chars = self._chars
        chars.set_seq1(normalize(filled))
        # ratio() is bounded by the cheap ratios: most examples stop here.
        if chars.real_quick_ratio() < floor or chars.quick_ratio() < floor:
            return 0.0, {}
        score = chars.ratio()
        if score < floor:
            return 0.0, {}
        params: dict[str, Any] = {}
        try:
            for name, value in values.items():
                params[name] = _coerce(value, props.get(name, {}))
                # A value must fit its schema (type, pattern, enum): "the database" is no path.
                if not _fits(params[name], props.get(name, {})):
                    return 0.0, {}
        except ValueError:
            return 0.0, {}
        if any(r not in params for r in skill.params.get("required", [])):
            return 0.0, {}
        return score, params


def match_example(request: str, example: str, skill: CodeSkill) -> tuple[float, dict[str, Any]]:
    """How close ``request`` is to ``example`` (0–1), and the params its placeholders took."""
    return _Matcher(request).score(example, skill)


def best_match(
    request: str, skills: Iterable[CodeSkill], threshold: float = DEFAULT_THRESHOLD
) -> Match | None:
    """The skill whose example is closest to ``request``, if it reaches ``threshold``."""
    best: Match | None = None
    matcher = _Matcher(request)
    for skill in skills:
        for example in skill.examples:
            floor = threshold if best is None else max(threshold, best.score)
            score, params = matcher.score(example, skill, floor)
            if score >= threshold and (best is None or score > best.score):
                best = Match(skill, params, score, example)
    return best
