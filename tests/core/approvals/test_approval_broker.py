"""ApprovalBroker: approve, deny, registration, expiry, cancellation, restarts, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from core.approvals.broker import ApprovalBroker
from core.approvals.decisions import Resolution
from core.approvals.restart import RESTART_REASON
from core.events import (
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    MessageRef,
    Reaction,
)
from core.llm.base import ToolCall
from core.metrics import Metrics
from core.storage.approvals import ApprovalStore
from core.tools.base import ToolContext
from core.tools.builtin import build_tools
from tests.core.approvals.conftest import (
    ANA,
    BOB,
    CHAT,
    TIMEOUT,
    ManualClock,
    ask,
    click,
    eventually,
    shown_prompt,
)
from tests.fakes.adapter import FakeAdapter


async def test_approve(
    broker: ApprovalBroker,
    adapter: FakeAdapter,
    store: ApprovalStore,
    mclock: ManualClock,
    metrics: Metrics,
) -> None:
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    assert request.command == "rm -rf build" and request.cwd == "/srv/ws"
    assert request.task_id == "task-1" and request.requester == BOB
    assert request.reasons == ("deletes files (rm)",)
    assert len(request.id) <= 16
    mclock.advance(60)
    assert await broker.resolve(click(request, ANA, Decision.APPROVE, prompt))
    outcome = await task
    assert outcome.approved and outcome.decided_by == ANA
    assert outcome.reason == "approved by Ana"
    # the prompt shows the outcome and lost its buttons
    msg = adapter.messages[prompt.message_id]
    assert not msg.buttons and "approve" in msg.text.splitlines()[-1]
    assert adapter.closed == [(prompt, outcome)]
    record = await store.get(request.id)
    assert record is not None and record.status == "approved"
    assert record.decided_by == "fake:U1" and record.decided_by_name == "Ana"
    assert record.decided_at == pytest.approx(mclock.now())
    assert record.command == "rm -rf build" and record.cwd == "/srv/ws"
    assert record.requester == "fake:U2" and record.prompt == prompt
    actions = [e.action for e in await store.events(request.id)]
    assert actions == ["requested", "posted", "approved"]
    assert metrics.get("hearth_approvals_total", outcome="approved") == 1


async def test_deny(broker: ApprovalBroker, adapter: FakeAdapter, store: ApprovalStore) -> None:
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    result = await broker.answer(click(request, ANA, Decision.DENY, prompt), reason="no")
    assert result is Resolution.DECIDED
    outcome = await task
    assert not outcome.approved and outcome.decided_by == ANA and outcome.reason == "no"
    record = await store.get(request.id)
    assert record is not None and record.status == "denied" and record.reason == "no"
    assert adapter.closed[0][1].decision is Decision.DENY


async def test_request_is_registered_and_stored_before_the_prompt(
    make_broker: Callable[..., ApprovalBroker], store: ApprovalStore
) -> None:
    """A click delivered while ask_approval is still running is not lost."""
    seen: dict[str, object] = {}

    class ClickDuringPost(FakeAdapter):
        broker: ApprovalBroker | None = None

        async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
            seen["stored"] = await store.get(request.id)
            assert self.broker is not None
            seen["resolved"] = await self.broker.resolve(
                ApprovalResponse(approval_id=request.id, decision=Decision.APPROVE, user=ANA)
            )
            return await super().ask_approval(chat, request)

    adapter = ClickDuringPost()
    broker = make_broker(adapters={"fake": adapter})
    adapter.broker = broker
    outcome = await ask(broker)
    assert seen["stored"] is not None and seen["resolved"] is True
    assert outcome.approved
    assert len(adapter.closed) == 1


async def test_expiry_denies_and_closes_the_prompt(
    broker: ApprovalBroker,
    adapter: FakeAdapter,
    store: ApprovalStore,
    mclock: ManualClock,
    metrics: Metrics,
) -> None:
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    await eventually(lambda: mclock.pending_sleeps == 1, "the expiry timer")
    mclock.advance(TIMEOUT - 1)
    await asyncio.sleep(0)
    assert not task.done()
    mclock.advance(1)
    outcome = await task
    assert not outcome.approved and outcome.decided_by is None
    assert outcome.reason == "expired after 30 min"
    assert adapter.closed == [(prompt, outcome)]
    record = await store.get(request.id)
    assert record is not None and record.status == "expired"
    # a click after expiry does nothing
    assert await broker.answer(click(request, ANA, Decision.APPROVE, prompt)) is (
        Resolution.CLOSED
    )
    assert len(adapter.closed) == 1
    assert metrics.get("hearth_approvals_total", outcome="expired") == 1


async def test_cancelled_task_closes_its_prompt(
    broker: ApprovalBroker, adapter: FakeAdapter, store: ApprovalStore
) -> None:
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = await store.get(request.id)
    assert record is not None and record.status == "cancelled"
    assert adapter.closed[0][0] == prompt
    assert not adapter.messages[prompt.message_id].buttons
    assert await broker.answer(click(request, ANA, Decision.APPROVE, prompt)) is (
        Resolution.CLOSED
    )


async def test_prompt_that_cannot_be_posted_denies(
    make_broker: Callable[..., ApprovalBroker], store: ApprovalStore
) -> None:
    class Broken(FakeAdapter):
        async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
            raise RuntimeError("platform down")

    broker = make_broker(adapters={"fake": Broken()})
    outcome = await ask(broker)
    assert not outcome.approved and "could not be posted" in outcome.reason
    (record,) = await store.recent()
    assert record.status == "failed"


async def test_restart_closes_pending_prompts_and_tells_the_thread(
    make_broker: Callable[..., ApprovalBroker], adapter: FakeAdapter, store: ApprovalStore
) -> None:
    old = make_broker()
    task = ask(old)  # the process "dies" with this request pending
    request, prompt = await shown_prompt(adapter)
    new = make_broker()  # the restarted process: same database, same platform
    assert await new.recover() == 1
    assert await new.recover() == 0  # idempotent
    record = await store.get(request.id)
    assert record is not None and record.status == "expired" and record.reason == RESTART_REASON
    (closed_prompt, outcome) = adapter.closed[0]
    assert closed_prompt == prompt and outcome.reason == RESTART_REASON
    assert not adapter.messages[prompt.message_id].buttons
    told = [t for op, _, t in adapter.calls if op == "post" and "hearth restarted" in t]
    assert len(told) == 1 and request.id in told[0] and "rm -rf build" in told[0]
    # clicks and reactions on the old prompt after the restart are harmless
    assert await new.answer(click(request, ANA, Decision.APPROVE, prompt)) is Resolution.CLOSED
    assert await new.resolve_reaction(Reaction(target=prompt, key="✅", user=ANA))
    assert (await store.get(request.id)).status == "expired"  # type: ignore[union-attr]
    # even a click on the old process's in-memory request cannot approve it any more
    assert await old.answer(click(request, ANA, Decision.APPROVE, prompt)) is Resolution.CLOSED
    outcome = await task
    assert not outcome.approved and outcome.reason == RESTART_REASON
    assert len(adapter.closed) == 1  # the old waiter did not re-close the prompt


async def test_recover_leaves_its_own_pending_alone(
    broker: ApprovalBroker, adapter: FakeAdapter
) -> None:
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    assert await broker.recover() == 0
    assert await broker.resolve(click(request, ANA, Decision.APPROVE, prompt))
    assert (await task).approved


async def test_concurrent_approvals_in_two_tasks(
    broker: ApprovalBroker, adapter: FakeAdapter
) -> None:
    chat2 = ChatRef("fake", "C1", "T2")
    one = ask(broker, "rm a", task_id="task-1")
    two = ask(broker, "rm b", chat=chat2, task_id="task-2")
    req1, prompt1 = await shown_prompt(adapter, 1)
    req2, prompt2 = await shown_prompt(adapter, 2)
    assert req1.id != req2.id and {req1.command, req2.command} == {"rm a", "rm b"}
    by_command = {req1.command: (req1, prompt1), req2.command: (req2, prompt2)}
    ra, pa = by_command["rm a"]
    rb, pb = by_command["rm b"]
    assert await broker.resolve(click(rb, ANA, Decision.DENY, pb))
    assert await broker.resolve(click(ra, ANA, Decision.APPROVE, pa))
    out1, out2 = await asyncio.gather(one, two)
    assert out1.approved and not out2.approved
    closed = {ref.message_id: o.decision for ref, o in adapter.closed}
    assert closed == {pa.message_id: Decision.APPROVE, pb.message_id: Decision.DENY}


async def test_click_while_the_task_holds_its_conversation_lock(
    broker: ApprovalBroker, adapter: FakeAdapter, tmp_path: Path
) -> None:
    """The dispatcher resolves clicks inline: the task holding the lock is waiting for it."""
    lock = asyncio.Lock()
    tools = build_tools(workspace=tmp_path / "ws", broker=broker, secrets=[], shell_timeout=10)
    ctx = ToolContext(task_id="task-1", chat=CHAT, requester=BOB, workspace=tmp_path / "ws")

    async def task_body() -> str:
        async with lock:
            result = await tools.run(
                ToolCall("c1", "shell", {"command": "touch ok; rm -f x"}), ctx
            )
            return result.output

    task = asyncio.create_task(task_body(), name="task-1")
    request, prompt = await shown_prompt(adapter)
    assert lock.locked()
    async with asyncio.timeout(5):
        assert await broker.resolve(click(request, ANA, Decision.APPROVE, prompt))
    output = await task
    assert "exit code: 0" in output
    assert (tmp_path / "ws" / "ok").exists()
    assert request.cwd == str((tmp_path / "ws").resolve())


async def test_changed_command_needs_a_new_approval(
    broker: ApprovalBroker, adapter: FakeAdapter, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    tools = build_tools(workspace=ws, broker=broker, secrets=[], shell_timeout=10)
    ctx = ToolContext(task_id="task-1", chat=CHAT, requester=BOB, workspace=ws)
    first = asyncio.create_task(
        tools.run(ToolCall("c1", "shell", {"command": "touch one; rm -f x"}), ctx)
    )
    req1, prompt1 = await shown_prompt(adapter, 1)
    assert await broker.resolve(click(req1, ANA, Decision.APPROVE, prompt1))
    assert not (await first).is_error
    second = asyncio.create_task(
        tools.run(ToolCall("c2", "shell", {"command": "touch two; rm -f x"}), ctx)
    )
    req2, prompt2 = await shown_prompt(adapter, 2)
    assert req2.id != req1.id and req2.command == "touch two; rm -f x"
    # re-using the first approval's id decides nothing for the second command
    assert not await broker.resolve(click(req1, ANA, Decision.APPROVE, prompt1))
    assert not second.done()
    assert await broker.resolve(click(req2, ANA, Decision.DENY, prompt2))
    result = await second
    assert result.is_error and result.output.startswith("Not run: denied by Ana")
    assert (ws / "one").exists() and not (ws / "two").exists()


async def test_an_approval_that_cannot_be_recorded_does_not_run(
    make_broker: Callable[..., ApprovalBroker], adapter: FakeAdapter, store: ApprovalStore
) -> None:
    class FailingStore(ApprovalStore):
        async def decide(self, approval_id: str, **kwargs: object) -> bool:  # type: ignore[override]
            raise RuntimeError("disk full")

    broker = make_broker(store=FailingStore(store._db))
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    assert await broker.answer(click(request, ANA, Decision.APPROVE, prompt)) is (
        Resolution.CLOSED
    )
    outcome = await task
    assert not outcome.approved and outcome.reason == "the decision could not be recorded"


async def test_a_command_too_long_to_show_in_full_is_denied_without_a_prompt(
    broker: ApprovalBroker, adapter: FakeAdapter, store: ApprovalStore
) -> None:
    command = "echo " + "x" * 1600
    outcome = await ask(broker, command)
    assert not outcome.approved and "too long to show an approver" in outcome.reason
    assert adapter.approval_requests == []  # nothing half-visible was ever posted
    (record,) = await store.recent()
    assert record.status == "failed" and record.command == command  # still audited in full


async def test_a_command_holding_a_configured_secret_is_refused_without_a_prompt(
    make_broker: Callable[..., ApprovalBroker], adapter: FakeAdapter, store: ApprovalStore
) -> None:
    secret = "hunter2-but-longer"
    broker = make_broker(secrets=[secret])
    outcome = await ask(broker, f"curl -u admin:{secret} https://example.com/api")
    assert not outcome.approved and "contains a secret" in outcome.reason
    assert adapter.approval_requests == []  # nobody was shown it
    [record] = await store.recent()
    assert secret not in record.command and record.status == "failed"


async def test_a_multi_line_command_is_stored_and_shown_whole(
    broker: ApprovalBroker, adapter: FakeAdapter, store: ApprovalStore
) -> None:
    command = "cd /srv/app\ngit pull --ff-only\nrm -rf build"
    task = ask(broker, command)
    request, _prompt_ref = await shown_prompt(adapter)
    assert request.command == command
    assert (await store.get(request.id)).command == command  # type: ignore[union-attr]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
