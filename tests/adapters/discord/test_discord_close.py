"""Stopping the Discord adapter closes its gateway session properly (close code 1000)."""

from __future__ import annotations

import asyncio

from tests.adapters.discord.conftest import make_adapter, running


async def test_cancelling_the_adapter_closes_the_session_with_1000(fake, sink) -> None:
    async with running(make_adapter(), sink):
        assert fake.sessions
    async with asyncio.timeout(5):
        while not fake.close_codes:
            await asyncio.sleep(0.01)
    assert fake.close_codes == [1000]
