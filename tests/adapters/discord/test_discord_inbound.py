"""Discord end to end, inbound: mentions, DMs, threads, replies fallback, reactions, intents."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import PlatformError
from core.events import ChatRef, IncomingMessage, MessageRef, Reaction
from tests.adapters.discord.conftest import RecordingSink, make_adapter, running
from tests.fakes.discord import (
    ALICE,
    BOB,
    BOT_ID,
    GENERAL_ID,
    LOCKED_ID,
    MESSAGE_CONTENT_INTENT,
    OTHER_BOT,
    FakeDiscord,
)


async def test_mention_starts_a_task_in_a_thread_from_the_message(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        asked = await fake.user_message(GENERAL_ID, "how full is /var?")
        [event] = await fake.wait_for(lambda: sink.of(IncomingMessage))

        assert event.text == "how full is /var?"  # mention stripped
        assert event.mentions_bot and not event.is_direct and not event.in_thread
        assert event.ref.chat == ChatRef("discord", GENERAL_ID, asked.id)
        assert event.author.qualified == f"discord:{ALICE['id']}"
        assert event.event_id == asked.id

        ref = await adapter.post(event.ref.chat, "Looking…")
        await adapter.post(event.ref.chat, "second")

    # The thread was started from the user's message (same id) and named after the request.
    assert fake.threads[asked.id]["parent_id"] == GENERAL_ID
    assert fake.threads[asked.id]["name"] == "how full is /var?"
    assert [m.content for m in fake.messages_in(asked.id)] == ["Looking…", "second"]
    assert fake.messages[ref.message_id].channel_id == asked.id
    assert (
        fake.requests.count(("POST", f"/channels/{GENERAL_ID}/messages/{asked.id}/threads")) == 1
    )
    # The bot's own messages came back on the gateway and were not delivered as requests.
    assert len(sink.of(IncomingMessage)) == 1


async def test_two_first_posts_at_once_create_one_thread(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        asked = await fake.user_message(GENERAL_ID, "parallel")
        [event] = await fake.wait_for(lambda: sink.of(IncomingMessage))
        await asyncio.gather(
            adapter.post(event.ref.chat, "card"), adapter.post(event.ref.chat, "answer")
        )
    creates = [r for r in fake.requests if r[1].endswith("/threads")]
    assert len(creates) == 1
    assert sorted(m.content for m in fake.messages_in(asked.id)) == ["answer", "card"]


async def test_message_in_the_thread_steers_the_task(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        asked = await fake.user_message(GENERAL_ID, "deploy")
        [event] = await fake.wait_for(lambda: sink.of(IncomingMessage))
        await adapter.post(event.ref.chat, "working")
        await fake.user_message(asked.id, "stop", mention=False)  # inside the thread
        steer = (await fake.wait_for(lambda: sink.of(IncomingMessage)[1:]))[0]

    assert steer.text == "stop"
    assert steer.in_thread and not steer.mentions_bot
    assert steer.ref.chat == event.ref.chat  # same task chat: parent channel + thread id


async def test_unaddressed_channel_chatter_and_bots_are_ignored(fake, sink) -> None:
    async with running(make_adapter(), sink):
        await fake.user_message(GENERAL_ID, "lunch?", mention=False)
        await fake.user_message(GENERAL_ID, "I am a bot", author=OTHER_BOT)
        await fake.user_message(GENERAL_ID, "real request", author=BOB)
        await fake.wait_for(lambda: sink.of(IncomingMessage))
        # A later request arriving proves the earlier chatter was handled (and dropped).
        await fake.user_message(GENERAL_ID, "sentinel", author=BOB)
        await fake.wait_for(lambda: len(sink.of(IncomingMessage)) >= 2)
    assert [e.text for e in sink.of(IncomingMessage)] == ["real request", "sentinel"]


async def test_dm_task_replies_to_the_users_message(fake, sink) -> None:
    dm = fake.dm_channel(BOB)
    async with running(make_adapter(), sink) as adapter:
        asked = await fake.user_message(dm, "what time is it", author=BOB, mention=False)
        [event] = await fake.wait_for(lambda: sink.of(IncomingMessage))
        assert event.is_direct and not event.mentions_bot
        assert event.ref.chat == ChatRef("discord", dm, None)
        first = await adapter.post(event.ref.chat, "It is late.")
        second = await adapter.post(event.ref.chat, "Anything else?")

    assert fake.messages[first.message_id].reference == asked.id
    assert fake.messages[second.message_id].reference is None
    assert fake.messages[first.message_id].channel_id == dm
    assert not fake.threads


async def test_no_thread_permission_falls_back_to_replies(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        asked = await fake.user_message(LOCKED_ID, "restart nginx")
        [event] = await fake.wait_for(lambda: sink.of(IncomingMessage))
        first = await adapter.post(event.ref.chat, "on it")
        second = await adapter.post(event.ref.chat, "done")
        await adapter.edit(first, "on it (edited)")

        # A user's reply to the bot's message belongs to the task, like a thread message.
        reply = fake._store(LOCKED_ID, ALICE, "also php-fpm", reference=first.message_id)
        await fake.dispatch("MESSAGE_CREATE", fake._message_event(reply))
        steer = (await fake.wait_for(lambda: sink.of(IncomingMessage)[1:]))[0]

    assert not fake.threads
    bot_msgs = fake.messages_in(LOCKED_ID)
    assert [m.content for m in bot_msgs] == ["on it (edited)", "done"]
    assert all(m.reference == asked.id for m in bot_msgs)
    assert first.chat == second.chat == event.ref.chat
    # Only one thread attempt: the refusal is remembered for the chat.
    assert len([r for r in fake.requests if r[1].endswith("/threads")]) == 1
    assert steer.text == "also php-fpm" and steer.in_thread
    assert steer.ref.chat == event.ref.chat


async def test_reaction_on_a_report_becomes_a_reaction_event(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        report = await adapter.post(ChatRef("discord", GENERAL_ID), "heartbeat: disk 91%")
        await adapter.react(report, "👀")  # the bot's own reaction is not an event
        await fake.react(report.message_id, "👍", user=BOB)
        [reaction] = await fake.wait_for(lambda: sink.of(Reaction))
        # A later reaction arriving proves the bot's own one was handled (and dropped).
        await fake.react(report.message_id, "👎", user=BOB)
        await fake.wait_for(lambda: len(sink.of(Reaction)) >= 2)

    assert reaction.target == report
    assert reaction.key == "👍"
    assert reaction.user.qualified == f"discord:{BOB['id']}"
    assert [r.key for r in sink.of(Reaction)] == ["👍", "👎"]
    assert (BOT_ID, "👀") in fake.messages[report.message_id].reactions


async def test_without_the_content_intent_mentions_still_work(sink) -> None:
    fake = FakeDiscord(content_intent_allowed=False)
    async with fake, running(make_adapter(), sink) as adapter:
        asked = await fake.user_message(GENERAL_ID, "uptime please")
        [event] = await fake.wait_for(lambda: sink.of(IncomingMessage))
        await adapter.post(event.ref.chat, "up 3 days")
        # Not a mention: Discord withholds the text, so there is nothing to act on.
        await fake.user_message(asked.id, "and load?", mention=False)
        # A later mention arriving proves the withheld message was handled (and dropped).
        await fake.user_message(asked.id, "and disk?")
        await fake.wait_for(lambda: len(sink.of(IncomingMessage)) >= 2)
        assert not adapter.message_content

    assert [i["intents"] & MESSAGE_CONTENT_INTENT for i in fake.identify] == [
        MESSAGE_CONTENT_INTENT,
        0,
    ]
    assert event.text == "uptime please"
    assert [e.text for e in sink.of(IncomingMessage)] == ["uptime please", "and disk?"]


async def test_resumes_after_the_gateway_drops(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        await fake.drop_connections()
        await fake.wait_for(
            lambda: (
                fake.resumes == 1
                and any(not ws.closed for ws in fake.sessions)
                and adapter.connected
            )
        )
        await fake.user_message(GENERAL_ID, "still there?")
        [event] = await fake.wait_for(lambda: sink.of(IncomingMessage))
    assert event.text == "still there?"
    assert fake.resumes == 1 and len(fake.identify) == 1  # resumed, not re-identified


async def test_bad_token_is_a_platform_error(fake) -> None:
    adapter = make_adapter(token="wrong")
    with pytest.raises(PlatformError, match="DISCORD_TOKEN"):
        await asyncio.wait_for(adapter.run(RecordingSink()), 5)
    assert not adapter.connected


async def test_post_before_connect_is_a_platform_error() -> None:
    with pytest.raises(PlatformError, match="not connected"):
        await make_adapter().post(ChatRef("discord", GENERAL_ID), "hi")


async def test_stops_cleanly_when_cancelled(fake, sink) -> None:
    adapter = make_adapter()
    async with running(adapter, sink):
        assert adapter.connected
    assert not adapter.connected
    await fake.wait_for(lambda: not fake.sessions)
    ref = MessageRef(ChatRef("discord", GENERAL_ID), "1")
    with pytest.raises(PlatformError):
        await adapter.edit(ref, "x")


def test_adapter_memories_are_bounded() -> None:
    from adapters.discord.places import Recent

    recent: Recent[str, int] = Recent(limit=3)
    for i in range(5):
        recent[str(i)] = i
    recent["2"] = 20  # rewriting refreshes an entry
    recent["5"] = 5
    assert list(recent) == ["4", "2", "5"]


async def test_heartbeats_are_sent_and_acknowledged(fake, sink) -> None:
    fake.heartbeat_interval_ms = 40
    async with running(make_adapter(), sink) as adapter:
        await fake.wait_for(lambda: fake.heartbeats >= 3)
        assert adapter.connected
    assert len(fake.identify) == 1 and fake.resumes == 0  # acks kept the session alive
