"""End to end with the real core (dispatcher, task pool, broker) over a real Synapse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.adapters.matrix.conftest import ana_and_bot
from tests.support.harness import ApprovalRunner, StreamingRunner, core_harness

# The flow, not the throttle, is under test here (test_e2e_ratelimit.py covers throttling).

pytestmark = pytest.mark.synapse


async def test_mention_runs_a_task_whose_answer_streams_into_its_thread(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    ana, reg, bot = await ana_and_bot(synapse, make_human, make_bot, tmp_path)
    bo = await make_human("bo")
    runner = StreamingRunner(["Disk ", "is **fine**", ": 42% used."])
    async with core_harness(
        {"matrix": bot.adapter},
        runner,
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({f"matrix:{ana.user_id}"}),
    ) as h:
        bot.sink = h.dispatcher.handle
        await bot.start()
        room = await ana.create_room(invite=[reg.user_id, bo.user_id])
        await ana.wait_joined(room, reg.user_id)
        await ana.say(room, "small talk between people")
        ask = await ana.say(room, f"{reg.user_id}: how is the disk?")

        answer = await ana.wait_for(
            lambda e: (
                e.get("sender") == reg.user_id
                and e.get("type") == "m.room.message"
                and e["content"].get("m.relates_to", {}).get("event_id") == ask
            )
        )
        await ana.wait_until(
            lambda: ana.content_of(answer["event_id"]).get("body") == "Disk is **fine**: 42% used."
        )
        assert "<strong>fine</strong>" in ana.content_of(answer["event_id"])["formatted_body"]
        assert [t.goal for t in runner.seen] == ["how is the disk?"]
        assert runner.seen[0].chat.thread_id == ask
        # Only the mention started work; the small talk got no answer at all.
        assert len(ana.bot_messages(room, reg.user_id)) == 1


async def test_approve_typed_in_the_thread_lets_the_command_run(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    ana, reg, bot = await ana_and_bot(synapse, make_human, make_bot, tmp_path)
    ops = await make_human("ops")
    async with core_harness(
        {"matrix": bot.adapter},
        lambda broker: ApprovalRunner(broker, "systemctl restart nginx"),
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({f"matrix:{ana.user_id}", f"matrix:{ops.user_id}"}),
        approvers=frozenset({f"matrix:{ops.user_id}"}),
    ) as h:
        bot.sink = h.dispatcher.handle
        await bot.start()
        room = await ana.create_room(invite=[reg.user_id, ops.user_id])
        await ops.client.join(room)
        await ana.wait_joined(room, reg.user_id)
        ask = await ana.say(room, f"{reg.user_id} restart nginx")
        prompt = await ops.wait_for(
            lambda e: (
                e.get("sender") == reg.user_id
                and "Approval needed" in e["content"].get("body", "")
            )
        )
        approval_id = re.search(r"`approve (\S+)`", prompt["content"]["body"]).group(1)
        await ops.say(room, f"approve {approval_id}", thread=ask)
        await ana.wait_for(
            lambda e: (
                e.get("sender") == reg.user_id
                and e["content"].get("body") == "`systemctl restart nginx`: approved"
            )
        )
        await ana.wait_until(lambda: "Approved" in ana.content_of(prompt["event_id"])["body"])
        record = await h.approvals.get(approval_id)
        assert record is not None and record.status == "approved"
