"""Discord end to end: approval prompts with persistent buttons, clicks, refusals, restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    IncomingMessage,
    MessageRef,
    User,
)
from tests.adapters.discord.conftest import make_adapter, running
from tests.fakes.discord import ALICE, BOB, GENERAL_ID, FakeDiscord

ALICE_USER = User("discord", ALICE["id"], "Alice")


def _request(chat: ChatRef, command: str = "systemctl restart nginx") -> ApprovalRequest:
    return ApprovalRequest(
        id="a1B2c3",
        chat=chat,
        command=command,
        cwd="/srv/app",
        task_id="t-42",
        requester=ALICE_USER,
        reasons=("restarts a service",),
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


async def _task_chat(fake: FakeDiscord, sink) -> ChatRef:
    await fake.user_message(GENERAL_ID, "restart nginx")
    [event] = await fake.wait_for(lambda: sink.of(IncomingMessage))
    return event.ref.chat


async def test_prompt_has_persistent_buttons_and_names_the_command(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        chat = await _task_chat(fake, sink)
        prompt = await adapter.ask_approval(
            chat, _request(chat, "rm -rf ./build && echo @everyone")
        )

    msg = fake.messages[prompt.message_id]
    assert msg.channel_id == chat.thread_id  # in the task's thread
    assert msg.custom_ids() == ["appr:a1B2c3:approve", "appr:a1B2c3:deny"]
    assert "rm -rf ./build && echo @everyone" in msg.content
    assert "/srv/app" in msg.content and "t-42" in msg.content and "Alice" in msg.content
    assert "restarts a service" in msg.content
    # Nothing the bot posts can ping anyone.
    posted = [b for m, p, b in fake.bodies if m == "POST" and p.endswith("/messages")]
    assert posted and all(b["allowed_mentions"]["parse"] == [] for b in posted)


async def test_approver_click_is_deferred_and_emitted_then_closed(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        chat = await _task_chat(fake, sink)
        prompt = await adapter.ask_approval(chat, _request(chat))
        click = await fake.click(prompt.message_id, "appr:a1B2c3:approve", user=ALICE)
        [response] = await fake.wait_for(lambda: sink.of(ApprovalResponse))
        await asyncio.sleep(0.05)
        assert len(sink.of(ApprovalResponse)) == 1  # one click, one event

        assert click.callbacks == [{"type": 6}]  # deferred update, inside the 3 s window
        assert fake.messages[prompt.message_id].has_buttons  # until the broker decides
        assert response.approval_id == "a1B2c3"
        assert response.decision is Decision.APPROVE
        assert response.user.qualified == f"discord:{ALICE['id']}"
        assert response.prompt == MessageRef(chat, prompt.message_id)

        outcome = ApprovalOutcome(
            decision=Decision.APPROVE, decided_by=response.user, decided_at=datetime.now(UTC)
        )
        await adapter.close_approval(prompt, outcome)

    msg = fake.messages[prompt.message_id]
    assert not msg.has_buttons
    assert msg.content.startswith("🔐 **Approval needed**")
    assert msg.content.endswith("✅ Approved by Alice")


async def test_reject_click_emits_a_denial(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        chat = await _task_chat(fake, sink)
        prompt = await adapter.ask_approval(chat, _request(chat))
        await fake.click(prompt.message_id, "appr:a1B2c3:deny", user=ALICE)
        [response] = await fake.wait_for(lambda: sink.of(ApprovalResponse))
    assert response.decision is Decision.DENY


async def test_every_click_is_forwarded_the_adapter_never_decides(fake, sink) -> None:
    # Non-approvers too: the broker refuses them and records the attempt in the audit trail.
    async with running(make_adapter(), sink) as adapter:
        chat = await _task_chat(fake, sink)
        prompt = await adapter.ask_approval(chat, _request(chat))
        click = await fake.click(prompt.message_id, "appr:a1B2c3:approve", user=BOB)
        [response] = await fake.wait_for(lambda: sink.of(ApprovalResponse))
    assert click.callbacks == [{"type": 6}]
    assert response.user.qualified == f"discord:{BOB['id']}"
    assert fake.messages[prompt.message_id].has_buttons  # only the broker closes a prompt


async def test_click_after_restart_still_arrives_and_closes(fake, sink) -> None:
    first = make_adapter()
    async with running(first, sink):
        chat = await _task_chat(fake, sink)
        prompt = await first.ask_approval(chat, _request(chat))
    before = fake.messages[prompt.message_id].content

    second = make_adapter()  # a new process: no views, no caches, only the stored prompt
    async with running(second, sink):
        click = await fake.click(prompt.message_id, "appr:a1B2c3:approve", user=ALICE)
        [response] = await fake.wait_for(lambda: sink.of(ApprovalResponse))
        outcome = ApprovalOutcome(
            decision=Decision.DENY,
            decided_by=None,
            decided_at=datetime.now(UTC),
            reason="expired: hearth restarted",
        )
        # What the broker does with a prompt it rebuilt from its store after a restart.
        await second.close_approval(MessageRef(chat, prompt.message_id), outcome)

    assert click.callbacks == [{"type": 6}]
    assert response.approval_id == "a1B2c3" and response.decision is Decision.APPROVE
    assert response.prompt == MessageRef(chat, prompt.message_id)
    msg = fake.messages[prompt.message_id]
    assert not msg.has_buttons
    kept = before.rsplit("\n", 1)[0]  # the answer instructions give way to the outcome
    assert msg.content == kept + "\n⌛ Expired (hearth restarted)"


async def test_unknown_buttons_are_ignored(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        chat = await _task_chat(fake, sink)
        prompt = await adapter.ask_approval(chat, _request(chat))
        await fake.click(prompt.message_id, "appr:a1B2c3:explode", user=ALICE)
        await fake.click(prompt.message_id, "something-else", user=ALICE)
        assert adapter.connected
        await fake.click(prompt.message_id, "appr:a1B2c3:deny", user=ALICE)
        [response] = await fake.wait_for(lambda: sink.of(ApprovalResponse))
    assert response.decision is Decision.DENY
