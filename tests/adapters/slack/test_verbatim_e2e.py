"""Slack shows and stores an approval's command exactly: never redacted, never one line of it."""

from __future__ import annotations

import asyncio
import html

import pytest

from core.approvals.broker import ApprovalBroker
from core.clock import SystemClock
from core.events import ChatRef, User
from core.redact import RedactingAdapter, Redactor
from core.storage import Database
from core.storage.approvals import ApprovalStore
from tests.adapters.slack.conftest import Starter
from tests.fakes.slack import FakeSlack
from tests.support.prompts import UNRELATED_SECRET, VERBATIM


async def _ignore(event: object) -> None:
    return None


@pytest.mark.parametrize("command", VERBATIM)
async def test_prompt_and_stored_request_hold_the_whole_command(
    command: str, start_slack: Starter, fake: FakeSlack, db: Database
) -> None:
    slack = await start_slack("socket", _ignore)
    store = ApprovalStore(db)
    shown = RedactingAdapter(slack.adapter, Redactor([UNRELATED_SECRET]))  # as the wiring does
    broker = ApprovalBroker(
        {"slack": shown}, store, approvers=frozenset(), timeout=60, clock=SystemClock()
    )
    chat = ChatRef("slack", "C1", fake.user_message("C1", "U1", "go").ts)
    task = asyncio.create_task(
        broker.request(
            chat=chat,
            command=command,
            cwd="/srv/project",
            task_id="t-1",
            requester=User("slack", "U1", "ann"),
            reasons=("password:=x looks like a secret, and is not",),
        )
    )
    try:
        async with asyncio.timeout(5):
            while not (prompts := [m for m in fake.in_thread("C1", chat.thread_id) if m.buttons]):
                await asyncio.sleep(0.01)
        [prompt] = prompts
        assert command in html.unescape(prompt.block_text)
        assert "password:=x looks like a secret, and is not" in html.unescape(prompt.block_text)
        [record] = await store.pending()
        assert record.command == command
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
