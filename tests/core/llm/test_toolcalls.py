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
        "single-quotes-python-dict",
        "{'name': 'read_file', 'arguments': {'path': 'a'}}",
        [("read_file", {"path": "a"})],
    ),
]

# Dialects written from the formats the model families document (Gemma's function-calling guide,
# the Llama 3.1/3.2 prompt formats, Hermes/Qwen, Phi-4-mini), and the ways small models bend them.
DIALECTS = [
    (
        "gemma-tool_code",
        '```tool_code\nlist_dir(path=".")\n```',
        [("list_dir", {"path": "."})],
    ),
    (
        "gemma-tool_code-after-prose",
        "I need to see the files first.\n```tool_code\nread_file(path='src/app.py')\n```\n",
        [("read_file", {"path": "src/app.py"})],
    ),
    (
        "gemma-print-default_api",
        '```tool_code\nprint(default_api.shell(command="df -h"))\n```',
        [("shell", {"command": "df -h"})],
    ),
    (
        "gemma-two-statements",
        '```tool_code\nread_file(path="a")\nread_file(path="b")\n```',
        [("read_file", {"path": "a"}), ("read_file", {"path": "b"})],
    ),
    (
        "gemma-multiline-call",
        '```tool_code\nwrite_file(\n    path="notes.md",\n    content="line 1\\nline 2",\n)\n```',
        [("write_file", {"path": "notes.md", "content": "line 1\nline 2"})],
    ),
    (
        "gemma-unclosed-fence",
        '```tool_code\nlist_dir(path="logs")',
        [("list_dir", {"path": "logs"})],
    ),
    (
        "python-fence",
        '```python\nshell(command="uptime")\n```',
        [("shell", {"command": "uptime"})],
    ),
    ("bare-python-call", 'list_dir(path="/var/log")', [("list_dir", {"path": "/var/log"})]),
    (
        "llama32-pythonic-list",
        "[read_file(path='a.txt'), list_dir(path='docs')]",
        [("read_file", {"path": "a.txt"}), ("list_dir", {"path": "docs"})],
    ),
    (
        "llama32-pythonic-with-literals",
        '[list_dir(path=".", recursive=True, depth=2, hidden=None, pattern=["*.py", "*.md"])]',
        [
            (
                "list_dir",
                {
                    "path": ".",
                    "recursive": True,
                    "depth": 2,
                    "hidden": None,
                    "pattern": ["*.py", "*.md"],
                },
            )
        ],
    ),
    (
        "pythonic-json-words",
        "[shell(command='ls', check=true, timeout=null)]",
        [("shell", {"command": "ls", "check": True, "timeout": None})],
    ),
    (
        "pythonic-dict-argument",
        "[write_file(path='c.json', content={'a': 1, 'b': [-1, 2.5]})]",
        [("write_file", {"path": "c.json", "content": {"a": 1, "b": [-1, 2.5]}})],
    ),
    (
        "llama31-function-tag",
        '<function=read_file>{"path": "README.md"}</function>',
        [("read_file", {"path": "README.md"})],
    ),
    (
        "llama31-python_tag-json",
        '<|python_tag|>{"name": "shell", "parameters": {"command": "free -m"}}',
        [("shell", {"command": "free -m"})],
    ),
    (
        "phi4-tool_call-list",
        '<|tool_call|>[{"name": "list_dir", "arguments": {"path": "."}}]<|/tool_call|>',
        [("list_dir", {"path": "."})],
    ),
    (
        "python-literal-true-none",
        "{'name': 'list_dir', 'arguments': {'path': '.', 'recursive': True, 'limit': None}}",
        [("list_dir", {"path": ".", "recursive": True, "limit": None})],
    ),
    (
        "python-literal-in-qwen-tag",
        "<tool_call>\n{'name': 'shell', 'arguments': {'command': 'ps aux'}}\n</tool_call>",
        [("shell", {"command": "ps aux"})],
    ),
    (
        "trailing-commas",
        '{"name": "read_file", "arguments": {"path": "a.txt",},}',
        [("read_file", {"path": "a.txt"})],
    ),
    (
        "trailing-comma-in-list",
        '[{"name": "list_dir", "arguments": {"path": "x"}},]',
        [("list_dir", {"path": "x"})],
    ),
    (
        "raw-newline-in-string",
        '{"name": "write_file", "arguments": {"path": "a.sh", "content": "#!/bin/sh\necho hi\n"}}',
        [("write_file", {"path": "a.sh", "content": "#!/bin/sh\necho hi\n"})],
    ),
    (
        "raw-newline-in-arguments-string",
        '{"name": "shell", "arguments": "{\\"command\\": \\"ls\nwc -l\\"}"}',
        [("shell", {"command": "ls\nwc -l"})],
    ),
    (
        "apostrophe-in-prose-before-call",
        "I'll check it: {'name': 'list_dir', 'arguments': {'path': 'src'}}",
        [("list_dir", {"path": "src"})],
    ),
    (
        "order-mixed-dialects",
        '{"name": "read_file", "arguments": {"path": "a"}}\nlist_dir(path="b")',
        [("read_file", {"path": "a"}), ("list_dir", {"path": "b"})],
    ),
    # Not calls.
    (
        "description-list",
        '[{"name": "shell", "description": "Run a shell command"}, '
        '{"name": "read_file", "description": "Read a file"}]',
        [],
    ),
    (
        "openai-tools-echo",
        '[{"type": "function", "function": {"name": "read_file", "description": "Read a file", '
        '"parameters": {"type": "object", "properties": {"path": {"type": "string"}}, '
        '"required": ["path"]}}}]',
        [],
    ),
    (
        "schema-echo-arguments",
        '{"name": "shell", "arguments": {"type": "object", "properties": {"command": '
        '{"type": "string"}}, "required": ["command"]}}',
        [],
    ),
    (
        "schema-echo-bare-type",
        '{"name": "list_dir", "parameters": {"type": "object", "required": []}}',
        [],
    ),
    ("name-only-json", '{"name": "list_dir"}', []),
    ("name-only-prose", "I could use `list_dir` or `read_file` to look around.", []),
    ("call-inside-prose", "You could run list_dir(path='.') to see what is there.", []),
    ("python-variable-argument", "```tool_code\nread_file(path=p)\n```", []),
    ("python-positional-argument", '```tool_code\nread_file("a.txt")\n```', []),
    ("python-unknown-tool", '```tool_code\ndelete_all(path=".")\n```', []),
    ("python-star-kwargs", "read_file(**{'path': 'a'})", []),
    ("python-expression-argument", 'shell(command="ls " + "-la")', []),
    ("python-not-a-namespace", 'os.shell(command="ls")', []),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in DIALECTS], ids=[c[0] for c in DIALECTS]
)
def test_recover_dialects(text: str, expected: list[tuple[str, dict]]) -> None:
    calls = recover_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in calls] == expected
    assert [c.id for c in calls] == [f"recovered_{i}" for i in range(1, len(calls) + 1)]


def test_at_least_25_new_dialect_cases() -> None:
    assert len(DIALECTS) >= 25
    assert sum(1 for c in DIALECTS if not c[2]) >= 8  # each negative kind is covered


def test_python_calls_are_parsed_never_evaluated(tmp_path) -> None:
    marker = tmp_path / "evaluated"
    texts = [
        f"```tool_code\nshell(command=__import__('os').system('touch {marker}'))\n```",
        f"[__import__('os').system('touch {marker}')]",
        "{'name': 'shell', 'arguments': {'command': "
        + f"__import__('os').system('touch {marker}')}}",
        f"print(default_api.shell(command=open('{marker}', 'w').write('x')))",
    ]
    for text in texts:
        assert recover_tool_calls(text, TOOLS) == []
    assert not marker.exists()


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
