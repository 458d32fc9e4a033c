"""Run a shell command for the heartbeat: own process group, no secrets, killed on timeout.

Used by shell checks (low risk by configuration) and by suggested actions a human approved.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

OUTPUT_TAIL = 400  # characters of shell output kept in a result
# Deny by default: a child sees this environment and nothing of the bot's (no tokens, no keys).
SAFE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}


@dataclass(frozen=True, slots=True)
class ShellOutcome:
    """Exit code (None when killed on timeout) and the tail of combined output."""

    exit_code: int | None
    output: str
    timed_out: bool = False


async def run_shell(command: str, *, cwd: Path | str, timeout: float) -> ShellOutcome:
    """Run ``command`` with bash in its own process group; kill the whole group on timeout."""
    home = str(cwd)
    proc = await asyncio.create_subprocess_exec(
        "/bin/bash",
        "-c",
        command,
        cwd=home,
        env={**SAFE_ENV, "HOME": home},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # own process group, so a timeout kills grandchildren too
    )
    try:
        async with asyncio.timeout(timeout):
            out, _ = await proc.communicate()
    except TimeoutError:
        _kill_group(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            await proc.wait()
        return ShellOutcome(None, f"timed out after {timeout:g}s", timed_out=True)
    except asyncio.CancelledError:
        _kill_group(proc.pid)
        raise
    text = out.decode("utf-8", "replace").strip()
    return ShellOutcome(proc.returncode, text[-OUTPUT_TAIL:])


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
