"""A task's slot is free once its work ends: the card's last edit is left to the thread's pacer."""

from __future__ import annotations

import asyncio

from core.events import ChatRef
from core.ports import Capabilities
from core.storage.tasks import TaskStore
from core.taskpool import TaskLimits, TaskPool
from core.tasks import TaskContext
from core.thread import TaskThread
from tests.core.agent.conftest import ANA, Rig, plan
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock
from tests.fakes.llm import text


async def test_a_queued_task_starts_while_the_first_cards_last_edit_is_still_paced(
    rig: Rig,
) -> None:
    clock = FakeClock(auto_advance=False)  # the pacer waits until the test moves time
    rig.clock = clock
    rig.live = False
    rig.adapter = FakeAdapter(
        capabilities=Capabilities(max_message_chars=4000, min_edit_interval=1.2, buttons=True)
    )
    for word in ("one", "two"):
        rig.planner.add(plan(f"say {word}"))
        rig.local.add(text(f"Said {word}.\nCONFIDENCE: 0.9"))
    pool = TaskPool(rig.runner(), TaskStore(rig.db), limits=TaskLimits(1, 2), clock=clock)
    chats = [ChatRef("fake", "C1", "T1"), ChatRef("fake", "C1", "T2")]
    tasks = []
    for i, (chat, word) in enumerate(zip(chats, ("one", "two"), strict=True)):
        task = TaskContext(
            task_id=f"t{i}",
            goal=f"say {word}",
            chat=chat,
            requester=ANA,
            thread=TaskThread(rig.adapter, chat, clock, live=False),
        )
        tasks.append(task)
        await pool.submit(task)

    def card(chat: ChatRef) -> str:
        texts = rig.adapter.texts(chat)
        return texts[0] if texts else ""

    async with asyncio.timeout(10):
        while "Said two." not in rig.adapter.texts(chats[1]):  # the second task ran its work
            await asyncio.sleep(0.01)
    assert "Said one." in rig.adapter.texts(chats[0])
    assert not card(chats[0]).startswith("✅")  # the first card's final edit still waits its pace
    await clock.drive(asyncio.gather(pool.wait("t0"), pool.wait("t1")))
    await clock.drive(asyncio.gather(*(t.thread.pacer.drain() for t in tasks)))
    assert card(chats[0]).startswith("✅ Done: say one")  # delivered, and not lost
    assert card(chats[1]).startswith("✅ Done: say two")


async def test_idle_returns_once_every_task_ended_and_its_row_is_stored(rig: Rig) -> None:
    rig.live = False
    for word in ("one", "two", "three"):
        rig.planner.add(plan(f"say {word}"))
        rig.local.add(text(f"Said {word}.\nCONFIDENCE: 0.9"))
    store = TaskStore(rig.db)
    pool = TaskPool(rig.runner(), store, limits=TaskLimits(1, 3))
    await pool.idle()  # nothing to wait for
    for i, word in enumerate(("one", "two", "three")):
        chat = ChatRef("fake", "C1", f"T{i}")
        await pool.submit(
            TaskContext(
                task_id=f"t{i}",
                goal=f"say {word}",
                chat=chat,
                requester=ANA,
                thread=TaskThread(rig.adapter, chat, live=False),
            )
        )
    async with asyncio.timeout(10):
        await pool.idle()
    assert pool.active() == []
    rows = [await store.get(f"t{i}") for i in range(3)]
    assert [r.status for r in rows if r is not None] == ["done", "done", "done"]
