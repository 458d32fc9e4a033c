"""Lanes and Checkpoints: order within a lane, a bound on running jobs, a clean close, and
which sync token may be stored while jobs run."""

from __future__ import annotations

import asyncio

from adapters.matrix.checkpoints import Checkpoints, Job
from adapters.matrix.lanes import Lanes

WAIT = 5.0


class Log:
    """Job steps in the order they happened, and a way to wait for one."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.done: list[tuple[str, bool]] = []
        self._changed = asyncio.Condition()

    async def note(self, step: str) -> None:
        async with self._changed:
            self.steps.append(step)
            self._changed.notify_all()

    def finisher(self, name: str):
        return lambda ran: self.done.append((name, ran))

    async def wait(self, step: str) -> None:
        async with asyncio.timeout(WAIT), self._changed:
            while step not in self.steps:
                await self._changed.wait()


def job(log: Log, name: str, gate: asyncio.Event | None = None):
    async def run() -> None:
        await log.note(f"{name} start")
        if gate is not None:
            await gate.wait()
        await log.note(f"{name} end")

    return run


async def test_one_lane_runs_in_order_while_another_goes_ahead() -> None:
    lanes, log, gate = Lanes(), Log(), asyncio.Event()
    lanes.submit("t1", job(log, "a", gate), log.finisher("a"))
    lanes.submit("t1", job(log, "b"), log.finisher("b"))
    lanes.submit("t2", job(log, "c"), log.finisher("c"))
    await log.wait("c end")  # t2 went ahead of the held t1
    assert "b start" not in log.steps
    gate.set()
    await log.wait("b end")
    assert log.steps.index("b start") > log.steps.index("a end")
    assert log.done == [("c", True), ("a", True), ("b", True)]
    assert lanes.pending == 0
    await lanes.close(1.0)


async def test_at_most_limit_jobs_run_at_once() -> None:
    lanes, log, gate = Lanes(limit=2), Log(), asyncio.Event()
    for name in ("a", "b", "c"):
        lanes.submit(name, job(log, name, gate if name != "c" else None), log.finisher(name))
    await log.wait("b start")
    gate.set()
    await log.wait("c end")
    # c had to wait for a slot: it began only after one of the first two ended.
    first_end = min(log.steps.index("a end"), log.steps.index("b end"))
    assert log.steps.index("c start") > first_end
    await lanes.close(1.0)


async def test_a_failing_job_does_not_stop_its_lane() -> None:
    lanes, log = Lanes(), Log()

    async def boom() -> None:
        raise RuntimeError("bad event")

    lanes.submit("t", boom, log.finisher("boom"))
    lanes.submit("t", job(log, "next"), log.finisher("next"))
    await log.wait("next end")
    assert log.done == [("boom", True), ("next", True)]
    await lanes.close(1.0)


async def test_close_cancels_what_is_left_and_reports_it_as_not_run() -> None:
    lanes, log = Lanes(), Log()
    never = asyncio.Event()
    lanes.submit("t", job(log, "stuck", never), log.finisher("stuck"))
    lanes.submit("t", job(log, "queued"), log.finisher("queued"))
    await log.wait("stuck start")
    await lanes.close(0.01)
    assert log.done == [("stuck", False), ("queued", False)]
    assert "queued start" not in log.steps
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("matrix-lane:")]


async def test_a_token_is_stored_once_its_sync_and_every_earlier_one_are_handled() -> None:
    lanes, log = Lanes(), Log()
    stored: list[tuple[str, list[str]]] = []
    forgotten: list[str] = []
    checkpoints = Checkpoints(lanes, lambda t, d: stored.append((t, d)), forgotten.append)
    held = asyncio.Event()
    checkpoints.dispatch("s1", ["$a"], [Job("t1", "$a", job(log, "a", held))])
    checkpoints.dispatch("s2", ["$b"], [Job("t2", "$b", job(log, "b"))])
    checkpoints.dispatch("s3", [], [])  # an empty sync rides along with s2
    await log.wait("b end")
    assert stored == []  # s2 is done, but s1 is not
    held.set()
    await log.wait("a end")
    assert stored == [("s3", ["$a", "$b"])]
    checkpoints.dispatch("s4", [], [])
    assert stored[-1] == ("s4", [])
    await lanes.close(1.0)


async def test_a_cancelled_job_stops_the_token_and_is_forgotten() -> None:
    lanes, log = Lanes(), Log()
    stored: list[tuple[str, list[str]]] = []
    forgotten: list[str] = []
    checkpoints = Checkpoints(lanes, lambda t, d: stored.append((t, d)), forgotten.append)
    checkpoints.dispatch("s1", ["$a"], [Job("t1", "$a", job(log, "a", asyncio.Event()))])
    await log.wait("a start")
    await lanes.close(0.01)
    checkpoints.dispatch("s2", [], [])
    assert (stored, forgotten) == ([], ["$a"])
