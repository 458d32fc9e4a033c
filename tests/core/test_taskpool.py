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


class DeliveringRunner:
    """``t1`` frees its slot (twice) and delivers until ``delivered``; ``t3`` works until
    ``release``; the others answer at once."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.delivering = asyncio.Event()
        self.delivered = asyncio.Event()
        self.release = asyncio.Event()

    async def run(self, task: TaskContext) -> str:
        self.started.append(task.task_id)
        if task.task_id == "t1":
            task.slot.free()
            task.slot.free()  # a second time gives nothing back
            self.delivering.set()
            await self.delivered.wait()
        if task.task_id == "t3":
            await self.release.wait()
        return "ok"


async def test_a_task_delivering_its_answer_gives_its_slot_to_the_next(db: Database) -> None:
    runner, adapter = DeliveringRunner(), FakeAdapter()
    pool = TaskPool(runner, TaskStore(db), limits=TaskLimits(max_concurrent=1, per_user=5))

    def task(task_id: str) -> TaskContext:
        chat = ChatRef("fake", "C1", task_id)
        return TaskContext(
            task_id=task_id, goal="x", chat=chat, requester=ANA, thread=TaskThread(adapter, chat)
        )

    assert await pool.submit(task("t1")) is None
    await runner.delivering.wait()
    assert await pool.submit(task("t2")) is None  # the one slot is free again: no queue
    async with asyncio.timeout(10):
        await pool.wait("t2")  # it ran while t1 was still delivering
    assert runner.started == ["t1", "t2"]
    assert pool.in_chat(ChatRef("fake", "C1", "t1").key) is not None  # t1 still delivers
    runner.delivered.set()
    async with asyncio.timeout(10):
        await pool.wait("t1")
    assert await pool.submit(task("t3")) is None
    assert await pool.submit(task("t4")) == 0  # still one slot, whatever t1 gave back
    runner.release.set()
    async with asyncio.timeout(10):
        await pool.idle()
    assert runner.started == ["t1", "t2", "t3", "t4"]
