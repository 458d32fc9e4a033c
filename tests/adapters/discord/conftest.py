"""Fixtures for the Discord suite: a loopback fake Discord and a running adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from adapters.discord import DiscordAdapter
from core.events import Event
from core.ports import Capabilities, EventSink
from tests.fakes.discord import ALICE, TOKEN, FakeDiscord

FAST = Capabilities(max_message_chars=2000, min_edit_interval=0.02, buttons=True)
APPROVERS = frozenset({f"discord:{ALICE['id']}"})


class RecordingSink:
    """An event sink that records what the adapter delivered."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        """Delivered events of one type."""
        return [e for e in self.events if isinstance(e, kind)]


def make_adapter(**overrides: object) -> DiscordAdapter:
    """An adapter tuned for fast tests (tiny guild_ready_timeout and edit pacing)."""
    kwargs: dict = {
        "token": TOKEN,
        "capabilities": FAST,
        "client_options": {"guild_ready_timeout": 0.05},
    }
    kwargs.update(overrides)
    return DiscordAdapter(**kwargs)  # type: ignore[arg-type]


@asynccontextmanager
async def running(
    adapter: DiscordAdapter, sink: EventSink | Callable[[Event], Awaitable[None]]
) -> AsyncIterator[DiscordAdapter]:
    """Run the adapter as a named task until the block ends, then cancel it cleanly."""
    task = asyncio.create_task(adapter.run(sink), name="discord-adapter-under-test")
    try:
        async with asyncio.timeout(5):
            while not adapter.connected:
                if task.done():
                    task.result()  # surface the failure
                await asyncio.sleep(0.01)
        yield adapter
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fresh fake Discord; discord.py is redirected to it for the test only."""
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def sink() -> RecordingSink:
    """A recording event sink."""
    return RecordingSink()
