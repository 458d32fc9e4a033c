"""Outbox: notices that must reach a chat once its platform is connected (restart notices).

With a store, every notice is kept in SQLite until it is delivered or given up, so a second
restart before the platform comes back does not lose it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from core.clock import SystemClock
from core.notices import Notice, dump, load
from core.ports import ChatAdapter, Clock
from core.storage.outbox import OutboxStore

log = logging.getLogger(__name__)

MAX_AGE = 24 * 3600.0  # a notice older than a day is no longer worth telling
POLL = 0.1  # seconds between two looks at a platform that is not connected yet
BACKOFF_START = 1.0
BACKOFF_MAX = 300.0

_LAST = float("inf")


@dataclass
class _Waiting:
    name: str  # for logs: "interrupted task 1a2b", "stale approval x1y2"
    deliver: Notice
    queued_at: float  # wall clock: a stored notice outlives the process
    stored: int | None = None  # its row in the store

    @property
    def order(self) -> float:
        return _LAST if self.stored is None else self.stored


class Outbox:
    """Queues notices per platform; each platform's worker delivers them after it connects.

    A failed delivery is retried with a growing pause, in order, until it is delivered or a day
    has passed. ``start``/``stop`` make it an app service; ``wait_empty`` is for tests.
    """

    def __init__(
        self,
        adapters: Mapping[str, ChatAdapter],
        *,
        store: OutboxStore | None = None,
        clock: Clock | None = None,
        max_age: float = MAX_AGE,
    ) -> None:
        self._adapters = adapters
        self._store = store  # None: notices live in memory only (tests)
        self._clock = clock or SystemClock()
        self._max_age = max_age
        self._queues: dict[str, deque[_Waiting]] = {}
        self._known: set[int] = set()  # stored notices already queued
        self._forgets: set[asyncio.Future[None]] = set()  # deletes of told notices in flight
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._running = False
        self.delivered = 0
        self.dropped = 0

    async def put(self, platform: str, name: str, notice: Notice) -> None:
        """Keep and queue a notice for ``platform``; dropped (logged) when it has no adapter."""
        if platform not in self._adapters:
            log.warning("no adapter for %s: dropped %s", platform, name)
            self.dropped += 1
            return
        waiting = _Waiting(name, notice, self._clock.now())
        if self._store is not None:
            kind, payload = dump(notice)
            waiting.stored = await self._store.add(
                platform=platform, name=name, kind=kind, payload=payload, at=waiting.queued_at
            )
            self._known.add(waiting.stored)
        self._queues.setdefault(platform, deque()).append(waiting)
        if self._running:
            self._spawn(platform)

    def pending(self, platform: str | None = None) -> int:
        """Notices not delivered yet (for one platform, or all)."""
        if platform is not None:
            return len(self._queues.get(platform, ()))
        return sum(len(q) for q in self._queues.values())

    async def start(self) -> None:
        """Queue what an earlier run left undelivered, then deliver (a worker per platform)."""
        if self._store is not None:
            await self._reload(self._store)
        self._running = True
        for platform in list(self._queues):
            self._spawn(platform)

    async def _reload(self, store: OutboxStore) -> None:
        for row in await store.waiting():
            if row.id in self._known:
                continue
            if self._clock.now() - row.queued_at > self._max_age:
                log.warning("gave up telling %s: %s (older than a day)", row.platform, row.name)
                await store.remove(row.id)
                continue
            if row.platform not in self._adapters:
                log.info("kept for when %s is configured again: %s", row.platform, row.name)
                continue
            try:
                notice = load(row.kind, row.payload)
            except ValueError as exc:
                log.warning("dropped %s: %s", row.name, exc)
                await store.remove(row.id)
                continue
            self._known.add(row.id)
            self._queues.setdefault(row.platform, deque()).append(
                _Waiting(row.name, notice, row.queued_at, row.id)
            )
        for platform, queue in self._queues.items():
            self._queues[platform] = deque(sorted(queue, key=lambda w: w.order))

    async def stop(self) -> None:
        """Stop the workers; undelivered notices are logged."""
        self._running = False
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await asyncio.gather(*self._forgets, return_exceptions=True)
        for platform, queue in self._queues.items():
            for notice in queue:
                log.warning("not delivered on %s before shutdown: %s", platform, notice.name)

    async def wait_empty(self) -> None:
        """Wait until every queued notice is delivered or dropped."""
        while self.pending() or self._forgets:
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
            if self._clock.now() - notice.queued_at > self._max_age:
                log.warning("gave up telling %s: %s (older than a day)", platform, notice.name)
                self.dropped += 1
                await self._forget(queue.popleft())
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
            self.delivered += 1
            backoff = BACKOFF_START
            await self._forget(queue.popleft())

    async def _forget(self, notice: _Waiting) -> None:
        if self._store is None or notice.stored is None:
            return
        # Shielded: a stop right after a delivery must not leave it stored (told twice).
        forget = asyncio.ensure_future(self._remove(self._store, notice))
        self._forgets.add(forget)
        forget.add_done_callback(self._forgets.discard)
        await asyncio.shield(forget)

    async def _remove(self, store: OutboxStore, notice: _Waiting) -> None:
        assert notice.stored is not None
        try:
            await store.remove(notice.stored)
        except Exception:
            # Kept: it is told once more after the next restart rather than never.
            log.warning("could not forget %s", notice.name, exc_info=True)
