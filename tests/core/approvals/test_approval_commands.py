"""`approve <id>` / `deny <id>`: the text fallback, unit-level and through the real dispatcher."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from core.approvals.broker import ApprovalBroker
from core.approvals.commands import approval_commands
from core.commands import Command, CommandContext
from core.events import (
    ApprovalOutcome,
    ApprovalResponse,
    ChatRef,
    Decision,
    IncomingMessage,
    MessageRef,
    User,
)
from core.storage.approvals import ApprovalStore
from tests.core.approvals.conftest import ANA, BOB, CARL, CHAT, eventually
from tests.fakes.adapter import FakeAdapter
from tests.support.harness import ApprovalRunner, Harness, core_harness

_ids = itertools.count(1)


def _msg(user: User, text: str, chat: ChatRef = CHAT, **kw: object) -> IncomingMessage:
    n = next(_ids)
    return IncomingMessage(
        ref=MessageRef(chat, f"u{n}"), author=user, text=text, event_id=f"ev{n}", **kw
    )  # type: ignore[arg-type]


def _commands(broker: ApprovalBroker) -> dict[str, Command]:
    out: dict[str, Command] = {}
    for c in approval_commands(broker):
        out[c.name] = c
        for alias in c.aliases:
            out[alias] = c
    return out


async def _run(broker: ApprovalBroker, adapter: FakeAdapter, user: User, line: str) -> str | None:
    word, _, args = line.partition(" ")
    command = _commands(broker)[word]
    ctx = CommandContext(
        name=command.name,
        args=args.strip(),
        message=_msg(user, line),
        chat=CHAT,
        adapter=adapter,
        is_admin=False,
    )
    return await command.handler(ctx)


async def _pending(
    broker: ApprovalBroker, adapter: FakeAdapter
) -> tuple[asyncio.Task[ApprovalOutcome], str]:
    task = asyncio.create_task(
        broker.request(chat=CHAT, command="rm -rf build", cwd="/ws", task_id="t1", requester=BOB)
    )
    await eventually(lambda: bool(adapter.approval_requests), "prompt")
    return task, adapter.approval_requests[-1].id


def test_only_approve_and_deny_exist(broker: ApprovalBroker) -> None:
    names = set(_commands(broker))
    assert names == {"approve", "deny", "reject", "!approve", "!deny", "!reject"}
    assert not names & {"yes", "y", "ok", "sure", "lgtm"}


async def test_approver_approves_by_text(broker: ApprovalBroker, adapter: FakeAdapter) -> None:
    task, approval_id = await _pending(broker, adapter)
    assert await _run(broker, adapter, ANA, f"approve {approval_id}") == f"Approved {approval_id}."
    outcome = await task
    assert outcome.approved and outcome.decided_by == ANA
    assert adapter.closed and adapter.closed[0][1].decided_by == ANA


async def test_deny_with_reason(
    broker: ApprovalBroker, adapter: FakeAdapter, store: ApprovalStore
) -> None:
    task, approval_id = await _pending(broker, adapter)
    reply = await _run(broker, adapter, ANA, f"deny `{approval_id}` not on a friday")
    assert reply == f"Denied {approval_id}."
    outcome = await task
    assert not outcome.approved and outcome.reason == "not on a friday"
    record = await store.get(approval_id)
    assert record is not None and record.reason == "not on a friday"
    closed = await _run(broker, adapter, ANA, f"approve {approval_id}")
    assert closed == f"Approval {approval_id} is already closed: denied (by Ana, not on a friday)."


async def test_non_approver_is_refused_and_nothing_changes(
    broker: ApprovalBroker, adapter: FakeAdapter
) -> None:
    task, approval_id = await _pending(broker, adapter)
    for user in (BOB, CARL):  # the requester is not an approver either
        reply = await _run(broker, adapter, user, f"approve {approval_id}")
        assert reply == f"@{user.display_name}, only approvers can decide approvals."
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("line", ["approve", "approve   ", "deny"])
async def test_missing_id_shows_usage(
    broker: ApprovalBroker, adapter: FakeAdapter, line: str
) -> None:
    reply = await _run(broker, adapter, ANA, line)
    assert reply is not None and reply.startswith("Usage: `")


async def test_unknown_id_is_answered_clearly(
    broker: ApprovalBroker, adapter: FakeAdapter
) -> None:
    reply = await _run(broker, adapter, ANA, "approve zzzz9999")
    assert reply == (
        "No approval with id 'zzzz9999'. Use the id shown on the prompt, e.g. `approve Ab3dE9xY`."
    )


# ---- through the real dispatcher (tests/support/harness.py) --------------------------------


async def _task_finished(h: Harness) -> None:
    """Leave the harness only once the task's end is stored (no writes after the db closes)."""
    for _ in range(2500):
        if not h.pool.active() and all(r.status == "done" for r in await h.tasks.recent()):
            return
        await asyncio.sleep(0.002)
    raise AssertionError("the task did not finish")


