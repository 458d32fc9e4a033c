"""A confined process started ahead of its job: it waits for its stdin, runs once, and ends.

``Sandbox.prestart`` makes one; whoever holds it either runs it once or closes it. Either way
its whole process group is killed at the end, as for any process the sandbox starts.
"""

from __future__ import annotations

from collections.abc import Callable

from core.tools.process import ProcessResult, Started


class WarmProcess:
    """A pre-started confined process: ``run`` gives it its stdin once; ``close`` discards it."""

    def __init__(self, started: Started, timeout: float, *, fresh: Callable[[], bool]) -> None:
        self._started = started
        self.timeout = timeout
        self._fresh = fresh

    @property
    def pid(self) -> int:
        """Its pid on the host, which is also its process group id."""
        return self._started.pid

    @property
    def usable(self) -> bool:
        """Still waiting for its job, and confined as the sandbox would confine it now."""
        return self._started.running and self._fresh()

    async def ready(self) -> bool:
        """Wait until its start-up work is done; False when it ended instead."""
        return await self._started.ready()

    async def run(self, stdin: bytes) -> ProcessResult:
        """Give it ``stdin`` and wait up to its timeout for its exit; its group is killed after."""
        return await self._started.finish(timeout=self.timeout, stdin=stdin)

    async def close(self) -> None:
        """Kill it and its group unused."""
        await self._started.close()
