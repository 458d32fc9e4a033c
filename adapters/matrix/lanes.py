"""Lanes: inbound events handled concurrently across threads, in arrival order within one.

The sync loop hands every event to a lane named by its thread (or, for reactions, by the
message reacted to) and goes on syncing: a slow handler delays only the events behind it in the
same lane. At most ``limit`` handlers run at once; the rest wait their turn in their lane, and
past ``max_pending`` waiting events the sync loop waits too (the homeserver keeps the rest).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
Done = Callable[[bool], None]  # called with whether the job ran to its end


class Lanes:
    """Runs jobs in per-key FIFO order, different keys concurrently, ``limit`` at a time."""

    def __init__(self, limit: int = 64, max_pending: int = 1024) -> None:
        if limit < 1 or max_pending < 1:
            raise ValueError("lane limits must be at least 1")
        self._slots = asyncio.Semaphore(limit)
        self._max_pending = max_pending
        self._queues: dict[str, deque[tuple[Job, Done]]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._pending = 0
        self._room = asyncio.Event()
        self._room.set()
        self._closed = False

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet finished (running or waiting)."""
        return self._pending

    def submit(self, key: str, job: Job, done: Done) -> None:
        """Queue ``job`` behind the jobs of lane ``key``; ``done(ran)`` is called when it ends.

        ``done`` runs however the job ends, so the caller's bookkeeping never waits on a job
        that will not finish: ``ran`` is True when it returned or raised, False when it was
        cancelled or never started.
        """
        if self._closed:
            raise RuntimeError("the lanes are closed")
        self._pending += 1
        if self._pending >= self._max_pending:
            self._room.clear()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append((job, done))  # its worker is running and will get to it
            return
        self._queues[key] = deque([(job, done)])
        worker = asyncio.create_task(self._work(key), name=f"matrix-lane:{key}")
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def wait_for_room(self) -> None:
        """Return once fewer than ``max_pending`` jobs are waiting or running."""
        await self._room.wait()

    async def _work(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                job, done = queue[0]
                ran = False
                try:
                    async with self._slots:
                        await job()
                    ran = True
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # One bad event must not stop its lane (and so every later message there).
                    ran = True
                    log.exception("matrix: handling an event failed")
                finally:
                    queue.popleft()
                    self._finished(done, ran)
        finally:
            # Cancelled: the jobs still queued will never run; their bookkeeping ends too.
            while queue:
                _, done = queue.popleft()
                self._finished(done, False)
            del self._queues[key]

    def _finished(self, done: Done, ran: bool) -> None:
        self._pending -= 1
        if self._pending < self._max_pending:
            self._room.set()
        try:
            done(ran)
        except Exception:
            log.exception("matrix: event bookkeeping failed")

    async def close(self, grace: float) -> None:
        """Refuse new jobs, give running ones ``grace`` seconds, then cancel and await the rest."""
        self._closed = True
        try:
            if self._workers:
                await asyncio.wait(set(self._workers), timeout=grace)
        finally:
            workers = set(self._workers)
            for worker in workers:
                worker.cancel()
            if workers:
                await asyncio.wait(workers)
