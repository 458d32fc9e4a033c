"""Matching a request to a code skill with no model call.

Explicit: ``run <skill> [json | key=value …]``. Implicit: a request close enough to one of an
ACTIVE skill's examples. Examples are aligned word by word with the request (``difflib``), so
a ``{param}`` placeholder takes the words that sit where it sits; the score is the character
similarity of the normalised request and the example filled with those values.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import jsonschema

from core.skills.model import CodeSkill

DEFAULT_THRESHOLD = 0.85  # SKILL_MATCH_THRESHOLD
_PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_EDGE_PUNCT = "?!.,;:\"'`()<>"
_WORD = re.compile(r'"[^"]*"|\'[^\']*\'|\S+')


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


def match_example(request: str, example: str, skill: CodeSkill) -> tuple[float, dict[str, Any]]:
    """How close ``request`` is to ``example`` (0–1), and the params its placeholders took."""
    words = _WORD.findall(request)
    quoted = [w[:1] in "\"'" and len(w) > 1 and w[-1] == w[0] for w in words]
    raw = [w[1:-1] if q else w for w, q in zip(words, quoted, strict=True)]
    req = [w.strip(_EDGE_PUNCT).lower() for w in raw]
    ex_words = example.split()
    ex = []
    for w in ex_words:
        m = _PLACEHOLDER.match(w.strip(_EDGE_PUNCT.replace("(", "").replace(")", "")))
        ex.append("\x00" + m.group(1) if m else w.strip(_EDGE_PUNCT).lower())
    props = skill.params.get("properties", {})
    values: dict[str, str] = {}
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, ex, req, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        names = [w[1:] for w in ex[i1:i2] if w.startswith("\x00")]
        # A placeholder takes exactly one word (quote a value with spaces in the request).
        if len(names) == 1 and i2 - i1 == 1 and j2 - j1 == 1:
            values[names[0]] = raw[j1] if quoted[j1] else raw[j1].strip(_EDGE_PUNCT)
    placeholders = [w[1:] for w in ex if w.startswith("\x00")]
    if any(not values.get(p) for p in placeholders):
        return 0.0, {}
    params: dict[str, Any] = {}
    try:
        for name, value in values.items():
            params[name] = _coerce(value, props.get(name, {}))
            # A value must fit its schema (type, pattern, enum): "the database" is no path.
            jsonschema.validate(params[name], props.get(name, {}))
    except (ValueError, jsonschema.ValidationError):
        return 0.0, {}
    if any(r not in params for r in skill.params.get("required", [])):
        return 0.0, {}
    filled = example
    for name, value in values.items():
        filled = filled.replace("{" + name + "}", value)
    score = SequenceMatcher(None, normalize(filled), normalize(request), autojunk=False).ratio()
    return score, params


def best_match(
    request: str, skills: Iterable[CodeSkill], threshold: float = DEFAULT_THRESHOLD
) -> Match | None:
    """The skill whose example is closest to ``request``, if it reaches ``threshold``."""
    best: Match | None = None
    for skill in skills:
        for example in skill.examples:
            score, params = match_example(request, example, skill)
            if score >= threshold and (best is None or score > best.score):
                best = Match(skill, params, score, example)
    return best
