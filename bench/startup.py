"""startup: how soon `hearth chat` is ready for the first line, as a person at a terminal sees it.

The real command (``python -m bot chat``) runs in a pseudo-terminal (pexpect), in an empty
directory with its own data dir and an unreachable Ollama. Ready = the prompt ("›") is drawn
and a key typed at it is shown (the prompt really takes input), measured from spawn. Then
``help`` is sent at once: "answered" is when its reply is on the terminal (the core is up).
One unrecorded start first creates the database and the bytecode, so the runs measure what a
person gets every day. Then Ctrl-D ends each run. No health server (the default): aiohttp is
not part of the terminal chat.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Table, percentile, verdict

NAME = "startup"
TARGET_S = 0.5
RUNS = 15
SMOKE_RUNS = 1
TIMEOUT = 60.0  # seconds; a start that hangs fails the benchmark instead
PROMPT = "›"
CPR = "\x1b[6n"  # prompt_toolkit asks where the cursor is; a real terminal answers
KEY = "¤"  # typed at the prompt: ready once it is shown (no other output carries it)
HELP_REPLY = "tasks running and queued"  # a line of `help`'s answer
NOTE = (
    "`python -m bot chat` in a pty, empty cwd, warm data dir, unreachable Ollama; "
    "ready = the prompt is drawn and a key typed at it is shown, from spawn (entries before "
    "2026-11-30 23:00 UTC: the prompt drawn only); answered = `help`, sent right then, "
    "answered on the terminal; the cursor-position query is answered at once "
    "(startup entries before 2026-11-30 20:55 UTC count the 50 ms pexpect first slept); "
    "CPU = the child's user+system time at ready "
    "(less sensitive than wall time to other load on the machine)"
)
ROOT = Path(__file__).resolve().parent.parent


def _env(data_dir: Path) -> dict[str, str]:
    """A minimal environment: no credentials or settings leak in from the caller's."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME", "TMPDIR")}
    return {
        **keep,
        "PYTHONPATH": str(ROOT),
        "HEARTH_DATA_DIR": str(data_dir),
        "OLLAMA_HOST": "http://127.0.0.1:9",  # nothing in a benchmark talks to a real model
        "LOG_LEVEL": "WARNING",
        "TERM": "xterm",
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (NaN without /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_once(cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """(seconds from spawn to ready, CPU seconds by then, seconds from spawn to `help`
    answered); then Ctrl-D ends the chat."""
    import pexpect

    started = time.perf_counter()
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot", "chat"],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(40, 120),
    )
    # A terminal answers the cursor-position query at once; pexpect would first sleep 50 ms
    # before every send (its delaybeforesend), and the prompt is drawn after the answer.
    child.delaybeforesend = None
    try:
        while child.expect_exact([CPR, PROMPT]) == 0:
            child.send("\x1b[1;1R")
        child.send(KEY)
        while child.expect_exact([CPR, KEY]) == 0:
            child.send("\x1b[1;1R")
        ready = time.perf_counter() - started
        cpu = _cpu_seconds(child.pid)
        child.send("\x7fhelp\r")  # the key erased, then a command the core answers
        while child.expect_exact([CPR, HELP_REPLY]) == 0:
            child.send("\x1b[1;1R")
        answered = time.perf_counter() - started
        child.sendeof()
        while child.expect_exact([CPR, pexpect.EOF]) == 0:  # asked again after the output
            child.send("\x1b[1;1R")
    except pexpect.ExceptionPexpect as exc:
        raise RuntimeError(f"hearth chat did not show its prompt: {child.before!r}") from exc
    finally:
        child.close(force=True)
    return ready, cpu, answered


HEADERS = [
    "command",
    "runs",
    "ready p50 s",
    "ready p99 s",
    "min s",
    "max s",
    "CPU to ready p50 s",
    "answered p50 s",
    f"p50 ≤ {TARGET_S} s",
]


def run(smoke: bool = False) -> Table:
    """Start `hearth chat` RUNS times after one unrecorded start; p50/p99 of time to ready."""
    runs = SMOKE_RUNS if smoke else RUNS
    with tempfile.TemporaryDirectory(prefix="hearth-bench-startup-") as tmp:
        cwd, data = Path(tmp) / "cwd", Path(tmp) / "data"
        cwd.mkdir()
        env = _env(data)
        _start_once(cwd, env)  # creates the database and the bytecode caches
        measured = [_start_once(cwd, env) for _ in range(runs)]
    times = [ready for ready, _, _ in measured]
    p50 = percentile(times, 50)
    row = [
        "hearth chat",
        str(runs),
        f"{p50:.3f}",
        f"{percentile(times, 99):.3f}",
        f"{min(times):.3f}",
        f"{max(times):.3f}",
        f"{percentile([cpu for _, cpu, _ in measured], 50):.3f}",
        f"{percentile([answered for _, _, answered in measured], 50):.3f}",
        verdict(p50 <= TARGET_S),
    ]
    return HEADERS, [row]
