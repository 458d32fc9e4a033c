"""One-line hints for common error patterns in tool output, appended for the model."""

from __future__ import annotations

import re

# (pattern, hint) — first match wins; patterns are matched case-insensitively.
HINTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), h)
    for p, h in (
        (
            r"ModuleNotFoundError: No module named '?([\w.]+)",
            "a Python module is missing: install it (pip install …) or check the virtualenv",
        ),
        (
            r"KeyError: ",
            "a dict key is missing: print the available keys before indexing",
        ),
        (
            r"PermissionError|Permission denied",
            "permission denied: work inside the workspace or check file modes; do not use sudo",
        ),
        (
            r"command not found|\d+: \S+: not found|is not recognized as an internal",
            "the program is not installed or not on PATH: check with `which NAME` or use "
            "another tool",
        ),
        (
            r"No such file or directory|FileNotFoundError",
            "the path does not exist: list the directory first (list_dir) and use a relative "
            "path inside the workspace",
        ),
        (
            r"address already in use|EADDRINUSE",
            "the port is taken: find the process with `ss -ltnp` or pick another port",
        ),
        (
            r"Connection refused|ECONNREFUSED",
            "nothing listens there: check that the service is running and the host/port",
        ),
        (
            r"SyntaxError",
            "the code does not parse: re-read the file around the reported line",
        ),
        (
            r"IndentationError|TabError",
            "indentation is broken: rewrite the block with consistent 4-space indents",
        ),
        (
            r"ImportError: cannot import name",
            "the name is not in that module (version mismatch?): check the module's API",
        ),
        (
            r"timed out|Timeout(Error|Expired)?",
            "the operation timed out: try a smaller step or a shorter-running command",
        ),
        (
            r"No space left on device",
            "the disk is full: check with `df -h` and clean up before retrying",
        ),
        (
            r"Is a directory",
            "that path is a directory: list it instead of reading it",
        ),
        (
            r"JSONDecodeError|Expecting value: line",
            "the input is not valid JSON: print the raw text first",
        ),
        (
            r"fatal: not a git repository",
            "not inside a git repository: cd into the repository or run `git init`",
        ),
        (
            r"Cannot connect to the Docker daemon|docker: not found",
            "Docker is not available here: do not rely on docker for this task",
        ),
        (
            r"Traceback \(most recent call last\)",
            "a Python exception: read the last line of the traceback for the cause",
        ),
    )
)


def hint_for(output: str) -> str | None:
    """A one-line hint for the first known error pattern in ``output``, or None."""
    for pattern, hint in HINTS:
        if pattern.search(output):
            return hint
    return None


def with_hint(output: str) -> str:
    """``output`` followed by a ``hint:`` line when a known pattern matches."""
    hint = hint_for(output)
    return f"{output}\nhint: {hint}" if hint else output
