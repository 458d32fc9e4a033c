"""Outbox: restart notices wait for the platform to connect, are retried, expire after a day."""

from __future__ import annotations

import asyncio

import pytest

from core.access import AccessPolicy
from core.approvals import RESTART_REASON, ApprovalBroker
from core.clock import utc
from core.dispatch import INTERRUPTED, Dispatcher
from core.errors import PlatformError
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    MessageRef,
    User,
)
from core.notices import CloseNotice, EditNotice, PostNotice, dump, load
from core.outbox import Outbox
from core.storage import Database
from core.storage.approvals import ApprovalStore
from core.storage.outbox import OutboxStore
from core.storage.seen import SeenEventStore
from core.storage.tasks import TaskStore
from core.taskpool import TaskLimits, TaskPool
from tests.core.test_dispatch import BlockingRunner
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

CHAT = ChatRef("fake", "C1", "T1")
ANA = User("fake", "ana", "Ana")


class FlakyAdapter(FakeAdapter):
    """Not connected until told; its first posts fail."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__()
        self.failures = failures

    async def post(self, chat, text):
        if self.failures:
            self.failures -= 1
            self.calls.append(("post-failed", "", text))
            raise PlatformError("discord adapter is not connected")
        return await super().post(chat, text)


async def test_notices_wait_for_the_connection_and_are_retried() -> None:
    adapter = FlakyAdapter(failures=2)
    clock = FakeClock()
    outbox = Outbox({"fake": adapter}, clock=clock)
    await outbox.put("fake", "restart notice", PostNotice(CHAT, "hearth restarted"))
    await outbox.start()
    for _ in range(50):
        await asyncio.sleep(0)
    assert adapter.calls == []  # not connected: nothing tried yet
    adapter.connected = True
    await asyncio.wait_for(outbox.wait_empty(), 5)
    await outbox.stop()
    assert [op for op, _, _ in adapter.calls] == ["post-failed", "post-failed", "post"]
    assert adapter.texts() == ["hearth restarted"]
    assert outbox.delivered == 1


async def test_a_notice_older_than_a_day_is_dropped() -> None:
    adapter = FlakyAdapter(failures=10_000)
    adapter.connected = True
    clock = FakeClock()
    outbox = Outbox({"fake": adapter}, clock=clock)
    await outbox.put("fake", "restart notice", PostNotice(CHAT, "hearth restarted"))
    await outbox.start()
    await asyncio.wait_for(outbox.wait_empty(), 5)
    await outbox.stop()
    assert outbox.dropped == 1 and outbox.delivered == 0
    assert clock.monotonic() - 1000.0 >= 24 * 3600  # it kept trying for a day of (fake) time


async def test_a_click_on_a_prompt_closed_by_a_restart_is_answered(db: Database) -> None:
    adapter = FakeAdapter()
    adapter.connected = True
    store = ApprovalStore(db)
    clock = FakeClock()
    # What a killed process leaves behind: a pending approval whose prompt is in the thread.
    request = ApprovalRequest(
        id="Ab3dE9xY",
        chat=CHAT,
        command="rm -r build",
        cwd="/w",
        task_id="t1",
        requester=ANA,
        expires_at=utc(clock.now() + 60),
    )
    await store.add(request, created_at=clock.now(), expires_at=clock.now() + 60)
    prompt = await adapter.ask_approval(CHAT, request)
    await store.set_prompt(request.id, prompt, at=clock.now())

    outbox = Outbox({"fake": adapter}, clock=clock)
    broker = ApprovalBroker(
        {"fake": adapter},
        store,
        approvers=frozenset({ANA.qualified}),
        timeout=60,
        clock=clock,
        outbox=outbox,
    )
    assert await broker.recover() == 1
    assert adapter.closed == []  # nothing is sent before the outbox runs
    await outbox.start()
    await asyncio.wait_for(outbox.wait_empty(), 5)
    await outbox.stop()
    assert adapter.messages[prompt.message_id].buttons is False  # the old prompt shows expired
    assert adapter.closed[0][1].reason == RESTART_REASON
    assert "hearth restarted while approval Ab3dE9xY" in adapter.texts()[-1]

    click = ApprovalResponse(
        approval_id=request.id, decision=Decision.APPROVE, user=ANA, prompt=prompt
    )
    assert not await broker.resolve(click)
    assert adapter.texts()[-1].startswith("Approval `Ab3dE9xY` expired when hearth restarted")
    assert not await broker.resolve(click)  # the same person again: no second note
    assert sum("expired when hearth restarted" in t for t in adapter.texts()) == 1
    unknown = ApprovalResponse(
        approval_id="Zz9yX8wV", decision=Decision.APPROVE, user=ANA, prompt=prompt
    )
    assert not await broker.resolve(unknown)
    assert adapter.texts()[-1].startswith("Approval `Zz9yX8wV` is unknown here")


async def test_a_restart_notice_survives_another_restart_before_the_platform_is_back(
    db: Database,
) -> None:
    tasks = TaskStore(db)
    clock = FakeClock()
    await tasks.create(
        task_id="t-old", requester=ANA.qualified, chat=CHAT, goal="old", now=0.0, running=True
    )
    adapter = FlakyAdapter()  # not connected in the first two runs

    async def one_run(*, connect: bool) -> Outbox:
        outbox = Outbox({"fake": adapter}, store=OutboxStore(db), clock=clock)
        dispatcher = Dispatcher(
            {"fake": adapter},
            pool=TaskPool(BlockingRunner(), tasks, limits=TaskLimits()),
            tasks=tasks,
            seen=SeenEventStore(db),
            access=AccessPolicy(),
            outbox=outbox,
            clock=clock,
        )
        await dispatcher.recover()
        await outbox.start()
        if connect:
            adapter.connected = True
            await asyncio.wait_for(outbox.wait_empty(), 5)
        await outbox.stop()
        return outbox

    first = await one_run(connect=False)
    assert first.pending() == 1 and adapter.texts() == []
    second = await one_run(connect=False)  # the task is no longer running: only the store knows
    assert second.pending() == 1 and adapter.texts() == []
    third = await one_run(connect=True)
    assert third.delivered == 1
    assert adapter.texts() == [INTERRUPTED]
    fourth = await one_run(connect=True)  # told once: nothing is left to tell
    assert fourth.delivered == 0 and adapter.texts() == [INTERRUPTED]
    assert await OutboxStore(db).waiting() == []


def test_stored_notices_read_back_as_they_were() -> None:
    outcome = ApprovalOutcome(
        decision=Decision.DENY, decided_by=None, decided_at=utc(5.0), reason=RESTART_REASON
    )
    by_ana = ApprovalOutcome(
        decision=Decision.APPROVE, decided_by=ANA, decided_at=utc(6.0), reason="approved by Ana"
    )
    for notice in (
        PostNotice(CHAT, "hearth restarted ✅"),
        PostNotice(ChatRef("slack", "C9"), "no thread"),
        CloseNotice(MessageRef(CHAT, "m1"), outcome),
        CloseNotice(MessageRef(CHAT, "m2"), by_ana),
        EditNotice(MessageRef(CHAT, "m3"), "✅ Done: check the disks"),
        EditNotice(MessageRef(ChatRef("slack", "C9"), "m4"), "✅ Done"),
    ):
        assert load(*dump(notice)) == notice
    with pytest.raises(ValueError, match="unknown notice kind"):
        load("shout", "{}")
    with pytest.raises(ValueError, match="unreadable post notice"):
        load("post", '{"chat": 3}')
