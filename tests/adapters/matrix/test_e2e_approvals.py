"""End to end against a real Synapse: approval prompts answered by ✅/❌ reactions or text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    IncomingMessage,
    Reaction,
    User,
)
from tests.adapters.matrix.conftest import Recorder

pytestmark = pytest.mark.synapse


async def _setup(synapse, make_human, make_bot, tmp_path: Path):
    """An approver, a requester, a running bot, and a task thread in a shared room."""
    approver = await make_human("ops")
    requester = await make_human("dev")
    bot_reg = await synapse.aregister("hearth")
    sink = Recorder()
    bot = await make_bot(
        bot_reg, tmp_path / "bot", sink=sink, allowed=frozenset({f"matrix:{requester.user_id}"})
    )
    room = await requester.create_room(invite=[bot_reg.user_id, approver.user_id])
    await approver.client.join(room)
    await requester.wait_joined(room, bot_reg.user_id)
    root = await requester.say(room, f"{bot_reg.user_id} clean the build dir")
    msg = await sink.wait_for(lambda e: isinstance(e, IncomingMessage) and e.event_id == root)
    request = ApprovalRequest(
        id="k7Qz_1",
        chat=msg.ref.chat,
        command="rm -rf ./build",
        cwd="/srv/app",
        task_id="t1",
        requester=msg.author,
        reasons=("deletes files",),
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )
    return approver, requester, bot, sink, room, root, request


def _answer(event: object) -> bool:
    return isinstance(event, ApprovalResponse)


async def test_reaction_on_the_prompt_answers_it(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    # ❌ is covered end to end with the real broker in test_e2e_broker.py.
    key, decision = "✅", Decision.APPROVE
    approver, _requester, bot, sink, room, root, request = await _setup(
        synapse, make_human, make_bot, tmp_path
    )
    prompt = await bot.adapter.ask_approval(request.chat, request)
    assert prompt.chat == ChatRef("matrix", room, root)

    # The approver sees the prompt in the task's thread, with ✅ and ❌ pre-added by the bot.
    shown = await approver.wait_for(lambda e: e.get("event_id") == prompt.message_id)
    assert (
        "rm -rf ./build" in shown["content"]["body"]
        and "approve k7Qz_1" in shown["content"]["body"]
    )
    assert shown["content"]["m.relates_to"]["event_id"] == root
    await approver.wait_until(
        lambda: (
            {
                e["content"]["m.relates_to"]["key"]
                for e in approver.timeline
                if e.get("type") == "m.reaction" and e.get("sender") == bot.adapter._user_id
            }
            == {"✅", "❌"}
        )
    )

    await approver.react(room, prompt.message_id, key)
    answer = await sink.wait_for(_answer)
    assert answer == ApprovalResponse(
        approval_id="k7Qz_1",
        decision=decision,
        user=answer.user,
        prompt=prompt,
        event_id=answer.event_id,
    )
    assert answer.user.id == approver.user_id
    # The bot's own pre-added reactions were never delivered as answers or reactions.
    assert [e for e in sink.events if isinstance(e, ApprovalResponse | Reaction)] == [answer]

    outcome = ApprovalOutcome(
        decision=decision, decided_by=answer.user, decided_at=datetime.now(UTC)
    )
    await bot.adapter.close_approval(prompt, outcome)
    word = "Approved" if decision is Decision.APPROVE else "Rejected"
    await approver.wait_until(lambda: word in approver.content_of(prompt.message_id)["body"])
    closed = approver.content_of(prompt.message_id)["body"]
    assert "rm -rf ./build" in closed and "React ✅" not in closed
    assert approver.user_id in closed or answer.user.display_name in closed


async def test_other_reactions_and_text_answers_are_delivered_for_the_core(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    approver, requester, bot, sink, room, root, request = await _setup(
        synapse, make_human, make_bot, tmp_path
    )
    prompt = await bot.adapter.ask_approval(request.chat, request)
    await requester.wait_for(lambda e: e.get("event_id") == prompt.message_id)
    # A 👍 is not an answer: it reaches the core as a plain Reaction (heartbeat labels use it).
    thumbs = await approver.react(room, prompt.message_id, "👍")
    reaction = await sink.wait_for(lambda e: isinstance(e, Reaction))
    assert reaction.key == "👍" and reaction.event_id == thumbs
    assert reaction.target == prompt
    # `approve <id>` typed in the thread arrives as a message for the dispatcher's command.
    typed = await approver.say(room, "approve k7Qz_1", thread=root)
    text = await sink.wait_for(lambda e: isinstance(e, IncomingMessage) and e.event_id == typed)
    assert text.text == "approve k7Qz_1" and text.in_thread and text.ref.chat == prompt.chat
    assert not any(isinstance(e, ApprovalResponse) for e in sink.events)


async def test_after_a_restart_a_reaction_on_an_old_prompt_reaches_the_broker(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    approver, _requester, bot, _sink, room, _root, request = await _setup(
        synapse, make_human, make_bot, tmp_path
    )
    prompt = await bot.adapter.ask_approval(request.chat, request)
    await approver.wait_for(lambda e: e.get("event_id") == prompt.message_id)
    await bot.stop()

    sink = Recorder()
    again = await make_bot(bot.reg, tmp_path / "bot", sink=sink)
    await approver.react(room, prompt.message_id, "✅")
    reaction = await sink.wait_for(lambda e: isinstance(e, Reaction))
    # This process never posted the prompt: the broker maps it from its store.
    assert reaction.target.message_id == prompt.message_id and reaction.key == "✅"
    assert reaction.user == User("matrix", approver.user_id, reaction.user.display_name)
    # close_approval works without the prompt text in memory (it is read back from the server).
    await again.adapter.close_approval(
        prompt,
        ApprovalOutcome(
            decision=Decision.DENY,
            decided_by=None,
            reason="expired: hearth restarted",
            decided_at=datetime.now(UTC),
        ),
    )
    await approver.wait_until(
        lambda: "hearth restarted" in approver.content_of(prompt.message_id)["body"]
    )
    assert "rm -rf ./build" in approver.content_of(prompt.message_id)["body"]
