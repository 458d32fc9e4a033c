"""Discord + the real ApprovalBroker and its SQLite store: decisions, refusals, restarts."""

from __future__ import annotations

import asyncio

from core.approvals.broker import ApprovalBroker
from core.approvals.decisions import Resolution
from core.clock import SystemClock
from core.events import ApprovalResponse, ChatRef, Event, IncomingMessage, User
from core.storage.approvals import ApprovalStore
from tests.adapters.discord.conftest import APPROVERS, make_adapter, running
from tests.fakes.discord import ALICE, BOB, GENERAL_ID, FakeDiscord

REQUESTER = User("discord", ALICE["id"], "Alice")


class BrokerSink:
    """The dispatcher's approval routing, reduced to what this test needs."""

    def __init__(self) -> None:
        self.broker: ApprovalBroker | None = None
        self.messages: list[IncomingMessage] = []
        self.answers: list[Resolution] = []

    async def __call__(self, event: Event) -> None:
        match event:
            case ApprovalResponse():
                assert self.broker is not None
                self.answers.append(await self.broker.answer(event))
            case IncomingMessage():
                self.messages.append(event)


def _broker(adapter, store: ApprovalStore) -> ApprovalBroker:
    return ApprovalBroker(
        {"discord": adapter}, store, approvers=APPROVERS, timeout=600, clock=SystemClock()
    )


async def _ask(fake: FakeDiscord, sink: BrokerSink, broker: ApprovalBroker):
    await fake.user_message(GENERAL_ID, "restart nginx")
    [event] = await fake.wait_for(lambda: sink.messages)
    chat: ChatRef = event.ref.chat
    task = asyncio.create_task(
        broker.request(
            chat=chat,
            command="systemctl restart nginx",
            cwd="/srv",
            task_id="t-1",
            requester=REQUESTER,
            reasons=("restarts a service",),
        ),
        name="approval-request-under-test",
    )
    [prompt] = await fake.wait_for(
        lambda: [m for m in fake.messages_in(chat.thread_id) if m.has_buttons]
    )
    return chat, task, prompt


async def test_approver_click_decides_through_the_broker(fake, db) -> None:
    store, sink = ApprovalStore(db), BrokerSink()
    async with running(make_adapter(), sink) as adapter:
        sink.broker = broker = _broker(adapter, store)
        _chat, task, prompt = await _ask(fake, sink, broker)
        approval_id = prompt.custom_ids()[0].split(":")[1]

        refused = await fake.click(prompt.id, f"appr:{approval_id}:approve", user=BOB)
        await fake.wait_for(lambda: refused.callbacks)
        assert not task.done()

        await fake.click(prompt.id, f"appr:{approval_id}:approve", user=ALICE)
        outcome = await asyncio.wait_for(task, 5)

    assert outcome.approved and outcome.decided_by.id == ALICE["id"]
    assert sink.answers == [Resolution.NOT_ALLOWED, Resolution.DECIDED]
    assert refused.callbacks == [{"type": 6}]
    trail = [(e.actor, e.action) for e in await store.events(approval_id)]
    assert (f"discord:{BOB['id']}", "refused") in trail
    assert not prompt.has_buttons
    assert prompt.content.endswith("✅ Approved by Alice")
    assert "systemctl restart nginx" in prompt.content
    record = await store.get(approval_id)
    assert record is not None and record.status == "approved"
    assert record.prompt is not None and record.prompt.message_id == prompt.id


async def test_click_after_restart_resolves_through_the_stored_approval(fake, db) -> None:
    store = ApprovalStore(db)
    sink1 = BrokerSink()
    first = make_adapter()
    async with running(first, sink1):
        sink1.broker = _broker(first, store)
        chat, abandoned, prompt = await _ask(fake, sink1, sink1.broker)
    approval_id = prompt.custom_ids()[0].split(":")[1]

    # A new process: new adapter, new broker, same database, the old prompt still on screen.
    sink2 = BrokerSink()
    second = make_adapter()
    try:
        async with running(second, sink2):
            sink2.broker = broker = _broker(second, store)
            click = await fake.click(prompt.id, f"appr:{approval_id}:approve", user=ALICE)
            await fake.wait_for(lambda: sink2.answers)
            assert click.callbacks == [{"type": 6}]
            assert sink2.answers == [Resolution.CLOSED]  # found in the store, not run

            assert await broker.recover() == 1
    finally:
        abandoned.cancel()
        await asyncio.gather(abandoned, return_exceptions=True)

    record = await store.get(approval_id)
    assert record is not None and record.status == "expired"
    assert not prompt.has_buttons
    assert prompt.content.endswith("⌛ Expired (hearth restarted)")
    notes = [m.content for m in fake.messages_in(chat.thread_id)]
    assert any("hearth restarted while approval" in n for n in notes)
