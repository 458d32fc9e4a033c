"""recover_tool_calls on realistic small-model outputs."""

from __future__ import annotations

import pytest

from core.llm.toolcalls import looks_like_tool_call, recover_tool_calls

TOOLS = {"read_file", "list_dir", "shell", "write_file"}

CASES = [
    # (id, text, expected [(name, args)])
    (
        "bare",
        '{"name": "read_file", "arguments": {"path": "a.txt"}}',
        [("read_file", {"path": "a.txt"})],
    ),
    (
        "fenced-json",
        'Let me look.\n```json\n{"name": "list_dir", "arguments": {"path": "."}}\n```',
        [("list_dir", {"path": "."})],
    ),
    (
        "fenced-plain",
        '```\n{"name": "shell", "arguments": {"command": "ls -la"}}\n```',
        [("shell", {"command": "ls -la"})],
    ),
    (
        "qwen-tag",
        '<tool_call>\n{"name": "read_file", "arguments": {"path": "src/main.py"}}\n</tool_call>',
        [("read_file", {"path": "src/main.py"})],
    ),
    (
        "tag-unclosed",
        '<tool_call>{"name": "list_dir", "arguments": {"path": "src"}}',
        [("list_dir", {"path": "src"})],
    ),
    (
        "two-tags",
        '<tool_call>{"name": "read_file", "arguments": {"path": "a"}}</tool_call>\n'
        '<tool_call>{"name": "read_file", "arguments": {"path": "b"}}</tool_call>',
        [("read_file", {"path": "a"}), ("read_file", {"path": "b"})],
    ),
    (
        "trailing-prose",
        '{"name": "shell", "arguments": {"command": "df -h"}} I will check the disk usage now.',
        [("shell", {"command": "df -h"})],
    ),
    (
        "leading-prose",
        'Sure! To do that I will call:\n{"name": "list_dir", "arguments": {"path": "/tmp"}}',
        [("list_dir", {"path": "/tmp"})],
    ),
    (
        "json-list",
        '[{"name": "read_file", "arguments": {"path": "x"}}, '
        '{"name": "list_dir", "arguments": {"path": "y"}}]',
        [("read_file", {"path": "x"}), ("list_dir", {"path": "y"})],
    ),
    (
        "mistral-prefix",
        '[TOOL_CALLS] [{"name": "shell", "arguments": {"command": "uptime"}}]',
        [("shell", {"command": "uptime"})],
    ),
    (
        "arguments-json-string",
        '{"name": "read_file", "arguments": "{\\"path\\": \\"notes.md\\"}"}',
        [("read_file", {"path": "notes.md"})],
    ),
    (
        "parameters-key",
        '{"name": "list_dir", "parameters": {"path": "docs"}}',
        [("list_dir", {"path": "docs"})],
    ),
    (
        "openai-function-wrapper",
        '{"type": "function", "function": {"name": "shell", "arguments": {"command": "pwd"}}}',
        [("shell", {"command": "pwd"})],
    ),
    (
        "tool_calls-wrapper",
        '{"tool_calls": [{"function": {"name": "read_file", "arguments": {"path": "a"}}}]}',
        [("read_file", {"path": "a"})],
    ),
    (
        "tool-args-keys",
        '{"tool": "list_dir", "args": {"path": "."}}',
        [("list_dir", {"path": "."})],
    ),
    (
        "flat-style",
        '{"name": "read_file", "path": "README.md"}',
        [("read_file", {"path": "README.md"})],
    ),
    ("null-arguments", '{"name": "list_dir", "arguments": null}', [("list_dir", {})]),
    ("unknown-tool", '{"name": "delete_everything", "arguments": {}}', []),
    (
        "unknown-and-known",
        '{"name": "browse", "arguments": {"url": "x"}}\n{"name": "list_dir", "arguments": {}}',
        [("list_dir", {})],
    ),
    ("truncated", '{"name": "read_file", "arguments": {"path": "a.t', []),
    (
        "truncated-second-of-list",
        '[{"name": "read_file", "arguments": {"path": "a"}}, {"name": "list_dir", "argu',
        [("read_file", {"path": "a"})],
    ),
    ("arguments-not-object", '{"name": "read_file", "arguments": ["a.txt"]}', []),
    ("arguments-bad-string", '{"name": "read_file", "arguments": "path=a.txt"}', []),
    ("plain-answer", "The config sets port 8080. CONFIDENCE: 0.9", []),
    ("json-but-not-a-call", 'The file contains {"port": 8080, "debug": true}.', []),
    ("empty", "", []),
    ("garbage-braces", "{{{{ [[[ }}} ]] {not json} [1, 2", []),
    (
        "nested-json-argument",
        '{"name": "write_file", "arguments": {"path": "c.json", "content": "{\\"a\\": 1}"}}',
        [("write_file", {"path": "c.json", "content": '{"a": 1}'})],
    ),
    (
        "single-quotes-invalid-json",
        "{'name': 'read_file', 'arguments': {'path': 'a'}}",
        [],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_recover(text: str, expected: list[tuple[str, dict]]) -> None:
    calls = recover_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in calls] == expected
    assert len({c.id for c in calls}) == len(calls)


def test_at_least_25_cases() -> None:
    assert len(CASES) >= 25


def test_no_tools_known_means_nothing_recovered() -> None:
    assert recover_tool_calls('{"name": "read_file", "arguments": {}}', []) == []


def test_huge_garbage_does_not_raise_or_hang() -> None:
    text = "[" * 5000 + "{" * 5000
    assert recover_tool_calls(text, TOOLS) == []


@pytest.mark.parametrize(
    ("text", "held"),
    [('  {"name"', True), ("```json", True), ("<tool_call>", True), ("The answer", False)],
)
def test_looks_like_tool_call(text: str, held: bool) -> None:
    assert looks_like_tool_call(text) is held
