"""Memory through the whole process: Slack in, Chroma on disk, prompts out to Ollama."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from tests.bot.test_wiring_e2e import running, until
from tests.fakes.ollama import FakeOllama
from tests.fakes.slack import FakeSlack

DEV, OPS, DM = "C0DEV", "C0OPS", "D0ANA"
ENV = {"ALLOWED_USERS": "slack:UANA,slack:UBOB"}


def planner_prompts(ollama: FakeOllama) -> list[str]:
    return [
        " ".join(m.get("content", "") for m in body["messages"])
        for body in ollama.requests
        if body.get("format")
    ]


async def say(slack: FakeSlack, event: dict[str, Any], reply_has: str) -> str:
    """Send one event and wait for a new bot message containing ``reply_has``; return it."""
    before = set(slack.messages)
    # Unique across restarts: the second fake server counts its ids from the start again,
    # and hearth remembers the delivery ids it has handled.
    event["event_id"] = f"Ev{uuid.uuid4().hex}"
    await slack.send_envelope(event)

    def reply() -> str | None:
        for ts, message in list(slack.messages.items()):
            if ts not in before and reply_has in message.text:
                return message.text
        return None

    await until(reply)
    return reply() or ""


async def task(slack: FakeSlack, ollama: FakeOllama, channel: str, goal: str) -> str:
    """Run one task to its end (the memory note included); return the planner's prompt."""
    chats = len(ollama.requests)
    ollama.queue_json({"subtasks": [goal]})
    ollama.queue_text("Done.\nCONFIDENCE: 0.9")
    ollama.queue_note("Goal done.")  # the memory note
    await say(slack, slack.mention(channel, "UANA", goal), "✅ Done")
    await until(lambda: len(ollama.requests) == chats + 3)  # planner, executor, note
    return planner_prompts(ollama)[-1]


async def test_remember_recall_scopes_forget_and_restart(tmp_path: Path) -> None:
    async with running(tmp_path, **ENV) as (slack, ollama, _):
        reply = await say(
            slack,
            slack.mention(DEV, "UANA", "remember the staging db listens on 5433"),
            "Remembered",
        )
        fact_id = reply.split("`")[1]
        await say(
            slack,
            slack.dm(DM, "UANA", "remember my dm-only note about the staging db"),
            "Remembered",
        )
        prompt = await task(slack, ollama, DEV, "which port does the staging db use?")
        assert '"the staging db listens on 5433"' in prompt
        assert "dm-only" not in prompt  # a DM never leaks into a channel
        assert "5433" not in await task(slack, ollama, OPS, "which port does the staging db use?")
        listing = await say(slack, slack.mention(DEV, "UANA", "memory"), "newest memories")
        assert fact_id in listing and "task summary" in listing
    shutil.rmtree(tmp_path / "ws")  # running() makes it afresh; the data dir stays
    async with running(tmp_path, **ENV) as (slack, ollama, _):
        prompt = await task(slack, ollama, DEV, "staging db port again?")
        assert '"the staging db listens on 5433"' in prompt  # survived the restart
        refused = await say(slack, slack.mention(DEV, "UBOB", f"forget {fact_id}"), fact_id)
        assert "Only its author or an admin" in refused
        unknown = await say(slack, slack.mention(OPS, "UANA", f"forget {fact_id}"), fact_id)
        assert "No memory" in unknown  # another channel cannot even see it
        await say(slack, slack.mention(DEV, "UANA", f"forget {fact_id}"), "Forgot")
        prompt = await task(slack, ollama, DEV, "staging db port once more?")
        assert "listens on 5433" not in prompt
