"""End to end with the real ApprovalBroker: ✅/❌ from approvers decide, others are refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.approvals.broker import ApprovalBroker
from core.clock import SystemClock
from core.events import ApprovalResponse, Decision, Event, IncomingMessage, Reaction
from core.storage.approvals import ApprovalStore
from tests.adapters.matrix.conftest import Recorder

pytestmark = pytest.mark.synapse


@pytest.mark.parametrize(("key", "decision"), [("✅", Decision.APPROVE), ("❌", Decision.DENY)])
async def test_approver_reaction_decides_and_a_non_approver_is_refused(
    synapse, make_human, make_bot, db, tmp_path: Path, key: str, decision: Decision
) -> None:
    approver = await make_human("ops")
    requester = await make_human("dev")
    reg = await synapse.aregister("hearth")
    seen = Recorder()
    broker: ApprovalBroker | None = None

    async def sink(event: Event) -> None:
        # What the dispatcher does with these two kinds of events.
        await seen(event)
        assert broker is not None
        if isinstance(event, ApprovalResponse):
            await broker.resolve(event)
        elif isinstance(event, Reaction):
            await broker.resolve_reaction(event)

    bot = await make_bot(
        reg, tmp_path / "bot", sink=sink, allowed=frozenset({f"matrix:{requester.user_id}"})
    )
    broker = ApprovalBroker(
        {"matrix": bot.adapter},
        ApprovalStore(db),
        approvers=frozenset({f"matrix:{approver.user_id}"}),
        timeout=600,
        clock=SystemClock(),
    )
    room = await requester.create_room(invite=[reg.user_id, approver.user_id])
    await approver.client.join(room)
    await requester.wait_joined(room, reg.user_id)
    root = await requester.say(room, f"{reg.user_id}: clean the build dir")
    msg = await seen.wait_for(lambda e: isinstance(e, IncomingMessage) and e.event_id == root)

    decided = asyncio.create_task(
        broker.request(
            chat=msg.ref.chat,
            command="rm -rf ./build",
            cwd="/srv/app",
            task_id="t1",
            requester=msg.author,
            reasons=("deletes files",),
        )
    )
    prompt = await approver.wait_for(
        lambda e: (
            e.get("sender") == reg.user_id
            and "Approval needed" in e.get("content", {}).get("body", "")
        )
    )
    # The requester is not an approver: their ✅ is refused with a note and decides nothing.
    await requester.react(room, prompt["event_id"], "✅")
    note = await requester.wait_for(
        lambda e: (
            e.get("sender") == reg.user_id
            and e["event_id"] != prompt["event_id"]
            and e.get("type") == "m.room.message"
            and "m.new_content" not in e.get("content", {})
        )
    )
    assert note["content"]["m.relates_to"]["event_id"] == root  # said in the task's thread
    assert not decided.done()

    await approver.react(room, prompt["event_id"], key)
    outcome = await asyncio.wait_for(decided, 15)
    assert outcome.decision is decision and outcome.decided_by is not None
    assert outcome.decided_by.id == approver.user_id
    word = "Approved" if decision is Decision.APPROVE else "Rejected"
    await approver.wait_until(lambda: word in approver.content_of(prompt["event_id"])["body"])
    assert "React ✅" not in approver.content_of(prompt["event_id"])["body"]
