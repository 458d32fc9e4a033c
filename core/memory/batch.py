"""GroupCommit: writes that arrive while one is being stored are stored together, next.

A Chroma add costs about 4 ms of CPU whatever it holds (its Rust core makes some 270 thread
hand-offs and 8 fsyncs per call), and an embed request costs a round trip. Tasks that end
together (a burst of mentions) then share one embed request and one add. Nothing waits for
company: a write that finds the store idle is stored at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_BATCH = 64  # entries per flush: one embed request stays small


class GroupCommit(Generic[T]):
    """Queues items and hands them to ``flush`` in batches, one flush at a time."""

    def __init__(self, flush: Callable[[Sequence[T]], Awaitable[None]], *, name: str) -> None:
        self._flush = flush
        self._name = name
        self._queue: list[tuple[T, asyncio.Future[None]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def put(self, item: T) -> None:
        """Store ``item`` with whatever else is queued; raises what its flush raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_retrieved)
        self._queue.append((item, done))
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name=self._name)
        # Shielded: a caller that gives up does not take the batch (or its item) with it.
        await asyncio.shield(done)

    async def _run(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    await self._flush([item for item, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                except BaseException:
                    self._queue[:0] = batch  # cancelled: every waiter is told below
                    raise
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
        finally:
            self._worker = None
            for _, done in self._queue:
                done.cancel()
            self._queue = []


def _retrieved(done: asyncio.Future[None]) -> None:
    # A caller that gave up never reads its outcome: read it here, so asyncio logs nothing.
    if not done.cancelled():
        done.exception()
