"""One heartbeat story told through a real adapter: a failure report, then the digest."""

from __future__ import annotations

from dataclasses import dataclass

from core.events import ChatRef
from core.heartbeat.service import Heartbeat, TickResult
from core.ports import ChatAdapter
from core.storage import Database
from core.storage.ticks import TickStore
from tests.core.heartbeat.conftest import ScriptedProber, result
from tests.fakes.clock import FakeClock

FAILING = [result("http:web", "critical", "HTTP 500 from /health"), result("disk:root")]
HEALTHY = [result("http:web"), result("disk:root")]


@dataclass
class Story:
    """What the heartbeat produced: the failure tick, the digest text and picture."""

    failure: TickResult
    digest: str
    png: bytes


async def tell(adapter: ChatAdapter, channel: ChatRef, db: Database) -> Story:
    """Healthy, then failing (reported), then healthy again; then the day's digest."""
    clock = FakeClock()
    prober = ScriptedProber(clock, HEALTHY)
    hb = Heartbeat(
        prober=prober,
        decider=None,
        store=TickStore(db),
        clock=clock,
        workspace=".",
        adapters={adapter.platform: adapter},
        channel=channel,
    )
    await hb.tick()
    clock.advance(600)
    prober.ticks = [FAILING]
    failure = await hb.tick()
    assert failure.posted is not None, "the failure report was not posted"
    clock.advance(600)
    prober.ticks = [HEALTHY]
    await hb.tick()
    clock.advance(600)
    picture = await hb.draw_digest()
    assert picture.png is not None
    text = await hb.digest()
    return Story(failure, text, picture.png)
