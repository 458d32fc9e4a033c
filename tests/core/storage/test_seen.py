"""SeenEventStore: first delivery wins, duplicates are dropped, old keys are pruned."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from core.events import ChatRef
from core.storage import Database
from core.storage.seen import RETENTION_S, SeenEventStore
from core.storage.tasks import TaskStore


async def test_only_the_first_of_concurrent_deliveries_wins(db: Database) -> None:
    seen = SeenEventStore(db)
    results = await asyncio.gather(*(seen.first_time("slack:Ev1", 1.0) for _ in range(5)))
    assert results.count(True) == 1


async def test_prune_forgets_only_old_keys(db: Database) -> None:
    seen = SeenEventStore(db)
    await seen.first_time("old", 0.0)
    await seen.first_time("new", RETENTION_S)
    assert await seen.prune(RETENTION_S + 1) == 1
    assert await seen.first_time("old", RETENTION_S + 2)  # forgotten: counts as new again
    assert not await seen.first_time("new", RETENTION_S + 2)


CHAT = ChatRef("fake", "C1", "T1")


async def _create(tasks: TaskStore, task_id: str, delivery: str) -> bool:
    return await tasks.create(
        task_id=task_id, requester="fake:ana", chat=CHAT, goal="do it", now=5.0, delivery=delivery
    )


async def test_a_task_and_its_delivery_are_recorded_together_in_one_trip(db: Database) -> None:
    tasks, seen = TaskStore(db), SeenEventStore(db)
    trips = 0
    queue = db.conn._execute

    async def counted(*args: object, **kwargs: object) -> object:
        nonlocal trips
        trips += 1
        return await queue(*args, **kwargs)

    db.conn._execute = counted  # type: ignore[method-assign]
    assert await _create(tasks, "t1", "fake:Ev1")
    assert trips == 1  # the seen key and the task row: one trip to the database thread
    assert not await _create(tasks, "t2", "fake:Ev1")  # a redelivery writes nothing
    assert [t.id for t in await tasks.recent(10)] == ["t1"]
    assert not await seen.first_time("fake:Ev1", 6.0)


async def test_a_task_row_that_cannot_be_written_leaves_its_delivery_unseen(db: Database) -> None:
    tasks, seen = TaskStore(db), SeenEventStore(db)
    assert await _create(tasks, "t1", "fake:Ev1")
    with pytest.raises(sqlite3.IntegrityError):
        await _create(tasks, "t1", "fake:Ev2")  # the same task id: the row insert fails
    # Ev2 was not recorded: its redelivery (after a restart) will be handled.
    assert await seen.first_time("fake:Ev2", 6.0)
    async with db.transaction():  # the savepoint nests inside an open transaction
        assert await _create(tasks, "t3", "fake:Ev3")
    assert {t.id for t in await tasks.recent(10)} == {"t1", "t3"}
