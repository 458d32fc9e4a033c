"""The approval audit in view: `approvals` in chat and the JSONL export of a scripted session."""

from __future__ import annotations

import asyncio
import io
import json

from core.approvals import ApprovalBroker
from core.commands import CommandContext
from core.events import ApprovalResponse, ChatRef, Decision, IncomingMessage, MessageRef, User
from core.storage.approval_history import ApprovalHistory
from core.storage.approvals import ApprovalStore
from core.storage.audit import export_approvals
from core.team.approvals_view import approvals_command
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

OPS = User("fake", "UOPS", "Ops")  # approver
DEV = User("fake", "UDEV", "Dev")  # requester
HERE = ChatRef("fake", "C1")
ELSEWHERE = ChatRef("fake", "C2")


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def _session(db, adapter: FakeAdapter, clock: FakeClock) -> tuple[list[str], asyncio.Task]:
    """Four requests: approved, denied after a refused click, expired, and one still pending."""
    broker = ApprovalBroker(
        {"fake": adapter},
        ApprovalStore(db),
        approvers=frozenset({OPS.qualified}),
        timeout=600,
        clock=clock,
    )

    def ask(command: str, chat: ChatRef) -> asyncio.Task:
        return asyncio.create_task(
            broker.request(
                chat=chat.in_thread(f"t-{command}"),
                command=command,
                cwd="/srv",
                task_id=f"task-{command}",
                requester=DEV,
            )
        )

    async def answer(user: User, decision: Decision) -> None:
        [approval_id] = [i for i in broker.pending_ids() if i not in seen]
        seen.append(approval_id)
        await broker.answer(
            ApprovalResponse(approval_id=approval_id, decision=decision, user=user)
        )

    seen: list[str] = []
    first = ask("systemctl restart nginx", HERE)
    await _settle()
    clock.advance(2)
    await answer(OPS, Decision.APPROVE)
    assert (await first).approved
    clock.advance(5)

    second = ask("rm -rf build", HERE)
    await _settle()
    [second_id] = broker.pending_ids()
    refused = ApprovalResponse(approval_id=second_id, decision=Decision.APPROVE, user=DEV)
    await broker.answer(refused)  # the requester is no approver: refused, recorded
    await answer(OPS, Decision.DENY)
    assert not (await second).approved
    clock.advance(5)

    third = ask("reboot", ELSEWHERE)
    await _settle()
    seen.extend(broker.pending_ids())
    clock.advance(601)  # nobody answers: expired = denied
    assert not (await third).approved

    waiting = ask("apt upgrade", HERE)  # still waiting
    await _settle()
    seen.extend(broker.pending_ids())
    return seen, waiting


def _ctx(adapter: FakeAdapter, args: str) -> CommandContext:
    msg = IncomingMessage(ref=MessageRef(HERE.in_thread("x"), "x"), author=DEV, text="approvals")
    return CommandContext(
        name="approvals",
        args=args,
        message=msg,
        chat=msg.ref.chat,
        adapter=adapter,
        is_admin=False,
    )


async def test_export_holds_every_decision_of_the_session_in_order(db) -> None:
    clock, adapter = FakeClock(auto_advance=False), FakeAdapter()
    ids, waiting = await _session(db, adapter, clock)
    out = io.StringIO()
    count = await export_approvals(db, out, since=None)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == 4
    assert [x["id"] for x in lines] == ids
    assert [(x["command"], x["status"], x["decided_by"]) for x in lines] == [
        ("systemctl restart nginx", "approved", OPS.qualified),
        ("rm -rf build", "denied", OPS.qualified),
        ("reboot", "expired", None),
        ("apt upgrade", "pending", None),
    ]
    assert all(x["requester"] == DEV.qualified and x["cwd"] == "/srv" for x in lines)
    assert lines[0]["created_at"] < lines[0]["decided_at"]
    actions = [(e["actor"], e["action"]) for e in lines[1]["events"]]
    # "posted" (the prompt's message id stored) may land after a fast click: the request is
    # registered before its prompt exists, so the decision can come first.
    decisions = [a for a in actions if a[1] != "posted"]
    assert (DEV.qualified, "refused") in actions and decisions[-1] == (OPS.qualified, "denied")

    since = io.StringIO()
    await export_approvals(db, since, since=clock.now() - 300)
    assert [json.loads(x)["command"] for x in since.getvalue().splitlines()] == ["apt upgrade"]


async def test_approvals_command_shows_this_channels_pending_and_recent(db) -> None:
    clock, adapter = FakeClock(auto_advance=False), FakeAdapter()
    ids, waiting = await _session(db, adapter, clock)
    command = approvals_command(ApprovalHistory(db), clock=clock)

    pending = await command.handler(_ctx(adapter, ""))
    assert f"`{ids[3]}`" in pending and "apt upgrade" in pending and "Dev" in pending
    assert "1 approval(s) waiting here" in pending

    recent = await command.handler(_ctx(adapter, "recent"))
    lines = recent.splitlines()[1:]
    assert [ids[1] in lines[0], ids[0] in lines[1]] == [True, True]  # newest first
    assert "denied by Ops" in lines[0] and "approved by Ops" in lines[1]
    assert "reboot" not in recent  # another channel's
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
