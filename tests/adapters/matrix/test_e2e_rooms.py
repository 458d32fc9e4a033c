"""End to end against a real Synapse: invites, mentions, DMs, threads, streamed answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.events import ChatRef, IncomingMessage
from core.metrics import Metrics
from core.render import StreamRenderer
from tests.adapters.matrix.conftest import Recorder

pytestmark = pytest.mark.synapse


def _msg(event: object, text: str | None = None) -> bool:
    return isinstance(event, IncomingMessage) and (text is None or event.text == text)


async def _joined_room(synapse, make_human, make_bot, tmp_path: Path, *, direct: bool = False):
    """A human, a running bot allowed to be invited by them, and a room both are in."""
    human = await make_human("ana")
    bot_reg = await synapse.aregister("hearth")
    sink = Recorder()
    bot = await make_bot(
        bot_reg, tmp_path / "bot", allowed=frozenset({f"matrix:{human.user_id}"}), sink=sink
    )
    # A DM is a room with the bot and one person; a third member makes it a group room.
    invite = [bot_reg.user_id] if direct else [bot_reg.user_id, (await make_human("bo")).user_id]
    room = await human.create_room(invite=invite, direct=direct)
    await human.wait_joined(room, bot_reg.user_id)
    return human, bot, sink, room


async def test_invite_from_allowed_user_is_joined_and_others_ignored(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    human, bot, _sink, room = await _joined_room(synapse, make_human, make_bot, tmp_path)
    stranger = await make_human("mallory")
    other = await stranger.create_room(invite=[bot.adapter._user_id])
    # A later message from the allowed human proves the bot has synced past the stranger's invite.
    await human.say(room, "ping")
    await bot.sink.wait_for(lambda e: _msg(e, "ping"))
    joined = await bot.adapter._sender.client.joined_rooms()
    assert room in joined.rooms
    assert other not in joined.rooms


async def test_mention_starts_a_threaded_task_and_the_answer_streams_by_edits(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    human, bot, sink, room = await _joined_room(synapse, make_human, make_bot, tmp_path)
    display = bot.adapter._intake.bot.display_name or bot.adapter._intake.bot.localpart
    first = await human.say(room, f"{display}: how full is the disk?")
    await human.say(room, "just chatting, not for the bot")

    msg = await sink.wait_for(_msg)
    assert isinstance(msg, IncomingMessage)
    assert msg.mentions_bot and not msg.is_direct and not msg.in_thread
    assert msg.text == "how full is the disk?"
    assert msg.ref == msg.ref.__class__(ChatRef("matrix", room, first), first)
    assert msg.event_id == first and msg.author.id == human.user_id
    chatter = await sink.wait_for(lambda e: _msg(e, "just chatting, not for the bot"))
    assert not chatter.mentions_bot

    chunks = ["Disk usage:\n", "- `/` is **42%** full\n", "- `/data` is 7% full\n", "All good."]
    metrics = Metrics()
    async with StreamRenderer(bot.adapter, msg.ref.chat, metrics=metrics) as out:
        for chunk in chunks:
            out.append(chunk)
    answer = out.messages[0].message_id

    await human.wait_until(lambda: human.content_of(answer).get("body") == "".join(chunks))
    shown = human.content_of(answer)
    assert "<strong>42%</strong>" in shown["formatted_body"]
    assert shown["format"] == "org.matrix.custom.html"
    original = next(e for e in human.timeline if e.get("event_id") == answer)
    assert original["content"]["m.relates_to"]["rel_type"] == "m.thread"
    assert original["content"]["m.relates_to"]["event_id"] == first
    # The bot's own answer and its edits never come back as events.
    assert all(e.author.id != bot.adapter._user_id for e in sink.events if _msg(e))


async def test_direct_message_needs_no_mention(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    human, _bot, sink, room = await _joined_room(
        synapse, make_human, make_bot, tmp_path, direct=True
    )
    await human.say(room, "restart nginx please")
    msg = await sink.wait_for(_msg)
    assert msg.is_direct and not msg.mentions_bot and msg.text == "restart nginx please"


async def test_thread_messages_steer_and_edits_are_ignored(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    human, bot, sink, room = await _joined_room(synapse, make_human, make_bot, tmp_path)
    root = await human.say(room, f"{bot.adapter._user_id} deploy it")
    await sink.wait_for(lambda e: _msg(e) and e.event_id == root)
    # The human edits the root message: an edit never starts or steers anything.
    await human.send(
        room,
        {
            "msgtype": "m.text",
            "body": "* deploy it now",
            "m.new_content": {"msgtype": "m.text", "body": "deploy it now"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": root},
        },
    )
    reply = await human.say(room, "stop", thread=root)
    steer = await sink.wait_for(lambda e: _msg(e) and e.event_id == reply)
    assert steer.in_thread and steer.ref.chat.thread_id == root and steer.text == "stop"
    texts = [e.text for e in sink.events if _msg(e)]
    assert texts == ["deploy it", "stop"]


async def test_a_failing_sink_does_not_stop_the_sync_loop(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    human = await make_human("ana")
    reg = await synapse.aregister("hearth")
    delivered = Recorder()

    async def sink(event) -> None:
        await delivered(event)
        if isinstance(event, IncomingMessage) and event.text == "boom":
            raise RuntimeError("core bug")

    await make_bot(
        reg, tmp_path / "bot", sink=sink, allowed=frozenset({f"matrix:{human.user_id}"})
    )
    room = await human.create_room(invite=[reg.user_id], direct=True)
    await human.wait_joined(room, reg.user_id)
    await human.say(room, "boom")
    await human.say(room, "after")
    await delivered.wait_for(lambda e: _msg(e, "after"))
    assert [e.text for e in delivered.events if _msg(e)] == ["boom", "after"]
