"""Slack end to end through the real core: dispatcher, task pool, renderer, approval broker."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from core.approvals.broker import ApprovalBroker
from core.tasks import TaskContext
from tests.adapters.slack.conftest import FAST, RunningSlack, Starter
from tests.fakes.slack import FakeSlack, SlackMessage
from tests.support.harness import ApprovalRunner, Harness, core_harness

USERS = frozenset({"slack:U1", "slack:UBOSS", "slack:UMALLORY"})
APPROVERS = frozenset({"slack:UBOSS"})
CHUNKS = ["**Disk usage**\n\n", *[f"- /dev/sda{i}: {i * 7}% used\n" for i in range(1, 25)]]


class PacedRunner:
    """Streams chunks with short real pauses, like a model producing tokens."""

    def __init__(self, chunks: list[str], pause: float = 0.004) -> None:
        self.chunks = chunks
        self.pause = pause
        self.seen: list[TaskContext] = []
        self.cancelled = asyncio.Event()

    async def run(self, task: TaskContext) -> str:
        self.seen.append(task)
        try:
            async with task.thread.stream() as out:
                for chunk in self.chunks:
                    out.append(chunk)
                    await asyncio.sleep(self.pause)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return "done"


@asynccontextmanager
async def running_core(
    mode: str, start_slack: Starter, tmp_path: Path, runner: object
) -> AsyncIterator[tuple[RunningSlack, Harness]]:
    """A SlackAdapter feeding the real dispatcher."""
    holder: dict[str, Harness] = {}

    async def sink(event: object) -> None:
        await holder["h"].dispatcher.handle(event)  # type: ignore[arg-type]

    slack = await start_slack(mode, sink)
    async with core_harness(
        {"slack": slack.adapter},
        runner,  # type: ignore[arg-type]
        db_path=tmp_path / "hearth.db",
        allowed_users=USERS,
        approvers=APPROVERS,
        approval_timeout=60,
    ) as h:
        holder["h"] = h
        yield slack, h
        # Let finished tasks store their final status before the database closes (TaskPool
        # drops a task from its handles before that last write, so shutdown cannot see it).
        await until(lambda: not h.pool.active())
        async with asyncio.timeout(5):
            while {"queued", "running"} & set(await h.tasks.counts()):
                await asyncio.sleep(0.01)


async def until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait (bounded) until ``predicate()`` is truthy."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def final_answer(fake: FakeSlack, channel: str, thread: str) -> SlackMessage | None:
    msgs = fake.in_thread(channel, thread)
    return msgs[-1] if msgs and "▍" not in msgs[-1].text else None


def expected_text() -> str:
    lines = [f"• /dev/sda{i}: {i * 7}% used" for i in range(1, 25)]
    return "*Disk usage*\n\n" + "\n".join(lines)


async def test_mention_runs_a_task_that_streams_into_its_thread(
    mode: str, start_slack: Starter, fake: FakeSlack, tmp_path: Path
) -> None:
    runner = PacedRunner(CHUNKS)
    async with running_core(mode, start_slack, tmp_path, runner) as (slack, _):
        payload = fake.mention("C1", "U1", "how full are the disks?")
        thread = payload["event"]["ts"]
        await slack.deliver(payload)
        await until(lambda: runner.seen and final_answer(fake, "C1", thread))

        (task,) = runner.seen
        assert task.goal == "how full are the disks?"
        assert task.chat.thread_id == thread
        (answer,) = fake.in_thread("C1", thread)
        assert answer.text == expected_text()
        assert answer.edits >= 1
        times = [c.at for c in fake.calls_of("chat.update") if c.params["ts"] == answer.ts]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= FAST.min_edit_interval * 0.9 for gap in gaps), gaps


async def test_dm_runs_a_task(
    mode: str, start_slack: Starter, fake: FakeSlack, tmp_path: Path
) -> None:
    runner = PacedRunner(["up ", "3 days"])
    async with running_core(mode, start_slack, tmp_path, runner) as (slack, _):
        payload = fake.dm("D1", "U1", "uptime?")
        await slack.deliver(payload)
        thread = payload["event"]["ts"]
        await until(lambda: final_answer(fake, "D1", thread))
        assert runner.seen[0].is_direct
        assert fake.in_thread("D1", thread)[-1].text == "up 3 days"


async def test_duplicate_event_id_runs_nothing(
    mode: str, start_slack: Starter, fake: FakeSlack, tmp_path: Path
) -> None:
    """Same event_id twice: once to this process, once more to a freshly started adapter."""
    runner = PacedRunner(["ok"])
    async with running_core(mode, start_slack, tmp_path, runner) as (slack, h):
        payload = fake.mention("C1", "U1", "deploy the thing")
        await slack.deliver(payload)
        await slack.deliver(payload)  # a Slack retry
        await until(lambda: final_answer(fake, "C1", payload["event"]["ts"]))
        await until(lambda: not h.pool.active())
        # After the first task ended (no running task to absorb it as steering), a second
        # adapter instance with no memory of the first delivery hits the persisted guard.
        second = await start_slack("http", h.dispatcher.handle)
        await second.deliver(payload)
        sentinel = fake.mention("C1", "U1", "sentinel")
        await second.deliver(sentinel)  # handled after the replay: the positive signal
        await until(lambda: final_answer(fake, "C1", sentinel["event"]["ts"]))
        assert [t.goal for t in runner.seen] == ["deploy the thing", "sentinel"]
        assert len(fake.in_thread("C1", payload["event"]["ts"])) == 1


async def test_stop_in_the_thread_cancels_the_task(
    mode: str, start_slack: Starter, fake: FakeSlack, tmp_path: Path
) -> None:
    runner = PacedRunner([f"step {i}\n" for i in range(500)], pause=0.02)
    async with running_core(mode, start_slack, tmp_path, runner) as (slack, _):
        payload = fake.mention("C1", "U1", "long job")
        thread = payload["event"]["ts"]
        await slack.deliver(payload)
        await until(lambda: fake.in_thread("C1", thread))
        await slack.deliver(fake.thread_reply("C1", "U1", "stop", thread))
        await asyncio.wait_for(runner.cancelled.wait(), 5)
        await until(lambda: "Stopped" in fake.in_thread("C1", thread)[0].text)
        assert "▍" not in fake.in_thread("C1", thread)[0].text


async def test_other_replies_in_the_thread_steer_the_task(
    mode: str, start_slack: Starter, fake: FakeSlack, tmp_path: Path
) -> None:
    runner = PacedRunner([f"step {i}\n" for i in range(500)], pause=0.02)
    async with running_core(mode, start_slack, tmp_path, runner) as (slack, h):
        payload = fake.mention("C1", "U1", "long job")
        thread = payload["event"]["ts"]
        await slack.deliver(payload)
        await until(lambda: fake.in_thread("C1", thread))
        reply = fake.thread_reply("C1", "U1", "also check /tmp", thread)
        await slack.deliver(reply)
        reply_message = fake.messages[reply["event"]["ts"]]
        await until(lambda: ("eyes", fake.bot_user_id) in reply_message.reactions)
        assert runner.seen[0].take_steering() == ["also check /tmp"]
        for ctx in h.pool.active():
            h.pool.cancel(ctx.task_id, "test over")


async def test_rate_limited_streaming_is_delayed_not_lost(
    mode: str, start_slack: Starter, fake: FakeSlack, tmp_path: Path
) -> None:
    runner = PacedRunner(CHUNKS)
    fake.rate_limit("chat.update", times=2, retry_after=0)
    async with running_core(mode, start_slack, tmp_path, runner) as (slack, _):
        payload = fake.mention("C1", "U1", "disks?")
        await slack.deliver(payload)
        await until(lambda: final_answer(fake, "C1", payload["event"]["ts"]))
        (answer,) = fake.in_thread("C1", payload["event"]["ts"])
        assert answer.text == expected_text()
        assert [c.status for c in fake.calls_of("chat.update")].count(429) == 2


def _buttons(fake: FakeSlack, thread: str) -> SlackMessage | None:
    return next((m for m in fake.in_thread("C1", thread) if m.buttons), None)


async def test_approver_click_approves_the_command(
    mode: str, start_slack: Starter, fake: FakeSlack, tmp_path: Path
) -> None:
    def runner_for(broker: ApprovalBroker) -> ApprovalRunner:  # built once the broker exists
        return ApprovalRunner(broker, "systemctl restart nginx")

    async with running_core(mode, start_slack, tmp_path, runner_for) as (slack, _):
        payload = fake.mention("C1", "U1", "restart nginx")
        thread = payload["event"]["ts"]
        await slack.deliver(payload)
        await until(lambda: _buttons(fake, thread))
        prompt = _buttons(fake, thread)
        assert prompt is not None and "systemctl restart nginx" in prompt.block_text
        approve = prompt.buttons[0]["action_id"]
        assert approve.endswith(":approve")

        await slack.deliver(fake.button_click("UBOSS", prompt, approve))
        await until(lambda: "approved" in fake.in_thread("C1", thread)[-1].text)
        assert prompt.buttons == []
        assert "✅ Approved by uboss" in prompt.block_text


async def test_non_approver_click_is_refused(
    mode: str, start_slack: Starter, fake: FakeSlack, tmp_path: Path
) -> None:
    def runner_for(broker: ApprovalBroker) -> ApprovalRunner:
        return ApprovalRunner(broker, "rm -rf /srv/cache")

    async with running_core(mode, start_slack, tmp_path, runner_for) as (slack, _):
        payload = fake.mention("C1", "U1", "clean the cache")
        thread = payload["event"]["ts"]
        await slack.deliver(payload)
        await until(lambda: _buttons(fake, thread))
        prompt = _buttons(fake, thread)
        assert prompt is not None
        approve = prompt.buttons[0]["action_id"]

        await slack.deliver(fake.button_click("UMALLORY", prompt, approve))
        await until(lambda: "only approvers" in fake.in_thread("C1", thread)[-1].text)
        assert len(prompt.buttons) == 2  # nothing decided, the buttons stay

        deny = prompt.buttons[1]["action_id"]
        await slack.deliver(fake.button_click("UBOSS", prompt, deny))
        await until(lambda: "not run" in fake.in_thread("C1", thread)[-1].text)
        assert prompt.buttons == [] and "❌ Rejected by uboss" in prompt.block_text
