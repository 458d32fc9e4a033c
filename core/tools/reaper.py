"""Finding and killing what a tool process left behind: at the end of its task and after a crash.

Every process hearth starts carries ``HEARTH_PROCESS=<token>`` in its environment, which its
children inherit even when they leave the process group (``setsid``). The token and the group are
recorded (SQLite, through a ProcessLedger) while the process runs, so the next start of hearth
finds leftovers of a run that was killed with ``kill -9``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

MARKER = "HEARTH_PROCESS"


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """One running process group started by hearth."""

    pgid: int
    token: str
    owner: str  # task id, "heartbeat", a skill name
    host: bool  # approved, on the host (not confined)


class ProcessLedger(Protocol):
    """Where running process groups are recorded for crash recovery."""

    async def add(self, record: ProcessRecord) -> None:
        """Record a started group."""
        ...

    async def remove(self, pgid: int) -> None:
        """Forget a finished group."""
        ...

    async def all(self) -> list[ProcessRecord]:
        """Every group still recorded."""
        ...


def marked(tokens: Iterable[str]) -> dict[int, str]:
    """Pids of live processes whose environment carries one of ``tokens``."""
    wanted = {f"{MARKER}={t}".encode(): t for t in tokens}
    if not wanted:
        return {}
    found: dict[int, str] = {}
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return {}
    for name in entries:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as fh:
                env = fh.read()
        except OSError:
            continue
        for item in env.split(b"\0"):
            if item in wanted:
                found[int(name)] = wanted[item]
                break
    return found


def _kill(pid: int) -> bool:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        # Its group too: a marked process that left with setsid leads a group of its own.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
        return True
    return False


class Reaper:
    """Records groups while they run; kills marked leftovers on request and after a crash."""

    def __init__(self, ledger: ProcessLedger | None) -> None:
        self._ledger = ledger

    async def started(self, pgid: int, token: str, owner: str, *, host: bool) -> None:
        """A group started: record it."""
        if self._ledger is not None:
            await self._ledger.add(ProcessRecord(pgid, token, owner, host))

    async def ended(self, pgid: int, token: str) -> None:
        """A group ended (and was killed): forget it."""
        if self._ledger is not None:
            await self._ledger.remove(pgid)

    def kill_marked(self, token: str) -> int:
        """Kill every live process carrying ``token`` (children that left the group)."""
        killed = sum(_kill(pid) for pid in marked([token]))
        if killed:
            log.info("killed %d process(es) that outlived their command", killed)
        return killed

    async def recover(self) -> int:
        """Kill leftovers of recorded groups from an earlier run; forget the records."""
        if self._ledger is None:
            return 0
        records = await self._ledger.all()
        if not records:
            return 0
        killed = 0
        for pid in marked(r.token for r in records):
            killed += _kill(pid)
        for r in records:
            await self._ledger.remove(r.pgid)
        if killed:
            log.warning("killed %d process(es) left over from a previous run", killed)
        return killed
