"""Threads: a pacer per chat, idle ones evicted past the cap; shutdown leaves no card open."""

from __future__ import annotations

import asyncio

from core.events import ChatRef
from core.outbox import Outbox
from core.pacer import EditPacer
from core.ports import Capabilities
from core.storage import Database
from core.storage.outbox import OutboxStore
from core.thread import MAX_IDLE_PACERS, Threads
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock


async def test_pacers_are_shared_per_chat_and_idle_ones_evicted_past_the_cap(
    monkeypatch: object,
) -> None:
    scans = 0
    busy = EditPacer.busy

    def counted(self: EditPacer) -> bool:
        nonlocal scans
        scans += 1
        return bool(busy.fget(self))  # type: ignore[attr-defined]

    monkeypatch.setattr(EditPacer, "busy", property(counted))  # type: ignore[attr-defined]
    threads = Threads({"fake": FakeAdapter()}, clock=FakeClock())
    first = threads.open(ChatRef("fake", "C", "t0"))
    assert threads.open(ChatRef("fake", "C", "t0")).pacer is first.pacer
    for i in range(1, MAX_IDLE_PACERS):
        threads.open(ChatRef("fake", "C", f"t{i}"))
    assert scans == 0  # under the cap, a new thread costs no scan of the others
    threads.open(ChatRef("fake", "C", "one-more"))
    assert scans > 0
    assert threads.open(ChatRef("fake", "C", "t0")).pacer is not first.pacer  # evicted, oldest
    assert threads.open(ChatRef("fake", "C", "one-more")).pacer is threads.pacer(
        ChatRef("fake", "C", "one-more")
    )


PACED = Capabilities(max_message_chars=4000, min_edit_interval=1.2, buttons=True)
HERE = ChatRef("fake", "C", "t1")


async def test_shutdown_shows_a_finished_cards_last_edit_without_waiting_out_the_pace() -> None:
    """A task that ends just before a stop: its card must not stay "working"."""
    adapter = FakeAdapter(capabilities=PACED)
    # The pace never passes by itself: only a test moves this clock.
    threads = Threads({"fake": adapter}, clock=FakeClock(auto_advance=False))
    card = threads.open(HERE).card("check the disks")
    ref = await card.start()
    assert ref is not None
    card.close_soon("✅ Done")  # paced: due 1.2 s after the post
    await threads.drain(timeout=5.0)
    assert adapter.messages[ref.message_id].text.startswith("✅ Done")


async def test_final_edits_a_rate_limited_shutdown_could_not_send_are_shown_after_restart(
    db: Database,
) -> None:
    adapter = FakeAdapter(capabilities=PACED)
    clock = FakeClock(auto_advance=False)
    threads = Threads(
        {"fake": adapter}, clock=clock, outbox=Outbox({"fake": adapter}, store=OutboxStore(db))
    )
    cards = [threads.open(ChatRef("fake", "C", f"t{i}")).card(f"task {i}") for i in range(2)]
    refs = [await card.start() for card in cards]
    adapter.rate_limit_next = [30.0, 30.0]  # the platform says: not for 30 s
    for card in cards:
        card.close_soon("✅ Done")
    await threads.drain(timeout=0.5)
    assert not any(adapter.messages[r.message_id].text.startswith("✅") for r in refs if r)

    adapter.connected = True  # the next run: the platform is back
    outbox = Outbox({"fake": adapter}, store=OutboxStore(db), clock=clock)
    await outbox.start()
    try:
        await asyncio.wait_for(outbox.wait_empty(), 5)
    finally:
        await outbox.stop()
    assert all(adapter.messages[r.message_id].text.startswith("✅ Done") for r in refs if r)
    assert await OutboxStore(db).waiting() == []
