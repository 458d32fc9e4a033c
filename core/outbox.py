"""Outbox: notices that must reach a chat once its platform is connected (restart notices)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from core.clock import SystemClock
from core.ports import ChatAdapter, Clock

log = logging.getLogger(__name__)

MAX_AGE = 24 * 3600.0  # a notice older than a day is no longer worth telling
POLL = 0.1  # seconds between two looks at a platform that is not connected yet
BACKOFF_START = 1.0
BACKOFF_MAX = 300.0

Delivery = Callable[[ChatAdapter], Awaitable[None]]


@dataclass
class _Notice:
    name: str  # for logs: "interrupted task 1a2b", "stale approval x1y2"
    deliver: Delivery
    queued_at: float


class Outbox:
    """Queues notices per platform; each platform's worker delivers them after it connects.

    A failed delivery is retried with a growing pause, in order, until it is delivered or a day
    has passed. ``start``/``stop`` make it an app service; ``wait_empty`` is for tests.
    """

    def __init__(
        self,
        adapters: Mapping[str, ChatAdapter],
        *,
        clock: Clock | None = None,
        max_age: float = MAX_AGE,
    ) -> None:
        self._adapters = adapters
        self._clock = clock or SystemClock()
        self._max_age = max_age
        self._queues: dict[str, deque[_Notice]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._running = False
        self.delivered = 0
        self.dropped = 0

    def put(self, platform: str, name: str, deliver: Delivery) -> None:
        """Queue a notice for ``platform``; dropped (logged) when it has no adapter."""
        if platform not in self._adapters:
            log.warning("no adapter for %s: dropped %s", platform, name)
            self.dropped += 1
            return
        self._queues.setdefault(platform, deque()).append(
            _Notice(name, deliver, self._clock.monotonic())
        )
        if self._running:
            self._spawn(platform)

    def pending(self, platform: str | None = None) -> int:
        """Notices not delivered yet (for one platform, or all)."""
        if platform is not None:
            return len(self._queues.get(platform, ()))
        return sum(len(q) for q in self._queues.values())

    async def start(self) -> None:
        """Start delivering (one worker per platform with notices)."""
        self._running = True
        for platform in list(self._queues):
            self._spawn(platform)

    async def stop(self) -> None:
        """Stop the workers; undelivered notices are logged."""
        self._running = False
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for platform, queue in self._queues.items():
            for notice in queue:
                log.warning("not delivered on %s before shutdown: %s", platform, notice.name)

    async def wait_empty(self) -> None:
        """Wait until every queued notice is delivered or dropped."""
        while self.pending():
            await asyncio.sleep(0.01)

    def _spawn(self, platform: str) -> None:
        worker = self._workers.get(platform)
        if worker is None or worker.done():
            self._workers[platform] = asyncio.create_task(
                self._work(platform), name=f"outbox:{platform}"
            )

    async def _work(self, platform: str) -> None:
        adapter = self._adapters[platform]
        queue = self._queues[platform]
        backoff = BACKOFF_START
        while queue:
            notice = queue[0]
            if self._clock.monotonic() - notice.queued_at > self._max_age:
                log.warning("gave up telling %s: %s (older than a day)", platform, notice.name)
                queue.popleft()
                self.dropped += 1
                continue
            if not adapter.connected:
                await self._clock.sleep(POLL)
                continue
            try:
                await notice.deliver(adapter)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "could not deliver %s on %s (%s); retrying in %.0fs",
                    notice.name,
                    platform,
                    exc,
                    backoff,
                )
                await self._clock.sleep(backoff)
                backoff = min(BACKOFF_MAX, backoff * 2)
                continue
            queue.popleft()
            self.delivered += 1
            backoff = BACKOFF_START
