"""A fake clock: time moves only when a test (or, in auto mode, a fake sleep) moves it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class FakeClock:
    """Implements core.ports.Clock without real waiting.

    ``auto_advance=True`` (default): ``sleep`` advances time by itself and returns at once.
    ``auto_advance=False``: ``sleep`` blocks until the test moves time past its deadline with
    ``advance`` (virtual time: use ``drive`` to run a coroutine while time passes in steps).
    """

    def __init__(self, start: float = 1_700_000_000.0, *, auto_advance: bool = True) -> None:
        self._mono = 1000.0
        self._wall = start
        self.auto_advance = auto_advance
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        """Fake monotonic seconds."""
        return self._mono

    def now(self) -> float:
        """Fake epoch seconds."""
        return self._wall

    def advance(self, seconds: float) -> None:
        """Move both clocks forward and wake sleepers whose deadline has passed."""
        self._mono += seconds
        self._wall += seconds
        due = [(d, f) for d, f in self._sleepers if d <= self._mono + 1e-9]
        self._sleepers = [(d, f) for d, f in self._sleepers if d > self._mono + 1e-9]
        for _, fut in due:
            if not fut.done():
                fut.set_result(None)

    async def sleep(self, seconds: float) -> None:
        """Record the sleep; advance time (auto mode) or wait for the test to advance it."""
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        if self.auto_advance:
            self.advance(seconds)
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._mono + seconds, fut))
        if seconds == 0:
            self.advance(0)
        await fut

    async def drive(self, aw: Awaitable[T], *, step: float = 0.05, limit: float = 3600) -> T:
        """Run ``aw`` to completion while moving time forward in ``step`` increments."""
        task = asyncio.ensure_future(aw)
        spent = 0.0
        while not task.done():
            for _ in range(20):
                await asyncio.sleep(0)
                if task.done():
                    break
            else:
                if spent >= limit:
                    task.cancel()
                    raise TimeoutError(f"still running after {limit}s of fake time")
                self.advance(step)
                spent += step
        return task.result()
