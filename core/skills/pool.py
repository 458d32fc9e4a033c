"""WarmPool: skill children started ahead of their request, one request each.

Starting a sandboxed Python child costs more than most skills take to run. The pool keeps a
few children started (sandbox set up, interpreter and the contract imported) and waiting for
their request on stdin. A child is taken for one run and never reused, so nothing of one run
reaches the next; a replacement is started in the background once the run is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Worker(Protocol):
    """One pre-started child (core.tools.warm.WarmProcess fits)."""

    @property
    def usable(self) -> bool:
        """Still waiting, and confined as the sandbox would confine it now."""
        ...

    async def ready(self) -> bool:
        """Wait for its start-up work; False when it ended instead."""
        ...

    async def close(self) -> None:
        """Kill it unused."""
        ...


class WarmPool:
    """Keeps ``size`` workers started; each is handed out once."""

    def __init__(self, start: Callable[[], Awaitable[Worker]], size: int = 1) -> None:
        self._start = start
        self.size = size
        self._idle: deque[Worker] = deque()
        self._filling: asyncio.Task[None] | None = None
        self._starting: asyncio.Future[Worker] | None = None
        self._closed = False

    async def start(self) -> None:
        """Fill the pool at startup: the workers are started (and recorded) when this returns,
        their start-up work goes on in the background."""
        self.refill()
        if self._filling is not None:
            await asyncio.wait({self._filling})

    async def stop(self) -> None:
        """Kill every waiting worker; later takes get none."""
        await self.close()

    async def take(self) -> Worker | None:
        """A worker for one run: a waiting one, else one started now; None to run cold.

        None when the pool is closed or off, when starting one fails, and when the waiting
        one no longer matches the sandbox (it is discarded: the caller runs today's way).
        """
        if self._closed or self.size <= 0:
            return None
        if not self._idle and self._starting is not None and not self._starting.done():
            # A replacement is under way (requests back to back): sooner than a new start.
            await asyncio.wait({self._starting})
        while self._idle:
            worker = self._idle.popleft()
            if worker.usable:
                return worker
            await worker.close()
            return None  # a setting changed under it: this run starts the usual way
        try:
            return await self._start()
        except Exception:
            log.warning("could not start a skill worker; running cold", exc_info=True)
            return None

    def refill(self) -> None:
        """Start replacements in the background up to ``size`` waiting workers."""
        if self._closed or self.size <= 0 or (self._filling and not self._filling.done()):
            return
        self._filling = asyncio.create_task(self._fill(), name="skills:warm-pool")

    async def _fill(self) -> None:
        while not self._closed and len(self._idle) < self.size:
            self._starting = asyncio.ensure_future(self._start())
            try:
                worker = await self._starting
            except Exception:
                log.warning("could not start a skill worker", exc_info=True)
                return
            if self._closed:
                await worker.close()
                return
            self._idle.append(worker)

    async def ready(self) -> None:
        """Wait until the pool is full and every waiting worker has done its start-up work."""
        while self._filling is not None and not self._filling.done():
            await asyncio.wait({self._filling})
        for worker in list(self._idle):
            await worker.ready()

    @property
    def waiting(self) -> int:
        """Workers started and not yet handed out."""
        return len(self._idle)

    async def close(self) -> None:
        """Kill every waiting worker and stop refilling."""
        self._closed = True
        if self._filling is not None:
            self._filling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._filling
        while self._idle:
            await self._idle.popleft().close()
