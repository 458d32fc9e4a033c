"""Fixtures: a loopback FakeSlack and a real SlackAdapter running against it in either mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.slack import SlackAdapter
from core.events import Event
from core.ports import Capabilities, EventSink
from tests.fakes.slack import FakeSlack

# Small interval so end-to-end streaming finishes fast; the real default is 1.2 s.
FAST = Capabilities(max_message_chars=3000, min_edit_interval=0.05, buttons=True)


class Recorder:
    """An event sink that records what the adapter delivered."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Event]:
        """Wait until at least ``count`` events arrived."""
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.events


@dataclass
class RunningSlack:
    """An adapter running against the fake, with a way to deliver inbound payloads."""

    adapter: SlackAdapter
    fake: FakeSlack
    mode: str  # "socket" | "http"

    @property
    def events_url(self) -> str:
        """Where HTTP Events mode listens."""
        return f"http://127.0.0.1:{self.adapter.bound_port}/slack/events"

    async def deliver(self, payload: dict[str, Any]) -> None:
        """Send ``payload`` the way Slack would in this mode and check it was acked."""
        if self.mode == "socket":
            ack = await self.fake.send_envelope(payload)
            assert "envelope_id" in ack
        else:
            status, body = await self.fake.post_signed(self.events_url, payload)
            assert status == 200, body


Starter = Callable[..., Awaitable[RunningSlack]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """A fresh loopback Slack."""
    async with FakeSlack() as server:
        yield server


@pytest.fixture
async def start_slack(fake: FakeSlack) -> AsyncIterator[Starter]:
    """Start a SlackAdapter against ``fake``: ``await start_slack(mode, sink)``; stopped after."""
    tasks: list[asyncio.Task[None]] = []

    async def start(
        mode: str, sink: EventSink, *, capabilities: Capabilities = FAST
    ) -> RunningSlack:
        if mode == "socket":
            kwargs: dict[str, Any] = {"app_token": fake.app_token}
        else:
            kwargs = {"signing_secret": fake.signing_secret, "http_addr": "127.0.0.1:0"}
        adapter = SlackAdapter(
            bot_token=fake.bot_token, api_url=fake.base_url, capabilities=capabilities, **kwargs
        )
        task = asyncio.create_task(adapter.run(sink), name=f"slack-test:{mode}")
        tasks.append(task)
        async with asyncio.timeout(5):
            await adapter.wait_ready()
        return RunningSlack(adapter, fake, mode)

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture(params=["socket", "http"])
def mode(request: pytest.FixtureRequest) -> str:
    """Both connection modes run the same listeners."""
    return str(request.param)
