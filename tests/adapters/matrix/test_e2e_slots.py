"""End to end on a real Synapse: a task's slot bounds its work, not the posts around it.

hearth runs as ``hearth run`` builds it (MAX_CONCURRENT_TASKS=1, an instant Ollama fake). One
post of the bot is held in flight (a gate in front of the real adapter's ``post``), so what
another task does meanwhile shows on the server: a queued task's card is posted at once and is
the thread's only sign of the wait, and a task whose answer is still being posted does not
keep the next one from working.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from core.events import ChatRef, MessageRef
from tests.adapters.matrix.conftest import WAIT, running_hearth
from tests.fakes.ollama import ScriptedReply

pytestmark = pytest.mark.synapse

ANSWER = "All good: nothing to fix."


def _instant(body: dict[str, Any]) -> ScriptedReply:
    """A one-step plan, then the answer, at once."""
    if body.get("format"):
        goal = str(body["messages"][-1].get("content", "")).splitlines()[0]
        return ScriptedReply("text", text=json.dumps({"subtasks": [goal[:80] or "answer"]}))
    return ScriptedReply("text", text=f"{ANSWER}\nCONFIDENCE: 0.9")


class HeldPost:
    """Holds the bot's first post whose text starts with ``prefix`` until ``release`` is set."""

    def __init__(self, post: Callable[[ChatRef, str], Any], prefix: str) -> None:
        self._post = post
        self._prefix = prefix
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self.held: ChatRef | None = None

    async def __call__(self, chat: ChatRef, text: str) -> MessageRef:
        if self.held is None and text.startswith(self._prefix):
            self.held = chat
            self.holding.set()
            await self.release.wait()
        return await self._post(chat, text)


@asynccontextmanager
async def hearth(tmp_path: Path, synapse, reg, ana) -> AsyncIterator[App]:
    """hearth with one slot (MAX_CONCURRENT_TASKS=1) and an instant model; Ana may use it."""
    env = {"ALLOWED_USERS": f"matrix:{ana.user_id}", "MAX_CONCURRENT_TASKS": "1"}
    async with running_hearth(tmp_path, synapse, reg, **env) as (ollama, app):
        ollama.responder = _instant
        yield app


def _hold(app: App, prefix: str) -> HeldPost:
    """Put a gate in front of the real Matrix adapter's ``post`` (everything else passes)."""
    adapter: Any = app.adapters["matrix"].inner  # type: ignore[attr-defined]
    gate = HeldPost(adapter.post, prefix)
    adapter.post = gate
    return gate


def _in_thread(bot_id: str, root: str) -> Callable[[dict[str, Any]], bool]:
    """An original message of the bot in the thread rooted at ``root``."""

    def check(e: dict[str, Any]) -> bool:
        rel = e.get("content", {}).get("m.relates_to", {})
        return (
            e.get("sender") == bot_id
            and e.get("type") == "m.room.message"
            and rel.get("rel_type") == "m.thread"
            and rel.get("event_id") == root
        )

    return check


async def test_a_queued_tasks_card_is_posted_at_once_and_is_its_only_queue_message(
    synapse, make_human, tmp_path: Path
) -> None:
    ana = await make_human("ana")
    reg = await synapse.aregister("hearth")
    async with hearth(tmp_path, synapse, reg, ana) as app:
        first_card = _hold(app, "⏳ Working on")  # the running task keeps its slot meanwhile
        room = await ana.create_room(invite=[reg.user_id])
        await ana.wait_joined(room, reg.user_id)
        await ana.say(room, f"{reg.user_id}: write a haiku about tea")
        await asyncio.wait_for(first_card.holding.wait(), WAIT)
        second = await ana.say(room, f"{reg.user_id}: name three colours of the sea")
        in_second = _in_thread(reg.user_id, second)
        card = await ana.wait_for(in_second)  # posted while the first task holds the slot
        assert card["content"]["body"].startswith("⏳ Queued: name three colours of the sea")
        assert "1 slots are busy" in card["content"]["body"]
        first_card.release.set()
        await ana.wait_for(lambda e: in_second(e) and e["content"].get("body") == ANSWER)
        # The card, not a note beside it, shows the task taken, then done.
        await ana.wait_until(
            lambda: ana.content_of(card["event_id"]).get("body", "").startswith("✅ Done")
        )
        posts = [e["content"]["body"] for e in ana.bot_messages(room, reg.user_id) if in_second(e)]
        assert [p for p in posts if p.startswith("⏳")] == [card["content"]["body"]]
        assert posts[-1] == ANSWER


async def test_a_task_posting_its_answer_does_not_keep_the_next_from_working(
    synapse, make_human, tmp_path: Path
) -> None:
    ana = await make_human("ana")
    reg = await synapse.aregister("hearth")
    async with hearth(tmp_path, synapse, reg, ana) as app:
        first_answer = _hold(app, ANSWER)
        room = await ana.create_room(invite=[reg.user_id])
        await ana.wait_joined(room, reg.user_id)
        first = await ana.say(room, f"{reg.user_id}: write a haiku about tea")
        await asyncio.wait_for(first_answer.holding.wait(), WAIT)
        assert first_answer.held is not None and first_answer.held.thread_id == first
        second = await ana.say(room, f"{reg.user_id}: name three colours of the sea")
        # One slot, and the first task still posting its answer: the second works all the same.
        in_second = _in_thread(reg.user_id, second)
        await ana.wait_for(lambda e: in_second(e) and e["content"].get("body") == ANSWER)
        in_first = _in_thread(reg.user_id, first)
        assert not any(
            e["content"].get("body") == ANSWER
            for e in ana.bot_messages(room, reg.user_id)
            if in_first(e)
        )
        first_answer.release.set()
        await ana.wait_for(lambda e: in_first(e) and e["content"].get("body") == ANSWER)
