"""Tool calls written in Python call syntax (Gemma ``tool_code``, Llama 3.2 pythonic lists).

The text is parsed with :mod:`ast` and never evaluated: only keyword arguments whose values are
literals (strings, numbers, lists, dicts, ``True``/``true``, ``None``/``null``) are accepted.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator
from typing import Any

# ```tool_code / ```python / ```tool_call fences; Gemma documents ```tool_code.
_FENCE = re.compile(
    r"```[ \t]*(tool_code|tool_call|python|py)[ \t]*\n(.*?)(?:```|\Z)", re.S | re.I
)
_JSON_WORDS = {"true": True, "false": False, "null": None}
_JSON_WORDS |= {"True": True, "False": False, "None": None}
_NAMESPACES = {"default_api", "functions", "tools", "api"}  # Gemini/Gemma prefix calls with these
_HEAD = re.compile(r"\[?\s*(?:print\(\s*)?(?:(?:default_api|functions|tools|api)\.)?(\w+)\s*\(")


class _NotLiteral(ValueError):
    pass


def _literal(node: ast.AST) -> Any:
    """The value of a literal node; anything else (a name, a call, an operator) is refused."""
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name) if name in _JSON_WORDS:
            return _JSON_WORDS[name]
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            return [_literal(e) for e in elts]
        case ast.Dict(keys=keys, values=values) if None not in keys:
            return {_literal(k): _literal(v) for k, v in zip(keys, values, strict=True)}
        case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=int() | float() as num)):
            return -num
    raise _NotLiteral(ast.dump(node)[:60])


def _func_name(func: ast.AST) -> str | None:
    """``name`` for ``name(...)`` and ``default_api.name(...)``; None for anything else."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.attr if func.value.id in _NAMESPACES else None
    return None


def _calls_in(node: ast.AST, names: Collection[str]) -> list[tuple[str, dict[str, Any]]] | None:
    """Calls in one expression: a call, ``print(call)``, or a list of calls; None if not calls."""
    if isinstance(node, ast.List | ast.Tuple):
        found: list[tuple[str, dict[str, Any]]] = []
        for elt in node.elts:
            calls = _calls_in(elt, names)
            if calls is None:
                return None
            found += calls
        return found or None
    if not isinstance(node, ast.Call):
        return None
    if isinstance(node.func, ast.Name) and node.func.id == "print" and len(node.args) == 1:
        return _calls_in(node.args[0], names)
    name = _func_name(node.func)
    # Positional arguments cannot be named without the schema; **kwargs is not a literal.
    if name not in names or node.args or any(k.arg is None for k in node.keywords):
        return None
    try:
        args = {str(k.arg): _literal(k.value) for k in node.keywords}
    except (_NotLiteral, TypeError):
        return None
    return [(name, args)]


def _parse_statements(code: str, names: Collection[str]) -> list[tuple[str, dict[str, Any]]]:
    """Calls from every expression statement of a code block."""
    try:
        tree = ast.parse(code, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[tuple[str, dict[str, Any]]] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr):
            found += _calls_in(stmt.value, names) or []
    return found


def python_calls(
    text: str, names: Collection[str]
) -> Iterator[tuple[int, int, str, dict[str, Any]]]:
    """(start, end, name, arguments) of calls in code fences and on lines of their own."""
    covered: list[tuple[int, int]] = []
    for fence in _FENCE.finditer(text):
        calls = _parse_statements(fence.group(2), names)
        if calls:
            covered.append(fence.span())
            for name, args in calls:
                yield fence.start(), fence.end(), name, args
    pos = 0
    for line in text.splitlines(keepends=True):
        start, pos = pos, pos + len(line)
        stripped = line.strip().rstrip(";")
        # A bare call counts only as a whole line: ``call(...)`` or ``[call(...), ...]``.
        if not stripped.endswith((")", "]")) or "(" not in stripped:
            continue
        if any(a <= start < b for a, b in covered):
            continue
        if not _starts_with_call(stripped, names):
            continue
        for name, args in _parse_statements(stripped, names):
            yield start, pos, name, args


def _starts_with_call(line: str, names: Collection[str]) -> bool:
    """Cheap filter before parsing: the line opens with a call to a known tool."""
    m = _HEAD.match(line)
    return m is not None and m.group(1) in names
