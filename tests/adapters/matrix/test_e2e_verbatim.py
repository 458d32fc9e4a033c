"""Matrix shows and stores an approval's command exactly: never redacted, never one line of it."""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path

import pytest

from core.approvals.broker import ApprovalBroker
from core.clock import SystemClock
from core.events import ApprovalRequest, IncomingMessage
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
            # The request is stored before its prompt is posted; the prompt carries its id.
            request = await _stored(store, command)
            prompt = await requester.wait_for(
                lambda e, i=request.id: (
                    e.get("sender") == reg.user_id and i in e.get("content", {}).get("body", "")
                )
            )
            content = prompt["content"]
            # What a client shows is the HTML (Element does), or else the body: both verbatim.
            assert content.get("format") == "org.matrix.custom.html"
            for shown in (content["body"], _visible(content["formatted_body"])):
                assert command in shown, shown
                assert "password:=x looks like a secret, and is not" in shown, shown
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _stored(store: ApprovalStore, command: str) -> ApprovalRequest:
    """The pending request for ``command``, once the broker has stored it."""
    async with asyncio.timeout(15):
        while True:
            for request in await store.pending():
                if request.command == command:
                    return request
            await asyncio.sleep(0.01)


def _visible(formatted_body: str) -> str:
    """The text a client renders from ``formatted_body``: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", formatted_body))
