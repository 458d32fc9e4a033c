"""Dispatcher end to end on the real core with a recording adapter."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.events import (
    ApprovalResponse,
    ChatRef,
    Decision,
    IncomingMessage,
    MessageRef,
    User,
)
from core.storage import MIGRATIONS, Database
from core.storage.tasks import TaskStore
from core.taskpool import TaskLimits
from core.tasks import TaskContext
from tests.fakes.adapter import FakeAdapter
from tests.support.harness import ApprovalRunner, StreamingRunner, core_harness

ANA = User("fake", "ana", "Ana")
BOB = User("fake", "bob", "Bob")
ADMIN = User("fake", "root", "Root")
BOT = User("fake", "hearth", "hearth", is_bot=True)


def mention(
    text: str,
    *,
    msg_id: str,
    user: User = ANA,
    thread: str | None = None,
    event_id: str = "",
    in_thread: bool = False,
    mentions: bool = True,
) -> IncomingMessage:
    chat = ChatRef("fake", "C1", thread or msg_id)
    return IncomingMessage(
        ref=MessageRef(chat, msg_id),
        author=user,
        text=text,
        mentions_bot=mentions,
        event_id=event_id,
        in_thread=in_thread,
    )


class BlockingRunner:
    """Runs until released; records steering and cancellation."""

    def __init__(self) -> None:
        self.started: list[TaskContext] = []
        self.release = asyncio.Event()
        self.cancelled: list[str] = []
        self.steering: list[str] = []

    async def run(self, task: TaskContext) -> str:
        self.started.append(task)
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.append(task.task_id)
            raise
        self.steering += task.take_steering()
        await task.thread.say(f"done: {task.goal}")
        return "ok"


class FailingRunner:
    async def run(self, task: TaskContext) -> str:
        raise RuntimeError("model server exploded\nwith a long traceback")


async def settle(n: int = 30) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def wait_for(predicate, timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.001)


async def test_mention_streams_an_answer_into_its_thread(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    runner = StreamingRunner(["Hello", " there"])
    async with core_harness(
        {"fake": adapter}, runner, db_path=tmp_path / "db", allowed_users=frozenset({"fake:ana"})
    ) as h:
        await h.dispatcher.handle(mention("what time is it?", msg_id="100"))
        await wait_for(lambda: h.pool.active() == [] and adapter.messages)
        await settle()
        assert adapter.texts(ChatRef("fake", "C1", "100")) == ["Hello there"]
        assert (await h.tasks.counts()) == {"done": 1}


async def test_duplicate_delivery_runs_nothing(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    runner = StreamingRunner(["once"])
    async with core_harness(
        {"fake": adapter}, runner, db_path=tmp_path / "db", allowed_users=frozenset({"fake:ana"})
    ) as h:
        msg = mention("do it", msg_id="100", event_id="Ev1")
        await h.dispatcher.handle(msg)
        await h.dispatcher.handle(msg)
        await wait_for(lambda: not h.pool.active())
        await settle()
    assert len(runner.seen) == 1
    assert adapter.texts() == ["once"]


async def test_duplicates_survive_a_restart(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    runner = StreamingRunner(["once"])
    msg = mention("do it", msg_id="100", event_id="Ev1")
    for _ in range(2):
        async with core_harness(
            {"fake": adapter},
            runner,
            db_path=tmp_path / "db",
            allowed_users=frozenset({"fake:ana"}),
        ) as h:
            await h.dispatcher.handle(msg)
            await wait_for(lambda h=h: not h.pool.active())
    assert len(runner.seen) == 1


async def test_bots_and_unaddressed_chatter_are_ignored(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    runner = BlockingRunner()
    async with core_harness(
        {"fake": adapter}, runner, db_path=tmp_path / "db", allowed_users=frozenset({"fake:ana"})
    ) as h:
        await h.dispatcher.handle(mention("hi", msg_id="1", user=BOT))
        await h.dispatcher.handle(mention("hi all", msg_id="2", mentions=False))
        await settle()
        assert runner.started == [] and adapter.calls == []


async def test_unauthorized_user_gets_one_polite_refusal(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    runner = BlockingRunner()
    async with core_harness(
        {"fake": adapter}, runner, db_path=tmp_path / "db", allowed_users=frozenset({"fake:ana"})
    ) as h:
        await h.dispatcher.handle(mention("rm everything", msg_id="1", user=BOB))
        await settle()
    assert runner.started == []
    assert len(adapter.calls) == 1
    assert "allowlist" in adapter.calls[0][2] and "fake:bob" in adapter.calls[0][2]


async def test_empty_allowlist_means_only_admins(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    runner = StreamingRunner(["ok"])
    async with core_harness(
        {"fake": adapter}, runner, db_path=tmp_path / "db", admins=frozenset({"fake:root"})
    ) as h:
        await h.dispatcher.handle(mention("task", msg_id="1", user=ANA))
        await h.dispatcher.handle(mention("task", msg_id="2", user=ADMIN))
        await wait_for(lambda: not h.pool.active() and len(adapter.messages) == 2)
    assert [t.requester for t in runner.seen] == [ADMIN]


async def test_help_and_status_are_answered_directly(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    runner = BlockingRunner()
    async with core_harness(
        {"fake": adapter}, runner, db_path=tmp_path / "db", allowed_users=frozenset({"fake:ana"})
    ) as h:
        await h.dispatcher.handle(mention("help", msg_id="1"))
        await h.dispatcher.handle(mention("fix the build", msg_id="2"))
        await wait_for(lambda: runner.started)
        await h.dispatcher.handle(mention("status", msg_id="3"))
        runner.release.set()
    help_text, status_text = adapter.texts()[0], adapter.texts()[1]
    assert "`approve <id>`" in help_text and "`status`" in help_text
    assert "Running 1/4" in status_text and "fix the build" in status_text


async def test_stop_in_the_thread_cancels_the_task(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    runner = BlockingRunner()
    async with core_harness(
        {"fake": adapter}, runner, db_path=tmp_path / "db", allowed_users=frozenset({"fake:ana"})
    ) as h:
        await h.dispatcher.handle(mention("long job", msg_id="100"))
        await wait_for(lambda: runner.started)
        await h.dispatcher.handle(
            mention("stop", msg_id="101", thread="100", in_thread=True, mentions=False)
        )
        await wait_for(lambda: not h.pool.active())
        task_id = runner.started[0].task_id
        assert runner.cancelled == [task_id]
        assert (await h.tasks.get(task_id)).status == "cancelled"
    assert adapter.texts() == ["⏹ Stopped by Ana."]


async def test_thread_replies_steer_the_running_task_and_yes_approves_nothing(
    tmp_path: Path,
) -> None:
    adapter = FakeAdapter()
    runner = BlockingRunner()
    async with core_harness(
        {"fake": adapter}, runner, db_path=tmp_path / "db", allowed_users=frozenset({"fake:ana"})
    ) as h:
        await h.dispatcher.handle(mention("deploy", msg_id="100"))
        await wait_for(lambda: runner.started)
        for i, text in enumerate(["use the staging cluster", "yes"]):
            await h.dispatcher.handle(
                mention(text, msg_id=f"10{i + 1}", thread="100", in_thread=True, mentions=False)
            )
        runner.release.set()
        await wait_for(lambda: not h.pool.active())
        assert await h.approvals.recent() == []
    assert runner.steering == ["use the staging cluster", "yes"]
    assert [c for c in adapter.calls if c[0] == "react"] == [
        ("react", "101", "👀"),
        ("react", "102", "👀"),
    ]


async def test_concurrency_limits_queue_and_refuse(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    runner = BlockingRunner()
    async with core_harness(
        {"fake": adapter},
        runner,
        db_path=tmp_path / "db",
        allowed_users=frozenset({"fake:ana", "fake:bob"}),
        limits=TaskLimits(max_concurrent=1, per_user=1),
    ) as h:
        await h.dispatcher.handle(mention("first", msg_id="1"))
        await wait_for(lambda: runner.started)
        await h.dispatcher.handle(mention("second", msg_id="2", user=BOB))
        await h.dispatcher.handle(mention("third", msg_id="3"))
        await settle()
        assert len(runner.started) == 1
        texts = adapter.texts()
        assert any(t.startswith("⏳ Queued") and "0 task(s) waiting ahead" in t for t in texts)
        assert any("already have 1 task" in t for t in texts)
        runner.release.set()
        await wait_for(lambda: not h.pool.active())
    assert [t.goal for t in runner.started] == ["first", "second"]


async def test_failed_task_is_reported_in_one_line(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    async with core_harness(
        {"fake": adapter},
        FailingRunner(),
        db_path=tmp_path / "db",
        allowed_users=frozenset({"fake:ana"}),
    ) as h:
        await h.dispatcher.handle(mention("boom", msg_id="1"))
        await wait_for(lambda: not h.pool.active() and adapter.calls)
        assert (await h.tasks.counts()) == {"failed": 1}
    assert adapter.texts() == ["❌ Failed: RuntimeError: model server exploded"]


async def test_restart_marks_running_tasks_interrupted_and_tells_the_thread(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "db", MIGRATIONS)
    await db.start()
    store = TaskStore(db)
    chat = ChatRef("fake", "C1", "100")
    await store.create(task_id="t1", requester="fake:ana", chat=chat, goal="x", now=1.0)
    await store.mark_running("t1", 2.0)
    await db.close()
    adapter = FakeAdapter()
    async with core_harness({"fake": adapter}, BlockingRunner(), db_path=tmp_path / "db") as h:
        assert (await h.tasks.get("t1")).status == "interrupted"
    assert adapter.ops("post")[0][2].startswith("⚠️ hearth restarted")
    assert next(iter(adapter.messages.values())).ref.chat == chat


async def test_approval_click_resolves_while_task_waits(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    async with core_harness(
        {"fake": adapter},
        lambda broker: ApprovalRunner(broker, "systemctl restart nginx"),
        db_path=tmp_path / "db",
        allowed_users=frozenset({"fake:ana"}),
        approvers=frozenset({"fake:root"}),
    ) as h:
        await h.dispatcher.handle(mention("restart nginx", msg_id="100"))
        await wait_for(lambda: adapter.approval_requests)
        request = adapter.approval_requests[0]
        prompt = next(m.ref for m in adapter.messages.values() if m.buttons)
        click = ApprovalResponse(
            approval_id=request.id,
            decision=Decision.APPROVE,
            user=ADMIN,
            prompt=prompt,
            event_id="click1",
        )
        await h.dispatcher.handle(click)
        await wait_for(lambda: not h.pool.active())
    assert adapter.texts()[-1] == "`systemctl restart nginx`: approved"
    assert not adapter.messages[prompt.message_id].buttons


async def test_a_task_that_cannot_start_is_answered_not_dropped(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    runner = BlockingRunner()
    async with core_harness(
        {"fake": adapter}, runner, db_path=tmp_path / "db", allowed_users=frozenset({"fake:ana"})
    ) as h:
        await h.pool.shutdown(grace=0)
        await h.dispatcher.handle(mention("deploy now", msg_id="1"))
    assert runner.started == []
    assert adapter.texts() == [
        "⚠️ I could not start that task (hearth is shutting down). Please ask again."
    ]


async def test_two_requests_at_once_from_one_user_keep_the_per_user_limit(
    tmp_path: Path,
) -> None:
    """Platforms hand hearth events concurrently (slack-bolt, Matrix lanes): the limit holds."""
    adapter = FakeAdapter()
    runner = BlockingRunner()
    async with core_harness(
        {"fake": adapter},
        runner,
        db_path=tmp_path / "db",
        allowed_users=frozenset({"fake:ana"}),
        limits=TaskLimits(max_concurrent=4, per_user=1),
    ) as h:
        await asyncio.gather(
            h.dispatcher.handle(mention("first", msg_id="1")),
            h.dispatcher.handle(mention("second", msg_id="2")),
        )
        await wait_for(lambda: runner.started)
        assert len(h.pool.active()) == 1
        assert sum("already have 1 task" in t for t in adapter.texts()) == 1
        runner.release.set()
        await wait_for(lambda: not h.pool.active())
        await h.pool.idle()
        assert (await h.tasks.counts()) == {"done": 1}
    assert len(runner.started) == 1

