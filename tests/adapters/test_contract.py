"""The adapter contract: the same scenarios on Slack, Discord, Matrix and the terminal.

Each platform runs its real adapter against its server (see tests/adapters/legs.py) behind the
real core (dispatcher, task pool, approval broker, TaskThread); assertions read what a user
would see on that server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.access import AccessPolicy
from core.dispatch import Dispatcher
from core.outbox import Outbox
from core.storage import MIGRATIONS, Database
from core.storage.seen import SeenEventStore
from core.storage.tasks import TaskStore
from core.taskpool import TaskLimits, TaskPool
from core.tasks import TaskContext
from tests.adapters.legs import (
    LIMIT,
    Leg,
    until,
)
from tests.support.harness import ApprovalRunner, core_harness

ANSWER = "The disk is 42% full; /var/log holds most of it, mainly old journal files."


class Streamer:
    """A TaskRunner that streams ``text`` word by word through the task's TaskThread."""

    def __init__(self, text: str, pause: float = 0.003) -> None:
        self.text = text
        self.pause = pause
        self.refs: list = []
        self.done = asyncio.Event()

    async def run(self, task: TaskContext) -> str:
        async with task.thread.stream() as out:
            for i, word in enumerate(self.text.split(" ")):
                out.append(word if i == 0 else " " + word)
                await asyncio.sleep(self.pause)
        self.refs = out.messages
        self.done.set()
        return "streamed"


def _core(leg: Leg, runner: object, tmp_path: Path):  # type: ignore[no-untyped-def]
    return core_harness(
        {leg.platform: leg.adapter},
        runner,  # type: ignore[arg-type]
        db_path=tmp_path / "hearth.db",
        allowed_users=frozenset({leg.approver.qualified}),
        approvers=frozenset({leg.approver.qualified}),
    )


async def test_mention_opens_a_thread_and_the_streamed_answer_is_edited_in_place(
    leg: Leg, tmp_path: Path
) -> None:
    runner = Streamer(ANSWER)
    async with _core(leg, runner, tmp_path) as h:
        leg.sink.target = h.dispatcher.handle  # type: ignore[attr-defined]
        msg = await leg.mention("how full is the disk?")
        await until(runner.done.is_set)
        texts = await leg.texts(msg.ref.chat)
    assert msg.ref.chat.thread_id  # the task lives in a thread of its own
    if leg.tracks_edits:
        assert [t.strip() for t in texts].count(ANSWER) == 1  # one message, in that thread
        assert len(runner.refs) == 1
        assert await leg.edits(runner.refs[0]) >= 1  # it grew by edits, not new posts
    else:
        assert texts[0].count(ANSWER) == 1  # the terminal printed it once, in order


async def test_long_answer_is_split_into_messages_within_the_limit(
    leg: Leg, tmp_path: Path
) -> None:
    lines = [f"line {i:02d}: " + "all good here " * 3 for i in range(30)]
    text = "\n".join(lines)
    assert len(text) > 3 * LIMIT
    runner = Streamer(text, pause=0.001)
    async with _core(leg, runner, tmp_path) as h:
        leg.sink.target = h.dispatcher.handle  # type: ignore[attr-defined]
        msg = await leg.mention("write the long report")
        await until(runner.done.is_set)
        texts = await leg.texts(msg.ref.chat)
    if leg.tracks_edits:
        parts = [t for t in texts if t.strip()]
        assert len(parts) >= 3 and all(len(t) <= LIMIT for t in parts)
        shown = "\n".join(t.strip() for t in parts).split("\n")
        assert [line.strip() for line in shown if line.strip()] == [x.strip() for x in lines]
    else:
        missing = [line for line in lines if line.strip() not in texts[0]]
        assert not missing, texts[0]


async def test_429_on_edits_loses_nothing(leg: Leg, tmp_path: Path) -> None:
    if not leg.can_rate_limit:
        pytest.skip(f"{leg.platform} has no rate limit")
    runner = Streamer(ANSWER, pause=0.02)
    async with _core(leg, runner, tmp_path) as h:
        leg.sink.target = h.dispatcher.handle  # type: ignore[attr-defined]
        await leg.rate_limit_next_edits()
        msg = await leg.mention("how full is the disk?")
        await until(runner.done.is_set, timeout=60)
        texts = await leg.texts(msg.ref.chat)
        rate_limited = h.metrics.get("hearth_chat_rate_limited_total", platform=leg.platform)

    assert [t.strip() for t in texts].count(ANSWER) == 1
    assert rate_limited >= 1  # the server did answer 429, and the answer still landed whole


async def test_approval_prompt_shows_everything_and_only_an_approver_decides(
    leg: Leg, tmp_path: Path
) -> None:
    command = "systemctl restart nginx && rm -rf /var/cache/nginx/*"
    holder: dict[str, ApprovalRunner] = {}

    def runner(broker):  # type: ignore[no-untyped-def]
        holder["r"] = ApprovalRunner(broker, command, cwd="/srv/www")
        return holder["r"]

    async with _core(leg, runner, tmp_path) as h:
        leg.sink.target = h.dispatcher.handle  # type: ignore[attr-defined]
        msg = await leg.mention("restart nginx")

        async def prompt():  # type: ignore[no-untyped-def]
            pending = await h.approvals.pending()
            return pending[0] if pending and pending[0].prompt is not None else None

        record = None
        async with asyncio.timeout(15):
            while record is None:
                record = await prompt()
                await asyncio.sleep(0.02)
        shown = await leg.prompt_text(record.prompt)
        for fact in (command, "/srv/www", record.id):
            assert fact in shown, (fact, shown)
        who = leg.approver
        assert who.display_name in shown or who.id in shown, shown  # who asked
        if leg.stranger is not None:
            await leg.click(record.prompt, record.id, leg.stranger)
            async with asyncio.timeout(15):
                while not await leg.refused(msg.ref.chat, leg.stranger):
                    await asyncio.sleep(0.05)
            assert not holder["r"].outcomes
        await leg.click(record.prompt, record.id, leg.approver)
        await until(lambda: holder["r"].outcomes)
        (outcome,) = holder["r"].outcomes
        assert outcome.approved
        assert outcome.decided_by is not None and outcome.decided_by.id == leg.approver.id
        await until(lambda: not h.pool.active())
        closed = await leg.prompt_text(record.prompt)
    assert "approved" in closed.lower()


async def test_restart_notice_reaches_the_thread(leg: Leg, tmp_path: Path) -> None:
    msg = await leg.mention("a task that was running when hearth stopped")
    db = Database(tmp_path / "restart.db", MIGRATIONS)
    await db.start()
    try:
        tasks = TaskStore(db)
        await tasks.create(
            task_id="t-old",
            requester=leg.approver.qualified,
            chat=msg.ref.chat,
            goal="old",
            now=0.0,
            running=True,
        )
        adapters = {leg.platform: leg.adapter}
        outbox = Outbox(adapters)
        pool = TaskPool(Streamer(""), tasks, limits=TaskLimits())
        dispatcher = Dispatcher(
            adapters,
            pool=pool,
            tasks=tasks,
            seen=SeenEventStore(db),
            access=AccessPolicy(),
            outbox=outbox,
        )
        assert await dispatcher.recover() == 1
        await outbox.start()
        await asyncio.wait_for(outbox.wait_empty(), 15)
        await outbox.stop()
        texts = await leg.texts(msg.ref.chat)
        assert outbox.delivered == 1
        assert any("hearth restarted while this task was running" in t for t in texts)
        (record,) = [r for r in await tasks.recent(limit=5) if r.id == "t-old"]
        assert record.status == "interrupted"
    finally:
        await db.close()
