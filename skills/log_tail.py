"""A log tail with a grep."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path

from core.skills.api import SkillResult, fail, ok

NAME = "log_tail"
DESCRIPTION = "The last lines of a log file, optionally only those matching a pattern (regex)."
PARAMS = {
    "type": "object",
    "properties": {
        "path": {
            "type": "string",
            "description": "the log file (relative to the workspace)",
            "pattern": r"[/.]",
        },
        "pattern": {"type": "string", "description": "keep only lines matching this regex"},
        "lines": {"type": "integer", "minimum": 1, "maximum": 500, "default": 30},
    },
    "required": ["path"],
}
EXAMPLES = [
    "tail {path}",
    "show the last lines of {path}",
    "tail {path} for {pattern}",
    "grep {pattern} in {path}",
    "errors in {path}",
    "show {pattern} lines in {path}",
]
_READ_LIMIT = 32 * 1024 * 1024  # bytes read from the end of a big log


def run(params: dict) -> SkillResult:
    path = Path(str(params["path"]))
    count = int(params.get("lines", 30))
    pattern = params.get("pattern")
    try:
        regex = re.compile(pattern, re.IGNORECASE) if pattern else None
    except re.error as exc:
        return fail(f"bad pattern {pattern!r}: {exc}")
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            f.seek(max(0, size - _READ_LIMIT))
            data = f.read()
    except OSError as exc:
        return fail(f"cannot read {path}: {exc.strerror or exc}")
    text = data.decode("utf-8", errors="replace")
    last: deque[str] = deque(maxlen=count)
    matched = 0
    for line in text.splitlines():
        if regex is None or regex.search(line):
            matched += 1
            last.append(line)
    if regex is not None and not matched:
        return ok(f"No lines of {path} match {pattern!r}.")
    what = f"matching {pattern!r} " if regex else ""
    head = f"Last {len(last)} line(s) {what}of {path}" + (f" ({matched} matched)" if regex else "")
    body = "\n".join(line[:500] for line in last).replace("```", "`\u200b``")
    return ok(f"{head}:\n```\n{body}\n```")
