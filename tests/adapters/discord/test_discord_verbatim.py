"""Discord shows and stores an approval's command exactly: never redacted, never cut."""

from __future__ import annotations

import asyncio

import pytest

from core.approvals.broker import ApprovalBroker
from core.clock import SystemClock
from core.events import IncomingMessage, User
from core.redact import RedactingAdapter, Redactor
from core.storage.approvals import ApprovalStore
from tests.adapters.discord.conftest import APPROVERS, RecordingSink, make_adapter, running
from tests.fakes.discord import ALICE, GENERAL_ID, FakeDiscord
from tests.support.prompts import UNRELATED_SECRET, VERBATIM


@pytest.mark.parametrize("command", VERBATIM)
async def test_prompt_and_stored_request_hold_the_whole_command(
    command: str, fake: FakeDiscord, db
) -> None:
    store, sink = ApprovalStore(db), RecordingSink()
    async with running(make_adapter(), sink) as adapter:
        shown = RedactingAdapter(adapter, Redactor([UNRELATED_SECRET]))  # as the wiring does
        broker = ApprovalBroker(
            {"discord": shown}, store, approvers=APPROVERS, timeout=600, clock=SystemClock()
        )
        await fake.user_message(GENERAL_ID, "clean up")
        [event] = await fake.wait_for(lambda: sink.of(IncomingMessage))
        chat = event.ref.chat
        task = asyncio.create_task(
            broker.request(
                chat=chat,
                command=command,
                cwd="/srv/project",
                task_id="t-1",
                requester=User("discord", ALICE["id"], "Alice"),
                reasons=("password:=x looks like a secret, and is not",),
            )
        )
        try:
            [prompt] = await fake.wait_for(
                lambda: [m for m in fake.messages_in(chat.thread_id) if m.has_buttons]
            )
            assert command in prompt.content
            assert "password:=x looks like a secret, and is not" in prompt.content
            [record] = await store.pending()
            assert record.command == command
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
