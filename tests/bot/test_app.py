"""App lifecycle: supervised adapters restart with backoff, shutdown runs in reverse order."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.app import App
from core.access import AccessPolicy
from core.dispatch import Dispatcher
from core.events import ChatRef, IncomingMessage, MessageRef, User
from core.ports import EventSink
from core.storage import MIGRATIONS, Database
from core.storage.seen import SeenEventStore
from core.storage.tasks import TaskStore
from core.taskpool import TaskLimits, TaskPool
from core.tasks import TaskContext
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

ANA = User("fake", "ana", "Ana")


class CrashingAdapter(FakeAdapter):
    """Crashes on its first ``crashes`` runs, then runs normally."""

    def __init__(self, crashes: int) -> None:
        super().__init__()
        self.crashes = crashes
        self.runs = 0

    async def run(self, sink: EventSink) -> None:
        self.runs += 1
        if self.runs <= self.crashes:
            raise ConnectionError(f"socket closed (run {self.runs})")
        await super().run(sink)


class EndingAdapter(FakeAdapter):
    """Like the terminal at EOF: delivers one message, then its run() returns."""

    async def run(self, sink: EventSink) -> None:
        self.connected = True
        chat = ChatRef("fake", "tty", "main")
        await sink(
            IncomingMessage(
                ref=MessageRef(chat, "1"), author=ANA, text="work", is_direct=True, event_id="e1"
            )
        )


class Recorder:
    """A service and a runner that log the order things happen in."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log = log
        self.name = name

    async def start(self) -> None:
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


class SlowRunner:
    def __init__(self, log: list[str], seconds: float = 0.05) -> None:
        self.log = log
        self.seconds = seconds

    async def run(self, task: TaskContext) -> str:
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.log.append("task cancelled")
            raise
        await task.thread.say("finished")
        self.log.append("task finished")
        return "ok"


def build(tmp_path: Path, adapters, runner, clock=None, **kw) -> tuple[App, Database]:
    db = Database(tmp_path / "db", MIGRATIONS)
    tasks = TaskStore(db)
    pool = TaskPool(runner, tasks, limits=TaskLimits(), clock=clock)
    dispatcher = Dispatcher(
        adapters,
        pool=pool,
        tasks=tasks,
        seen=SeenEventStore(db),
        access=AccessPolicy(allowed_users=frozenset({"fake:ana"})),
        clock=clock,
    )
    app = App(
        db=db,
        adapters=adapters,
        dispatcher=dispatcher,
        pool=pool,
        clock=clock,
        recoveries=[dispatcher.recover],
        **kw,
    )
    return app, db


async def test_a_crashing_adapter_is_restarted_with_backoff(tmp_path: Path) -> None:
    clock = FakeClock()
    flaky, steady = CrashingAdapter(crashes=3), FakeAdapter("steady")
    app, _ = build(tmp_path, {"fake": flaky, "steady": steady}, SlowRunner([]), clock=clock)
    stop = asyncio.Event()
    run = asyncio.create_task(app.run(stop))
    async with asyncio.timeout(5):
        while not flaky.connected:
            await asyncio.sleep(0.001)
    assert app.restarts == {"fake": 3, "steady": 0}
    assert clock.sleeps == [1.0, 2.0, 4.0]  # exponential backoff between restarts
    assert steady.connected  # the other platform never noticed
    stop.set()
    await run


async def test_each_retry_is_one_line_with_reason_and_delay_and_up_waits_for_connect(
    tmp_path: Path, caplog
) -> None:
    clock = FakeClock()
    flaky = CrashingAdapter(crashes=2)
    app, _ = build(tmp_path, {"fake": flaky}, SlowRunner([]), clock=clock)
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="bot.app"):
        run = asyncio.create_task(app.run(stop))
        async with asyncio.timeout(5):
            while not any("is up" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.01)
        stop.set()
        await run
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert [r.getMessage() for r in retries] == [
        "adapter fake failed (ConnectionError: socket closed (run 1)); retrying in 1s",
        "adapter fake failed (ConnectionError: socket closed (run 2)); retrying in 2s",
    ]
    assert all(r.exc_info is None for r in retries)  # the traceback is a DEBUG record
    up = next(i for i, line in enumerate(lines) if line.startswith("hearth is up"))
    assert up > lines.index(retries[-1].getMessage())  # not before it connected


async def test_shutdown_tells_running_tasks_then_stops_services_and_db(tmp_path: Path) -> None:
    log: list[str] = []
    adapter = FakeAdapter()
    app, db = build(
        tmp_path,
        {"fake": adapter},
        SlowRunner(log, seconds=60),
        services=[Recorder(log, "scheduler"), Recorder(log, "health")],
        shutdown_grace=0.05,
    )
    stop = asyncio.Event()
    run = asyncio.create_task(app.run(stop))
    await app.ready.wait()
    await adapter.receive(
        IncomingMessage(
            ref=MessageRef(ChatRef("fake", "C", "1"), "1"),
            author=ANA,
            text="long job",
            mentions_bot=True,
        )
    )
    async with asyncio.timeout(5):
        while not app.pool.running_count():
            await asyncio.sleep(0.001)
    stop.set()
    await run
    assert log == [
        "start scheduler",
        "start health",
        "task cancelled",
        "stop health",
        "stop scheduler",
    ]
    assert adapter.texts() == ["⏹ hearth is shutting down; this task was stopped."]
    assert not adapter.connected and not db.is_open


async def test_end_of_input_finishes_running_tasks_before_exit(tmp_path: Path) -> None:
    log: list[str] = []
    adapter = EndingAdapter()
    app, _ = build(tmp_path, {"fake": adapter}, SlowRunner(log), finite=frozenset({"fake"}))
    async with asyncio.timeout(10):
        await app.run()
    assert log == ["task finished"]
    assert adapter.texts() == ["finished"]


async def test_warmups_run_in_a_thread_once_ready_and_a_failing_one_is_only_logged(
    tmp_path: Path, caplog
) -> None:
    import threading

    seen: list[tuple[str, bool]] = []
    done = threading.Event()
    app: App | None = None

    def failing() -> None:
        raise ImportError("no such SDK")

    def warm() -> None:
        assert app is not None
        seen.append((threading.current_thread().name, app.ready.is_set()))
        done.set()

    app, _ = build(tmp_path, {"fake": FakeAdapter()}, SlowRunner([]), warmups=[failing, warm])
    stop = asyncio.Event()
    run = asyncio.create_task(app.run(stop))
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        assert await asyncio.to_thread(done.wait, 5)
    stop.set()
    await run
    [(thread, ready)] = seen
    assert ready and thread != threading.main_thread().name
    assert any("warming up failed" in r.getMessage() for r in caplog.records)


async def test_warmups_wait_until_the_terminal_has_drawn_its_prompt(tmp_path: Path) -> None:
    # A warm-up thread holds the GIL: started before the prompt, it would delay the prompt.
    import threading

    order: list[str] = []
    drawn = asyncio.Event()
    done = threading.Event()

    async def prompt_drawn() -> None:
        await drawn.wait()
        order.append("prompt drawn")

    def warm() -> None:
        order.append("warmed")
        done.set()

    app, _ = build(
        tmp_path, {"fake": FakeAdapter()}, SlowRunner([]), warmups=[warm], settle=prompt_drawn
    )
    stop = asyncio.Event()
    run = asyncio.create_task(app.run(stop))
    await app.ready.wait()
    drawn.set()
    assert await asyncio.to_thread(done.wait, 5)
    stop.set()
    await run
    assert order == ["prompt drawn", "warmed"]
