"""JobService guarantees below the chat: one process per fire time, restart catch-up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from core.events import ChatRef, User
from core.schedule.grammar import parse_every
from core.schedule.service import JobLimits, JobService
from core.storage.jobs import JobStore
from core.storage.tasks import TaskStore
from core.taskpool import TaskLimits, TaskPool
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock
from tests.support.harness import StreamingRunner

START = datetime(2024, 3, 29, 12, 0, tzinfo=UTC).timestamp()
ANA = User("fake", "UANA", "Ana")
CHANNEL = ChatRef("fake", "C1")


def _service(db, adapter: FakeAdapter, clock: FakeClock) -> tuple[JobService, TaskPool]:
    tasks = TaskStore(db)
    pool = TaskPool(StreamingRunner(["ok"], clock=clock), tasks, limits=TaskLimits(), clock=clock)

    async def tell(text: str) -> int:
        return 0

    service = JobService(
        JobStore(db),
        pool,
        tasks,
        {"fake": adapter},
        allowed=lambda user: True,
        tell_admins=tell,
        limits=JobLimits(default_tz="Europe/Berlin"),
        clock=clock,
    )
    return service, pool


def _headers(adapter: FakeAdapter) -> list[str]:
    return [m.text for m in adapter.messages.values() if m.text.startswith("⏰ Scheduled job")]


async def test_two_processes_never_run_the_same_fire_time(db) -> None:
    clock = FakeClock(START, auto_advance=False)
    first_adapter, second_adapter = FakeAdapter(), FakeAdapter()
    first, first_pool = _service(db, first_adapter, clock)
    second, second_pool = _service(db, second_adapter, clock)
    job = await first.create(
        parse_every("day at 9:00 check the backups"),
        creator=ANA,
        chat=CHANNEL,
        tz="Europe/Berlin",
        is_admin=False,
    )
    await first.stop()
    clock.advance(20 * 3600 + 600)  # both "processes" come up at Saturday 09:10
    await asyncio.gather(first.start(), second.start())
    for pool in (first_pool, second_pool):
        await clock.drive(pool.shutdown(grace=5), step=0.5)
    await first.stop()
    await second.stop()
    assert len(_headers(first_adapter)) + len(_headers(second_adapter)) == 1
    runs = await JobStore(db).runs(job.id)
    assert [r.status for r in runs] == ["done"]
