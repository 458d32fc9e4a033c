"""Run a shell command for the heartbeat: through the sandbox, no secrets, killed on timeout.

Used by shell checks (low risk by configuration, confined like any unapproved command) and by
suggested actions a human approved (on the host, as approved).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.tools.sandbox import Sandbox, SandboxRunner

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


async def run_shell(
    command: str,
    *,
    cwd: Path | str,
    timeout: float,
    sandbox: SandboxRunner | None = None,
    approved: bool = False,
) -> ShellOutcome:
    """Run ``command`` with bash: confined unless ``approved``; the whole tree dies after."""
    home = Path(cwd)
    runner = sandbox if sandbox is not None else Sandbox("auto", workspace=home)
    start = runner.run_host if approved else runner.run
    result = await start(
        ["/bin/bash", "-c", command],
        cwd=home,
        env={**SAFE_ENV, "HOME": str(home)},
        timeout=timeout,
        owner="heartbeat",
    )
    if result.timed_out:
        return ShellOutcome(None, f"timed out after {timeout:g}s", timed_out=True)
    text = (result.stdout + result.stderr).strip()
    return ShellOutcome(result.exit_code, text[-OUTPUT_TAIL:])
