"""Matrix shows and stores an approval's command exactly: never redacted, never one line of it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.approvals.broker import ApprovalBroker
from core.clock import SystemClock
from core.events import IncomingMessage
from core.redact import RedactingAdapter, Redactor
from core.storage.approvals import ApprovalStore
from tests.adapters.matrix.conftest import Recorder
from tests.support.prompts import UNRELATED_SECRET, VERBATIM

pytestmark = pytest.mark.synapse


async def test_prompt_and_stored_request_hold_the_whole_command(
    synapse, make_human, make_bot, db, tmp_path: Path
) -> None:
    requester = await make_human("dev")
    reg = await synapse.aregister("hearth")
    seen = Recorder()
    bot = await make_bot(
        reg, tmp_path / "bot", sink=seen, allowed=frozenset({f"matrix:{requester.user_id}"})
    )
    store = ApprovalStore(db)
    shown = RedactingAdapter(bot.adapter, Redactor([UNRELATED_SECRET]))  # as the wiring does
    broker = ApprovalBroker(
        {"matrix": shown}, store, approvers=frozenset(), timeout=600, clock=SystemClock()
    )
    room = await requester.create_room(invite=[reg.user_id])
    await requester.wait_joined(room, reg.user_id)
    root = await requester.say(room, f"{reg.user_id}: clean up")
    msg = await seen.wait_for(lambda e: isinstance(e, IncomingMessage) and e.event_id == root)
    for command in VERBATIM:
        task = asyncio.create_task(
            broker.request(
                chat=msg.ref.chat,
                command=command,
                cwd="/srv/project",
                task_id="t1",
                requester=msg.author,
                reasons=("password:=x looks like a secret, and is not",),
            )
        )
        try:
            prompt = await requester.wait_for(
                lambda e, c=command: (
                    e.get("sender") == reg.user_id and c in e.get("content", {}).get("body", "")
                )
            )
            body = prompt["content"]["body"]
            assert "password:=x looks like a secret, and is not" in body
            assert any(r.command == command for r in await store.pending())
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
