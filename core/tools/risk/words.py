"""Shell words as the risk judge sees them, and option parsing over them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

NAME_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")
_BRACE = re.compile(r"\{[^{}]*(,|\.\.)[^{}]*\}")


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word after quote removal."""

    text: str
    dynamic: bool = False  # contains $var, $(…), `…` or ~: the value is known only at run time


def word_of(node: Any) -> Word:
    """The Word of a bashlex word node; dynamic when it holds expansions."""
    dynamic = any(
        p.kind in {"parameter", "commandsubstitution", "processsubstitution", "tilde"}
        for p in getattr(node, "parts", []) or []
    )
    return Word(node.word, dynamic)


def positionals(args: Sequence[Word], with_value: frozenset[str]) -> list[Word]:
    """Arguments that are not options (nor option values)."""
    out: list[Word] = []
    skip = False
    for i, w in enumerate(args):
        if skip:
            skip = False
            continue
        t = w.text
        if t == "--":
            out.extend(args[i + 1 :])
            break
        if t.startswith("-") and len(t) > 1:
            skip = t in with_value
            continue
        out.append(w)
    return out


def after_options(args: Sequence[Word], with_value: frozenset[str]) -> list[Word]:
    """The words from the first non-option on (a wrapped command and its own options)."""
    i = 0
    while i < len(args):
        t = args[i].text
        if t == "--":
            return list(args[i + 1 :])
        if not t.startswith("-") or len(t) == 1:
            return list(args[i:])
        i += 2 if t in with_value else 1
    return []


def option_value(args: Sequence[Word], names: frozenset[str]) -> list[Word]:
    """Values given to any of ``names`` (``-o X``, ``-oX``, ``--out=X``)."""
    values: list[Word] = []
    for i, w in enumerate(args):
        t = w.text
        if t in names and i + 1 < len(args):
            values.append(args[i + 1])
        elif t.startswith("--") and "=" in t and t.split("=", 1)[0] in names:
            values.append(Word(t.split("=", 1)[1], w.dynamic))
        elif len(t) > 2 and not t.startswith("--") and t[:2] in names:
            values.append(Word(t[2:], w.dynamic))
    return values


def short_flags(args: Sequence[Word]) -> set[str]:
    """Single-letter flags, clusters expanded (``-rf`` gives r and f)."""
    flags: set[str] = set()
    for w in args:
        t = w.text
        if t == "--":
            break
        if t.startswith("-") and not t.startswith("--") and len(t) > 1:
            flags.update(t[1:])
    return flags


def unquoted_brace(raw: str) -> bool:
    """True when ``raw`` (a word as written) has a brace expansion outside quotes."""
    plain: list[str] = []
    quote = ""
    escaped = False
    for c in raw:
        if escaped:
            escaped = False
            plain.append("_")
            continue
        if c == "\\" and quote != "'":
            escaped = True
            continue
        if quote:
            if c == quote:
                quote = ""
            plain.append("_")
            continue
        if c in {"'", '"'}:
            quote = c
            continue
        plain.append(c)
    return bool(_BRACE.search("".join(plain)))
