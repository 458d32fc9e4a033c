"""Recover tool calls that a small model wrote as text instead of native tool calls.

Dialects handled (from the formats the model families document): bare, fenced or tagged JSON
(Hermes/Qwen ``<tool_call>``, Mistral ``[TOOL_CALLS]``, Llama 3.1 ``<function=name>{…}</function>``
and ``<|python_tag|>``), JSON with raw newlines in strings or trailing commas, Python-literal dicts
(single quotes, ``True``/``None``), and Python call syntax (Gemma ``tool_code`` fences, Llama 3.2
pythonic lists; see :mod:`core.llm.pycalls`). Only calls to known tools with real arguments
survive: tool descriptions, echoed schemas and bare name mentions are not calls. Garbage yields an
empty list, never an exception.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from collections.abc import Collection, Iterator
from typing import Any

from core.llm.base import ToolCall
from core.llm.pycalls import python_calls

log = logging.getLogger(__name__)

_NAME_KEYS = ("name", "tool", "tool_name", "function_name")
_ARG_KEYS = ("arguments", "args", "parameters", "input", "tool_input", "params")
_META_KEYS = {*_NAME_KEYS, "id", "type", "index"}
_SCHEMA_KEYS = {"type", "properties", "required", "additionalProperties", "description", "$schema"}
_DECODER = json.JSONDecoder(strict=False)  # small models put raw newlines inside strings
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_FUNCTION_TAG = re.compile(r"<function=([\w.-]+)>(.*?)</function>", re.S)
_CALL_HEADS = ("{", "[", "```", "<tool_call", "[tool_calls]", "<function", "<|python_tag|>")
_CALL_HEADS += ("<|tool_call",)
_PAIRS = {"}": "{", "]": "["}
MAX_SCAN_CHARS = 20_000  # decoding from every brace is quadratic on long garbage


def _closers(text: str) -> dict[int, int]:
    """Where each bracket that opens at i closes, skipping quoted strings inside brackets."""
    found: dict[int, int] = {}
    stack: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "{[":
            stack.append(i)
        elif ch in "}]":
            if stack and text[stack[-1]] == _PAIRS[ch]:
                found[stack.pop()] = i
        elif ch in "\"'" and stack:  # prose apostrophes outside brackets are not quotes
            i += 1
            while i < n and text[i] != ch:
                i += 2 if text[i] == "\\" else 1
        i += 1
    return found


def _loose_value(segment: str) -> Any:
    """A JSON-ish value that strict JSON refused: trailing commas, or a Python literal."""
    try:
        return json.loads(_TRAILING_COMMA.sub(r"\1", segment), strict=False)
    except ValueError:
        pass
    try:
        return ast.literal_eval(segment)  # parses only literals; never evaluates code
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _json_values(text: str) -> Iterator[tuple[int, Any]]:
    """(position, value) of every top-level JSON-ish object or list in ``text``."""
    closers = _closers(text)
    i = 0
    n = len(text)
    while i < n:
        if text[i] in "{[":
            try:
                value, end = _DECODER.raw_decode(text, i)
            except ValueError:
                close = closers.get(i)
                value = None if close is None else _loose_value(text[i : close + 1])
                if not isinstance(value, dict | list):
                    i += 1
                    continue
                end = close + 1  # type: ignore[operator]
            yield i, value
            i = end
        else:
            i += 1


def _arguments(raw: Any) -> dict[str, Any] | None:
    """Arguments as a dict: objects as they are, JSON strings decoded, null as empty."""
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw, strict=False) if raw.strip() else {}
        except ValueError:
            value = _loose_value(raw)
        return value if isinstance(value, dict) else None
    return None


def _is_schema(args: dict[str, Any]) -> bool:
    """An echoed JSON schema (``type``/``properties``/``required``), not argument values."""
    if isinstance(args.get("properties"), dict):
        return True
    return args.get("type") == "object" and set(args) <= _SCHEMA_KEYS


def _call_from(obj: Any, names: Collection[str]) -> list[tuple[str, dict[str, Any]]]:
    """Calls found in one decoded JSON value (a call, a wrapper, or a list of them)."""
    if isinstance(obj, list):
        found: list[tuple[str, dict[str, Any]]] = []
        for item in obj:
            found += _call_from(item, names)
        return found
    if not isinstance(obj, dict):
        return []
    for wrapper in ("tool_calls", "calls"):
        if isinstance(obj.get(wrapper), list):
            return _call_from(obj[wrapper], names)
    if isinstance(obj.get("function"), dict):
        return _call_from(obj["function"], names)
    name = next((obj[k] for k in _NAME_KEYS if isinstance(obj.get(k), str)), None)
    if name is None or name not in names:
        return []
    arg_key = next((k for k in _ARG_KEYS if k in obj), None)
    if arg_key is None and isinstance(obj.get("description"), str):
        return []  # a tool description ({"name": …, "description": …}), not a call
    if arg_key is not None:
        args = _arguments(obj[arg_key])
    else:
        # Flat style: {"name": "read_file", "path": "a.txt"}; a lone name is a mention.
        args = {k: v for k, v in obj.items() if k not in _META_KEYS} or None
    if args is None or _is_schema(args):
        return []  # no arguments, or the tool's own schema echoed back
    return [(name, args)]


def _found(text: str, names: set[str]) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(position, name, arguments) from every dialect; positions order the calls."""
    spans: list[tuple[int, int]] = []
    for start, end, name, args in python_calls(text, names):
        spans.append((start, end))
        yield start, name, args
    for tag in _FUNCTION_TAG.finditer(text):
        args = _arguments(tag.group(2))
        if tag.group(1) in names and args is not None and not _is_schema(args):
            spans.append(tag.span())
            yield tag.start(), tag.group(1), args
    for pos, value in _json_values(text):
        if any(a <= pos < b for a, b in spans):
            continue  # already read as a Python call or a <function=…> tag
        for name, args in _call_from(value, names):
            yield pos, name, args


def recover_tool_calls(text: str, tool_names: Collection[str]) -> list[ToolCall]:
    """Tool calls written as text (JSON, Python calls, tags, lists), known tools only."""
    if not text or not tool_names:
        return []
    names = set(tool_names)
    text = text[:MAX_SCAN_CHARS]
    try:
        found = sorted(_found(text, names), key=lambda f: f[0])  # stable: order within a spot
    except RecursionError:
        log.warning("tool call recovery gave up on deeply nested text")
        return []
    return [ToolCall(f"recovered_{i}", name, args) for i, (_, name, args) in enumerate(found, 1)]


def looks_like_tool_call(text: str) -> bool:
    """True when text starts the way a written-out tool call does (hold it back from chat)."""
    head = text.lstrip()[:20].lower()
    return head.startswith(_CALL_HEADS)
