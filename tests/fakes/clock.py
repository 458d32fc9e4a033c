"""A fake clock: time moves only when a test (or a fake sleep) moves it."""

from __future__ import annotations

import asyncio


class FakeClock:
    """Implements core.ports.Clock; ``sleep`` advances time instead of waiting."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._mono = 1000.0
        self._wall = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Fake monotonic seconds."""
        return self._mono

    def now(self) -> float:
        """Fake epoch seconds."""
        return self._wall

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        self._mono += seconds
        self._wall += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the sleep, advance time, and yield to the loop once."""
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)
