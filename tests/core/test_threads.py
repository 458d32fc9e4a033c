"""Threads: one pacer per chat, idle ones evicted past the cap without scanning every open."""

from __future__ import annotations

from core.events import ChatRef
from core.pacer import EditPacer
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
