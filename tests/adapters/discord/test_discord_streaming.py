"""Discord end to end, outbound: streamed answers through the real StreamRenderer, 429s, limits."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import MessageTooLong, RateLimited
from core.events import ChatRef, IncomingMessage
from core.ports import Capabilities
from core.render import CURSOR, StreamRenderer
from core.thread import TaskThread
from tests.adapters.discord.conftest import make_adapter, running
from tests.fakes.clock import FakeClock
from tests.fakes.discord import GENERAL_ID, FakeDiscord

CHUNKS = [f"line {i}: all good\n" for i in range(40)]


async def _stream(adapter, chat: ChatRef, chunks: list[str]) -> StreamRenderer:
    async with StreamRenderer(adapter, chat) as out:
        for chunk in chunks:
            out.append(chunk)
            await asyncio.sleep(0.002)
    return out


async def _mention_and_stream(fake: FakeDiscord, adapter, sink, chunks: list[str]):
    asked = await fake.user_message(GENERAL_ID, "status report")
    [event] = await fake.wait_for(lambda: sink.of(IncomingMessage))
    out = await _stream(adapter, event.ref.chat, chunks)
    return asked, out


def _assert_prefix_stable(history: list[str], final: str) -> None:
    for frame in history:
        # A draft may end in whitespace the final frame trims; the text itself never changes.
        draft = frame.removesuffix(CURSOR).rstrip()
        assert final.startswith(draft), (frame, final)


async def test_mention_thread_streamed_answer(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        asked, out = await _mention_and_stream(fake, adapter, sink, CHUNKS)

    [answer] = fake.messages_in(asked.id)  # one message in the thread: no duplicates
    final = "".join(CHUNKS).rstrip("\n")
    assert answer.content.rstrip("\n") == final
    assert CURSOR not in answer.content
    # Coalesced: at least one edit, never more than one per delta.
    assert 1 <= answer.edits <= len(CHUNKS)
    assert answer.edits == len(answer.history) - 1
    _assert_prefix_stable(answer.history, answer.content)
    assert out.messages[0].message_id == answer.id


async def test_long_answer_is_split_at_2000_chars(fake, sink) -> None:
    chunks = [f"paragraph {i} " + "x" * 90 + "\n" for i in range(50)]  # ~5,000 chars
    async with running(make_adapter(), sink) as adapter:
        asked, _ = await _mention_and_stream(fake, adapter, sink, chunks)

    parts = fake.messages_in(asked.id)
    assert len(parts) == 3
    assert all(len(p.content) <= 2000 for p in parts)
    assert "\n".join(p.content.strip("\n") for p in parts) == "".join(chunks).strip("\n")
    for part in parts:
        _assert_prefix_stable(part.history, part.content)


async def test_429_on_edit_delays_but_loses_nothing(fake, sink) -> None:
    # A proper 429 (Via header, JSON body): discord.py waits retry_after and retries itself.
    fake.edit_429 = [(0.2, True)]
    async with running(make_adapter(), sink) as adapter:
        asked, _ = await _mention_and_stream(fake, adapter, sink, CHUNKS)

    assert fake.rate_limited == 1
    [answer] = fake.messages_in(asked.id)
    assert answer.content.rstrip("\n") == "".join(CHUNKS).rstrip("\n")


async def test_429_that_reaches_us_is_rate_limited_and_renderer_recovers(fake, sink) -> None:
    # No Via header: discord.py does not retry, the adapter raises RateLimited(retry_after).
    async with running(make_adapter(), sink) as adapter:
        ref = await adapter.post(ChatRef("discord", GENERAL_ID), "draft")
        fake.edit_429 = [(0.25, False)]
        with pytest.raises(RateLimited) as caught:
            await adapter.edit(ref, "changed")
        assert caught.value.retry_after == pytest.approx(0.25)
        assert fake.messages[ref.message_id].content == "draft"

        fake.edit_429 = [(0.1, False), (0.1, False)]
        asked, _ = await _mention_and_stream(fake, adapter, sink, CHUNKS)

    assert fake.rate_limited == 3
    [answer] = fake.messages_in(asked.id)
    assert answer.content.rstrip("\n") == "".join(CHUNKS).rstrip("\n")


async def test_too_long_is_refused_before_any_request(fake, sink) -> None:
    async with running(make_adapter(), sink) as adapter:
        before = len(fake.requests)
        with pytest.raises(MessageTooLong):
            await adapter.post(ChatRef("discord", GENERAL_ID), "x" * 2001)
        ref = await adapter.post(ChatRef("discord", GENERAL_ID), "x" * 2000)
        with pytest.raises(MessageTooLong):
            await adapter.edit(ref, "y" * 2001)
    assert len(fake.requests) == before + 1
    assert fake.messages[ref.message_id].content == "x" * 2000


async def test_edits_are_paced_by_the_chat_pacer_not_the_adapter(fake, sink) -> None:
    clock = FakeClock()
    caps = Capabilities(max_message_chars=2000, min_edit_interval=1.0, buttons=True)
    async with running(make_adapter(capabilities=caps, clock=clock), sink) as adapter:
        chat = ChatRef("discord", GENERAL_ID)
        a = await adapter.post(chat, "a")
        b = await adapter.post(chat, "b")
        await adapter.edit(a, "a1")
        await adapter.edit(b, "b1")
        assert clock.sleeps == []  # the adapter keeps only Discord's own 429 handling
        thread = TaskThread(adapter, chat, clock)
        await asyncio.gather(thread.pacer.edit(a, "a2"), thread.pacer.edit(b, "b2"))
    assert clock.sleeps == [pytest.approx(1.0)]  # one pace for both messages of the chat
    assert [fake.messages[r.message_id].content for r in (a, b)] == ["a2", "b2"]


async def test_tight_edit_bucket_slows_but_loses_nothing(fake, sink) -> None:
    # 3 edits per 0.3 s per channel, announced in X-RateLimit-* headers that discord.py obeys
    # (and a real 429 with Via if it ever overshoots, which it then waits out).
    fake.edit_bucket = (3, 0.3)
    async with running(make_adapter(), sink) as adapter:
        asked, _ = await _mention_and_stream(fake, adapter, sink, CHUNKS)

    [answer] = fake.messages_in(asked.id)
    assert answer.content.rstrip("\n") == "".join(CHUNKS).rstrip("\n")
    assert answer.edits >= 1
    _assert_prefix_stable(answer.history, answer.content)
