"""Re-failures are always reported: flapping notes, one edited message per check and window."""

from __future__ import annotations

from core.events import ChatRef
from core.heartbeat.service import Heartbeat
from core.storage.kv import KVStore
from core.storage.ticks import TickStore
from tests.core.heartbeat.conftest import ScriptedProber
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

CHANNEL = ChatRef("fake", "C-ops")
UP = {"http:web": "ok", "disk:root": "ok"}
DOWN = {"http:web": "critical", "disk:root": "ok"}


def heartbeat(db, clock: FakeClock, prober: ScriptedProber, adapter: FakeAdapter) -> Heartbeat:
    return Heartbeat(
        prober=prober,
        decider=None,
        store=TickStore(db),
        clock=clock,
        workspace=".",
        adapters={"fake": adapter},
        channel=CHANNEL,
        cooldown=3600,
        kv=KVStore(db),
    )


async def step(hb: Heartbeat, prober: ScriptedProber, clock: FakeClock, statuses, wait=30.0):
    clock.advance(wait)
    prober.ticks = [statuses]
    return await hb.tick()


def last_word(adapter: FakeAdapter, check: str) -> str:
    """The newest text (by post or edit) in the channel that speaks about ``check``."""
    said = [(i, t) for i, (op, _mid, t) in enumerate(adapter.calls) if op in ("post", "edit")]
    return next(t for _i, t in reversed(said) if check in t or "all checks ok" in t)


async def test_a_re_failure_inside_the_cooldown_is_reported_and_then_grouped(db, clock) -> None:
    adapter = FakeAdapter()
    prober = ScriptedProber(clock, UP)
    hb = heartbeat(db, clock, prober, adapter)
    await hb.tick()
    assert adapter.texts(CHANNEL) == []

    fail = await step(hb, prober, clock, DOWN)
    assert fail.reason == "changed" and "**Heartbeat: CRITICAL**" in adapter.texts(CHANNEL)[0]
    recover = await step(hb, prober, clock, UP)
    assert recover.reason == "recovered"
    again = await step(hb, prober, clock, DOWN)  # 30 s after the recovery, same hour
    assert again.reason == "flapping" and again.posted is not None
    texts = adapter.texts(CHANNEL)
    assert len(texts) == 3
    assert texts[2].startswith(
        "🔴 **Heartbeat: http:web is flapping** — failed again 30 s after recovering: "
        "2nd time in the last hour"
    )
    flap_id = again.posted.message_id

    # Three more flaps: the same message is edited with the count, no new messages.
    for n in ("3rd", "4th", "5th"):
        up = await step(hb, prober, clock, UP)
        assert up.posted is not None and up.posted.message_id == flap_id
        assert last_word(adapter, "http:web").startswith("✅ **Heartbeat: http:web recovered**")
        down = await step(hb, prober, clock, DOWN)
        assert down.posted is not None and down.posted.message_id == flap_id
        assert f"recovering: {n} time in the last hour" in adapter.messages[flap_id].text
    assert len(adapter.ops("post")) == 3
    assert adapter.messages[flap_id].edits == 6
    assert "Latest: failed " in adapter.messages[flap_id].text

    # A recovery during the window edits that same message; the last word says ok.
    healed = await step(hb, prober, clock, UP)
    assert healed.posted is not None and healed.posted.message_id == flap_id
    assert adapter.messages[flap_id].text.startswith(
        "✅ **Heartbeat: http:web recovered** (flapping: failed 5 times in the last hour)"
    )
    assert len(adapter.ops("post")) == 3
    # Steady again: nothing more is said.
    assert (await step(hb, prober, clock, UP, wait=600)).posted is None


async def test_after_a_restart_inside_the_window_the_next_change_is_reported(db, clock) -> None:
    adapter = FakeAdapter()
    prober = ScriptedProber(clock, DOWN)
    hb = heartbeat(db, clock, prober, adapter)
    await hb.tick()  # fail → full report
    await step(hb, prober, clock, UP)  # recover → full report
    flap = await step(hb, prober, clock, DOWN)  # flap → its own message
    assert flap.reason == "flapping"

    restarted_prober = ScriptedProber(clock, UP)
    restarted = heartbeat(db, clock, restarted_prober, adapter)  # same db: a restart
    healed = await step(restarted, restarted_prober, clock, UP, wait=60)
    assert healed.posted is not None and healed.posted.message_id == flap.posted.message_id
    assert last_word(adapter, "http:web").startswith("✅ **Heartbeat: http:web recovered**")
    again = await step(restarted, restarted_prober, clock, DOWN, wait=60)
    assert again.reason == "flapping" and again.posted == flap.posted
    assert "3rd time in the last hour" in adapter.messages[flap.posted.message_id].text
    assert len(adapter.ops("post")) == 3


async def test_after_a_restart_without_the_book_a_re_failure_is_still_said(db, clock) -> None:
    adapter = FakeAdapter()
    prober = ScriptedProber(clock, DOWN)
    hb = heartbeat(db, clock, prober, adapter)
    await hb.tick()
    await step(hb, prober, clock, UP)
    await KVStore(db).delete("heartbeat:flaps")  # e.g. a database from before this feature

    restarted_prober = ScriptedProber(clock, DOWN)
    restarted = heartbeat(db, clock, restarted_prober, adapter)
    again = await step(restarted, restarted_prober, clock, DOWN)
    assert again.posted is not None
    assert last_word(adapter, "http:web").startswith("🔴 **Heartbeat: http:web")


async def test_a_window_later_a_failure_is_a_full_report_again(db, clock) -> None:
    adapter = FakeAdapter()
    prober = ScriptedProber(clock, DOWN)
    hb = heartbeat(db, clock, prober, adapter)
    await hb.tick()
    await step(hb, prober, clock, UP)
    await step(hb, prober, clock, DOWN)
    await step(hb, prober, clock, UP)
    late = await step(hb, prober, clock, DOWN, wait=3600)
    assert late.reason == "changed"
    assert adapter.texts(CHANNEL)[-1].startswith("🔴 **Heartbeat: CRITICAL**")
