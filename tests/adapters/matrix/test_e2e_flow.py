"""End to end against a real Synapse: no thread stalls another, one thread keeps its order.

The sync loop hands events to per-thread lanes (adapters/matrix/lanes.py): a handler that is
slow in one thread must not delay a mention in another, while a thread's own messages (a
request, then ``stop``) are handled in the order they were sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.matrix.session import SessionStore
from core.events import Event, IncomingMessage
from core.tasks import TaskContext
from tests.adapters.matrix.conftest import WAIT, Recorder, ana_and_bot
from tests.support.harness import StreamingRunner, core_harness

pytestmark = pytest.mark.synapse


class Gate:
    """A sink in front of the core that holds one chosen message until released.

    ``started`` lists the texts whose handling began, in order (a positive signal to wait on).
    """

    def __init__(self, handle: Callable[[Event], Any], hold: str) -> None:
        self.handle = handle
        self.hold = hold
        self.release = asyncio.Event()
        self.started: list[str] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        text = event.text if isinstance(event, IncomingMessage) else ""
        async with self._changed:
            self.started.append(text)
            self._changed.notify_all()
        if text == self.hold:
            await self.release.wait()
        await self.handle(event)

    async def wait_started(self, text: str) -> None:
        async with asyncio.timeout(WAIT), self._changed:
            while text not in self.started:
                await self._changed.wait()


def _bot_says(bot_id: str, thread: str, part: str) -> Callable[[dict[str, Any]], bool]:
    """A message from the bot in ``thread`` whose text contains ``part``."""

    def check(e: dict[str, Any]) -> bool:
        content = e.get("content", {})
        rel = content.get("m.relates_to", {})
        return (
            e.get("sender") == bot_id
            and rel.get("rel_type") == "m.thread"
            and rel.get("event_id") == thread
            and part in content.get("body", "")
        )

    return check


@asynccontextmanager
async def _holding(
    synapse, make_human, make_bot, tmp_path: Path, runner: Any, hold: str
) -> AsyncIterator[tuple[Any, Any, str, Gate, str]]:
    """hearth's core on Synapse with Ana's first request, ``hold``, held in its handler.

    Yields Ana, hearth's registration, the room, the gate and the held request's event id.
    """
    ana, reg, bot = await ana_and_bot(synapse, make_human, make_bot, tmp_path)
    async with core_harness(
        {"matrix": bot.adapter},
        runner,
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({f"matrix:{ana.user_id}"}),
    ) as h:
        gate = Gate(h.dispatcher.handle, hold=hold)
        bot.sink = gate
        await bot.start()
        room = await ana.create_room(invite=[reg.user_id])
        await ana.wait_joined(room, reg.user_id)
        first = await ana.say(room, f"{reg.user_id}: {hold}")
        await gate.wait_started(hold)  # and there it stays
        yield ana, reg, room, gate, first


async def test_a_handler_stuck_in_one_thread_does_not_hold_up_another(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    runner = StreamingRunner(["On it: done."])
    async with _holding(synapse, make_human, make_bot, tmp_path, runner, "first job") as (
        ana,
        reg,
        room,
        gate,
        first,
    ):
        second = await ana.say(room, f"{reg.user_id}: second job")
        # The second thread is answered by the real core while the first is still held.
        await ana.wait_for(_bot_says(reg.user_id, second, "On it: done."))
        assert not gate.release.is_set()
        assert [t.goal for t in runner.seen] == ["second job"]

        gate.release.set()
        # Held, not lost: the first thread is answered once its handler goes on.
        await ana.wait_for(_bot_says(reg.user_id, first, "On it: done."))
        assert sorted(t.goal for t in runner.seen) == ["first job", "second job"]


class WaitingRunner:
    """A task that runs until it is stopped."""

    def __init__(self) -> None:
        self.seen: list[TaskContext] = []

    async def run(self, task: TaskContext) -> str:
        self.seen.append(task)
        await asyncio.Event().wait()
        return "never"


async def test_a_thread_is_handled_in_order_a_request_then_stop(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    """``stop`` right behind its request waits for it, and stops the task it started."""
    runner = WaitingRunner()
    async with _holding(synapse, make_human, make_bot, tmp_path, runner, "watch the logs") as (
        ana,
        reg,
        room,
        gate,
        ask,
    ):
        await ana.say(room, "stop", thread=ask)
        # Sent after the stop, in another thread: once its handling began, the stop was
        # synced too, and it must still be waiting behind the held request.
        await ana.say(room, f"{reg.user_id}: and another thing")
        await gate.wait_started("and another thing")
        assert "stop" not in gate.started

        gate.release.set()
        await ana.wait_for(_bot_says(reg.user_id, ask, "Stopped by"))
        assert [t.goal for t in runner.seen if t.chat.thread_id == ask] == ["watch the logs"]
        said = [e["content"].get("body", "") for e in ana.bot_messages(room, reg.user_id)]
        assert not any("Nothing is running" in text for text in said)
        assert gate.started.index("stop") > gate.started.index("watch the logs")


async def test_stopping_with_a_handler_in_flight_delivers_its_event_again_after_restart(
    synapse, make_human, make_bot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler cut off by shutdown is cancelled cleanly, and its event is not skipped."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    store = tmp_path / "m"
    ana = await make_human("ana")
    reg = await synapse.aregister("hearth")
    sink = Recorder()
    held, cancelled = asyncio.Event(), asyncio.Event()

    async def stuck(event: Event) -> None:
        await sink(event)
        if isinstance(event, IncomingMessage) and event.text == "cut off":
            held.set()
            try:
                await asyncio.Event().wait()  # until the shutdown cancels it
            except asyncio.CancelledError:
                cancelled.set()
                raise

    bot = await make_bot(reg, store, sink=stuck, allowed=frozenset({f"matrix:{ana.user_id}"}))
    room = await ana.create_room(invite=[reg.user_id])
    await ana.wait_joined(room, reg.user_id)
    await ana.say(room, f"{reg.user_id}: cut off")
    async with asyncio.timeout(WAIT):
        await held.wait()
    await bot.stop()
    # Stopping waited for the handler's end: cancelled, and no handler task left behind.
    assert cancelled.is_set()
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("matrix-lane:")]
    saved = SessionStore(store).load()
    assert saved is not None and saved.sync_token

    again = Recorder()
    # A huge skew lets the old event through the timestamp check: only the stored token and
    # event ids decide whether it comes again.
    await make_bot(reg, store, sink=again, replay_skew=3600.0)
    await ana.say(room, f"{reg.user_id}: after")
    await again.wait_for(lambda e: isinstance(e, IncomingMessage) and e.text == "after")
    texts = [e.text for e in again.events if isinstance(e, IncomingMessage)]
    assert texts == ["cut off", "after"]
    assert not [r for r in caplog.records if "destroyed but it is pending" in r.getMessage()]
