"""A fast path for plain command lines: the parse tree bashlex would build, without bashlex.

Most commands a model runs are plain words joined by ``|``, ``&&``, ``||`` and ``;``
(``git log --oneline -5``, ``ps aux | grep x``). bashlex parses those with a pure-Python
yacc parser, which is most of the classifier's time. ``parse`` builds the very same
``bashlex.ast.node`` trees for such lines and returns None for anything else, which then goes
through bashlex: quotes, ``$``, backticks, globs, braces, redirections, parentheses,
backslashes, ``#``, ``~``, ``!``, ``&``, tabs, newlines, reserved words and assignments.
tests/core/tools/test_risk_plain.py checks the trees are equal to bashlex's on every risk case
and on a generated corpus.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from core.tools.risk import bashparse

if TYPE_CHECKING:
    from bashlex.ast import node

# Word characters with no meaning to the shell anywhere in a word ("-" last: not a range).
# _PLAIN is one character class (no nested repetition, so no backtracking); a lone `&` is
# caught by the tokens.
_WORD = "A-Za-z0-9_./=:,@%+-"
_PLAIN = re.compile(rf"[|&; {_WORD}]*")
_TOKEN = re.compile(rf"(?P<word>[{_WORD}]+)|(?P<op>&&|\|\||[|;])|(?P<space> +)|(?P<other>.)")


@functools.cache
def _bashlex() -> tuple[type[node], frozenset[str]]:
    """bashlex's node class and reserved command words, imported (via bashparse) on first use."""
    bashparse.load()
    from bashlex.ast import node
    from bashlex.tokenizer import valid_reserved_first_command

    return node, frozenset(valid_reserved_first_command)


def parse(text: str) -> list[node] | None:
    """The bashlex trees of a plain command line, or None when bashlex must parse it."""
    if not _PLAIN.fullmatch(text):
        return None
    node, reserved = _bashlex()
    items: list[node] = []  # pipelines or commands, and the list operators between them
    pipeline: list[node] = []  # commands and the pipes between them
    words: list[node] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "space":
            continue
        if kind == "other":
            return None
        start, end = match.span()
        value = match.group()
        if kind == "word":
            if not words and (value in reserved or "=" in value):
                return None  # reserved words and assignments: bashlex's rules decide
            words.append(node(kind="word", word=value, pos=(start, end), parts=[]))
            continue
        if not words:
            return None  # an operator with no command before it: bashlex reports the error
        pipeline.append(_command(words))
        words = []
        if value == "|":
            pipeline.append(node(kind="pipe", pipe="|", pos=(start, end)))
            continue
        items.append(_pipeline(pipeline))
        pipeline = []
        items.append(node(kind="operator", op=value, pos=(start, end)))
    if words:
        pipeline.append(_command(words))
        items.append(_pipeline(pipeline))
    elif pipeline or not items or items[-1].op != ";":
        return None  # ends in `|`, `&&` or `||`, or holds no command at all
    if len(items) == 1:
        return items
    return [node(kind="list", parts=items, pos=(items[0].pos[0], items[-1].pos[1]))]


def _command(words: list[node]) -> node:
    node = _bashlex()[0]
    return node(kind="command", parts=words, pos=(words[0].pos[0], words[-1].pos[1]))


def _pipeline(parts: list[node]) -> node:
    if len(parts) == 1:
        return parts[0]
    node = _bashlex()[0]
    return node(kind="pipeline", parts=parts, pos=(parts[0].pos[0], parts[-1].pos[1]))
