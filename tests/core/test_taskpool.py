"""TaskPool: a task counts from the moment it is submitted, and a stop meanwhile stops it."""

from __future__ import annotations

import asyncio

from core.events import ChatRef, User
from core.storage import Database
from core.storage.tasks import TaskStore
from core.taskpool import TaskLimits, TaskPool
from core.tasks import TaskContext
from core.thread import TaskThread
from tests.core.test_dispatch import BlockingRunner
from tests.fakes.adapter import FakeAdapter

ANA = User("fake", "ana", "Ana")
CHAT = ChatRef("fake", "C1", "T1")


class SlowStore(TaskStore):
    """Task rows take as long as the test says to write."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.writing = asyncio.Event()
        self.release = asyncio.Event()

    async def create(self, **kwargs: object) -> bool:  # type: ignore[override]
        self.writing.set()
        await self.release.wait()
        return await super().create(**kwargs)  # type: ignore[arg-type]


async def test_a_task_stopped_while_its_row_is_written_never_runs(db: Database) -> None:
    store, runner, adapter = SlowStore(db), BlockingRunner(), FakeAdapter()
    pool = TaskPool(runner, store, limits=TaskLimits(max_concurrent=2, per_user=1))
    task = TaskContext(
        task_id="t1", goal="deploy", chat=CHAT, requester=ANA, thread=TaskThread(adapter, CHAT)
    )
    submitting = asyncio.create_task(pool.submit(task))
    await store.writing.wait()
    # Already counted: a second request of Ana's meanwhile sees it, and so does `stop`.
    assert pool.count_for(ANA.qualified) == 1 and pool.in_chat(CHAT.key) is task
    assert pool.cancel("t1", "Stopped by Ana.")
    store.release.set()
    assert await submitting is None
    async with asyncio.timeout(10):  # a stop that was lost leaves the task running
        await pool.idle()
    assert runner.started == []
    assert adapter.texts() == ["⏹ Stopped by Ana."]
    assert (await store.get("t1")).status == "cancelled"  # type: ignore[union-attr]