async def test_end_to_end_yes_approves_nothing_then_approve_id_does(tmp_path: Path) -> None:
    adapter = FakeAdapter()
    async with core_harness(
        {"fake": adapter},
        lambda broker: ApprovalRunner(broker, "rm -rf build", cwd=str(tmp_path)),
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({BOB.qualified, ANA.qualified, CARL.qualified}),
        approvers=frozenset({ANA.qualified}),
    ) as h:
        top = ChatRef("fake", "C1", "m100")
        await h.dispatcher.handle(_msg(BOB, "clean the build dir", top, mentions_bot=True))
        await eventually(lambda: bool(adapter.approval_requests), "approval prompt")
        request = adapter.approval_requests[0]
        assert request.command == "rm -rf build" and request.requester == BOB
        thread = request.chat
        # a bare "yes" (even from an approver) approves nothing
        await h.dispatcher.handle(_msg(ANA, "yes", thread, in_thread=True))
        await h.dispatcher.handle(_msg(BOB, "yes", thread, in_thread=True))
        # a stranger's click is refused with one short note
        prompt = MessageRef(thread, adapter.ops("post")[0][1])
        click = ApprovalResponse(
            approval_id=request.id,
            decision=Decision.APPROVE,
            user=CARL,
            prompt=None,
            event_id="click-1",
        )
        await h.dispatcher.handle(click)
        # the refusal note is the positive signal that the click was handled
        await eventually(lambda: any("only approvers" in t for t in adapter.texts()), "refusal")
        assert (await h.approvals.get(request.id)).status == "pending"  # type: ignore[union-attr]
        # the approver's text command decides it
        await h.dispatcher.handle(_msg(ANA, f"approve {request.id}", thread, in_thread=True))
        await eventually(
            lambda: any("`rm -rf build`: approved" in t for t in adapter.texts()), "verdict"
        )
        record = await h.approvals.get(request.id)
        assert record is not None and record.status == "approved"
        assert record.decided_by == ANA.qualified
        assert f"Approved {request.id}." in adapter.texts()
        assert not adapter.messages[prompt.message_id].buttons
        await _task_finished(h)


async def test_end_to_end_click_through_the_dispatcher(tmp_path: Path) -> None:
    """The click is routed inline while the task waits; a duplicate delivery changes nothing."""
    adapter = FakeAdapter()
    async with core_harness(
        {"fake": adapter},
        lambda broker: ApprovalRunner(broker, "systemctl restart nginx"),
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({BOB.qualified}),
        approvers=frozenset({ANA.qualified}),
    ) as h:
        await h.dispatcher.handle(
            _msg(BOB, "restart nginx", ChatRef("fake", "C1", "m7"), mentions_bot=True)
        )
        await eventually(lambda: bool(adapter.approval_requests), "approval prompt")
        request = adapter.approval_requests[0]
        prompt = next(m.ref for m in adapter.messages.values() if m.buttons)
        click = ApprovalResponse(
            approval_id=request.id,
            decision=Decision.DENY,
            user=ANA,
            prompt=prompt,
            event_id="act-1",
        )
        await h.dispatcher.handle(click)
        await h.dispatcher.handle(click)  # platform retry of the same delivery
        await eventually(
            lambda: any("not run (" in t for t in adapter.texts()), "the task's verdict"
        )
        assert len(adapter.closed) == 1
        outcome = adapter.closed[0][1]
        assert outcome.decision is Decision.DENY and outcome.decided_by == ANA
        assert h.metrics.get("hearth_approvals_total", outcome="denied") == 1
        await _task_finished(h)
