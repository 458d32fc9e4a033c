"""The Scheduler: failing jobs do not stop later runs; stop() leaves no job running."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.errors import ConfigError
from core.scheduler import Scheduler

WAIT = 5.0  # upper bound for real-time waits; the jobs themselves fire every 50 ms


async def wait_for(predicate, timeout: float = WAIT) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def job_tasks() -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("job:") and not t.done()]


async def test_a_failing_job_is_logged_and_runs_again(caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    async def flaky() -> None:
        calls.append(len(calls))
        if len(calls) % 2:
            raise RuntimeError("disk probe exploded")

    sched = Scheduler(misfire_grace=1)
    sched.every(0.05, flaky, name="flaky")
    with caplog.at_level(logging.ERROR, logger="core.scheduler"):
        await sched.start()
        try:
            await wait_for(lambda: len(calls) >= 4)
        finally:
            await sched.stop()
    assert sched.failures["flaky"] >= 2
    assert sched.runs["flaky"] >= 4
    failures = [r for r in caplog.records if "scheduled job flaky failed" in r.getMessage()]
    assert failures and failures[0].exc_info is not None


async def test_one_instance_at_a_time() -> None:
    running, overlaps, runs = 0, 0, 0

    async def slow() -> None:
        nonlocal running, overlaps, runs
        running += 1
        overlaps = max(overlaps, running)
        await asyncio.sleep(0.15)  # three intervals long
        running -= 1
        runs += 1

    sched = Scheduler()
    sched.every(0.05, slow, name="slow")
    await sched.start()
    try:
        await wait_for(lambda: runs >= 2)
    finally:
        await sched.stop()
    assert overlaps == 1


async def test_stop_waits_for_a_running_job_within_the_grace() -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def job() -> None:
        started.set()
        await asyncio.sleep(0.1)
        finished.set()

    sched = Scheduler(stop_grace=5)
    sched.every(0.05, job, name="short")
    await sched.start()
    await asyncio.wait_for(started.wait(), WAIT)
    await sched.stop()
    assert finished.is_set()
    assert job_tasks() == []
    assert not sched.running


async def test_stop_cancels_a_job_that_outlives_the_grace() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def stuck() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    sched = Scheduler(stop_grace=0.05)
    sched.every(0.05, stuck, name="stuck")
    await sched.start()
    await asyncio.wait_for(started.wait(), WAIT)
    await sched.stop()
    assert cancelled.is_set()
    assert job_tasks() == []


async def test_first_run_can_come_before_the_first_interval() -> None:
    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    sched = Scheduler()
    sched.every(3600, job, name="hourly", first_in=0)
    await sched.start()
    try:
        await asyncio.wait_for(ran.wait(), WAIT)
    finally:
        await sched.stop()


async def test_cron_jobs_and_bad_schedules() -> None:
    sched = Scheduler()

    async def job() -> None:
        return None

    sched.cron("0 9 * * 1-5", job, name="digest")
    assert sched.jobs == ["digest"]
    with pytest.raises(ConfigError, match="already scheduled"):
        sched.every(60, job, name="digest")
    with pytest.raises(ConfigError, match="5 fields"):
        sched.cron("0 9 * *", job, name="bad")
    with pytest.raises(ConfigError, match="invalid"):
        sched.cron("0 25 * * *", job, name="bad-hour")
    with pytest.raises(ConfigError, match="interval"):
        sched.every(0, job, name="zero")
    await sched.start()
    try:
        when = sched.next_run("digest")
        assert when is not None and (when.hour, when.minute) == (9, 0)
        assert when.strftime("%a") in {"Mon", "Tue", "Wed", "Thu", "Fri"}
        assert sched.next_run("nope") is None
    finally:
        await sched.stop()
    await sched.stop()  # idempotent
