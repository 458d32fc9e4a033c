"""Approve / Reject buttons end to end: real ApprovalBroker, real bolt, loopback Slack."""

from __future__ import annotations

import asyncio

from core.approvals.broker import ApprovalBroker
from core.clock import SystemClock
from core.events import ApprovalResponse, ChatRef, Event, Reaction, User
from core.storage import Database
from core.storage.approvals import ApprovalStore
from tests.adapters.slack.conftest import RunningSlack, Starter
from tests.fakes.slack import FakeSlack, SlackMessage

APPROVER = "UBOSS"


class BrokerSink:
    """The part of the dispatcher that matters here: clicks and reactions go to the broker."""

    def __init__(self) -> None:
        self.broker: ApprovalBroker | None = None
        self.handled = 0  # events the broker has finished with: the positive signal to wait for

    async def __call__(self, event: Event) -> None:
        assert self.broker is not None
        match event:
            case ApprovalResponse():
                await self.broker.resolve(event)
            case Reaction():
                await self.broker.resolve_reaction(event)
        self.handled += 1

    async def wait_handled(self, count: int) -> None:
        """Wait (bounded) until the broker has finished with ``count`` events."""
        async with asyncio.timeout(5):
            while self.handled < count:
                await asyncio.sleep(0.005)


async def _setup(
    mode: str, start_slack: Starter, fake: FakeSlack, db: Database
) -> tuple[RunningSlack, ApprovalBroker, BrokerSink]:
    sink = BrokerSink()
    slack = await start_slack(mode, sink)
    sink.broker = ApprovalBroker(
        {"slack": slack.adapter},
        ApprovalStore(db),
        approvers=frozenset({f"slack:{APPROVER}"}),
        timeout=60,
        clock=SystemClock(),
    )
    return slack, sink.broker, sink


async def _prompt(fake: FakeSlack, chat: ChatRef) -> SlackMessage:
    async with asyncio.timeout(5):
        while True:
            prompts = [
                m for m in fake.in_thread(chat.channel_id, chat.thread_id or "") if m.buttons
            ]
            if prompts:
                return prompts[0]
            await asyncio.sleep(0.01)


def _ask(broker: ApprovalBroker, chat: ChatRef) -> asyncio.Task:
    return asyncio.create_task(
        broker.request(
            chat=chat,
            command="systemctl restart nginx",
            cwd="/srv",
            task_id="t-7",
            requester=User("slack", "U1", "ann"),
            reasons=("restarts a service",),
        ),
        name="approval-request",
    )


async def test_approver_click_approves(
    mode: str, start_slack: Starter, fake: FakeSlack, db: Database
) -> None:
    slack, broker, sink = await _setup(mode, start_slack, fake, db)
    chat = ChatRef("slack", "C1", fake.user_message("C1", "U1", "restart nginx").ts)
    request = _ask(broker, chat)
    prompt = await _prompt(fake, chat)
    assert "systemctl restart nginx" in prompt.block_text and "/srv" in prompt.block_text

    approve = next(b["action_id"] for b in prompt.buttons if b["action_id"].endswith(":approve"))
    await slack.deliver(fake.button_click(APPROVER, prompt, approve))
    outcome = await asyncio.wait_for(request, 5)

    assert outcome.approved and outcome.decided_by is not None
    assert outcome.decided_by.id == APPROVER
    assert prompt.buttons == []  # the prompt was rewritten without buttons
    assert f"✅ Approved by {APPROVER.lower()}" in prompt.block_text
    # a late second click changes nothing, but is answered (once) so it never seems ignored
    posts = len(fake.calls_of("chat.postMessage"))
    late = approve.replace("approve", "deny")
    await slack.deliver(fake.button_click(APPROVER, prompt, late))
    await sink.wait_handled(2)
    assert len(fake.calls_of("chat.postMessage")) == posts + 1
    note = fake.in_thread("C1", chat.thread_id or "")[-1]
    assert "was already decided: approved by" in note.text
    await slack.deliver(fake.button_click(APPROVER, prompt, late))
    await slack.deliver(fake.button_click(APPROVER, prompt, approve))
    await sink.wait_handled(4)
    assert len(fake.calls_of("chat.postMessage")) == posts + 1  # one answer per user
    assert f"✅ Approved by {APPROVER.lower()}" in prompt.block_text


async def test_non_approver_click_is_refused(
    mode: str, start_slack: Starter, fake: FakeSlack, db: Database
) -> None:
    slack, broker, _ = await _setup(mode, start_slack, fake, db)
    chat = ChatRef("slack", "C1", fake.user_message("C1", "U1", "restart nginx").ts)
    request = _ask(broker, chat)
    prompt = await _prompt(fake, chat)
    approve = next(b["action_id"] for b in prompt.buttons if b["action_id"].endswith(":approve"))

    await slack.deliver(fake.button_click("UMALLORY", prompt, approve))
    async with asyncio.timeout(5):
        while len(fake.in_thread("C1", chat.thread_id or "")) < 2:
            await asyncio.sleep(0.01)
    note = fake.in_thread("C1", chat.thread_id or "")[-1]
    assert "only approvers" in note.text
    assert not request.done()
    assert len(prompt.buttons) == 2  # still open

    deny = approve.replace(":approve", ":deny")
    await slack.deliver(fake.button_click(APPROVER, prompt, deny))
    outcome = await asyncio.wait_for(request, 5)
    assert not outcome.approved and outcome.decided_by is not None
    assert outcome.decided_by.id == APPROVER
    assert prompt.buttons == [] and "❌ Rejected by" in prompt.block_text


async def test_check_mark_reaction_by_approver_approves(
    start_slack: Starter, fake: FakeSlack, db: Database
) -> None:
    slack, broker, _ = await _setup("socket", start_slack, fake, db)
    chat = ChatRef("slack", "C1", fake.user_message("C1", "U1", "restart nginx").ts)
    request = _ask(broker, chat)
    prompt = await _prompt(fake, chat)
    await slack.deliver(fake.reaction_added(APPROVER, "white_check_mark", prompt))
    outcome = await asyncio.wait_for(request, 5)
    assert outcome.approved and prompt.buttons == []
