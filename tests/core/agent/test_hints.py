"""One-line hints for common tool errors."""

from __future__ import annotations

import pytest

from core.agent.hints import HINTS, hint_for, with_hint

SAMPLES = [
    ("ModuleNotFoundError: No module named 'yaml'", "pip install"),
    ("Traceback ...\nKeyError: 'port'", "dict key"),
    ("PermissionError: [Errno 13] Permission denied: '/etc/shadow'", "permission denied"),
    ("bash: line 1: jq: command not found", "not installed"),
    ("sh: 1: rg: not found", "not installed"),
    ("cat: missing.txt: No such file or directory", "does not exist"),
    ("OSError: [Errno 98] Address already in use", "port is taken"),
    ("curl: (7) Failed to connect to localhost port 80: Connection refused", "nothing listens"),
    ('  File "a.py", line 3\nSyntaxError: invalid syntax', "does not parse"),
    ("IndentationError: unexpected indent", "indentation"),
    ("ImportError: cannot import name 'foo' from 'bar'", "not in that module"),
    ("subprocess.TimeoutExpired: Command 'x' timed out after 30 seconds", "timed out"),
    ("write error: No space left on device", "disk is full"),
    ("cat: src: Is a directory", "directory"),
    ("json.decoder.JSONDecodeError: Expecting value: line 1 column 1", "valid JSON"),
    ("fatal: not a git repository (or any of the parent directories): .git", "git"),
    ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock", "Docker"),
]


def test_at_least_twelve_patterns() -> None:
    assert len(HINTS) >= 12


@pytest.mark.parametrize(("output", "needle"), SAMPLES)
def test_hint_for_known_errors(output: str, needle: str) -> None:
    hint = hint_for(output)
    assert hint is not None and needle.lower() in hint.lower()
    assert "\n" not in hint


def test_no_hint_for_clean_output() -> None:
    assert hint_for("total 8\n-rw-r--r-- 1 ana ana 12 app.toml") is None
    assert with_hint("all good") == "all good"


def test_with_hint_appends_one_line() -> None:
    out = with_hint("cat: x: No such file or directory")
    assert out.splitlines()[-1].startswith("hint: ")
