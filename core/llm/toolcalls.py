"""Recover tool calls that a small model wrote as text instead of native tool calls.

Small local models often answer with the call as bare JSON, fenced JSON, Hermes/Qwen style
``<tool_call>…</tool_call>`` tags, Mistral's ``[TOOL_CALLS] [...]`` or a JSON list. Every JSON
value in the text is decoded where it starts; only calls to known tools with object arguments
survive. Garbage yields an empty list, never an exception.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterator
from typing import Any

from core.llm.base import ToolCall

log = logging.getLogger(__name__)

_NAME_KEYS = ("name", "tool", "tool_name", "function_name")
_ARG_KEYS = ("arguments", "args", "parameters", "input", "tool_input", "params")
_META_KEYS = {*_NAME_KEYS, "id", "type", "index"}
_DECODER = json.JSONDecoder()
MAX_SCAN_CHARS = 20_000  # decoding from every brace is quadratic on long garbage


def _json_values(text: str) -> Iterator[Any]:
    """Every top-level JSON object or list that decodes at some position of ``text``."""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "{[":
            try:
                value, end = _DECODER.raw_decode(text, i)
            except ValueError:
                i += 1
                continue
            yield value
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
            value = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return None


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
    if arg_key is not None:
        args = _arguments(obj[arg_key])
    else:
        # Flat style: {"name": "read_file", "path": "a.txt"}.
        args = {k: v for k, v in obj.items() if k not in _META_KEYS}
    if args is None:
        return []
    return [(name, args)]


def recover_tool_calls(text: str, tool_names: Collection[str]) -> list[ToolCall]:
    """Tool calls written as text (JSON, fenced JSON, tags, lists), known tools only."""
    if not text or not tool_names:
        return []
    names = set(tool_names)
    text = text[:MAX_SCAN_CHARS]
    calls: list[ToolCall] = []
    try:
        for value in _json_values(text):
            for name, args in _call_from(value, names):
                calls.append(ToolCall(f"recovered_{len(calls) + 1}", name, args))
    except RecursionError:
        log.warning("tool call recovery gave up on deeply nested text")
        return []
    return calls


def looks_like_tool_call(text: str) -> bool:
    """True when text starts the way a written-out tool call does (hold it back from chat)."""
    head = text.lstrip()[:20].lower()
    return head.startswith(("{", "[", "```", "<tool_call", "[tool_calls]", "<function"))
