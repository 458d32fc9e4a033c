"""StreamRenderer on a fake clock: coalescing, throttle, splits, cursor, rate limits."""

from __future__ import annotations

import asyncio

import pytest

from core.events import ChatRef
from core.metrics import Metrics
from core.ports import Capabilities
from core.render import CURSOR, StreamRenderer
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

CHAT = ChatRef("fake", "C1", "T1")


class TimedAdapter(FakeAdapter):
    """FakeAdapter that also records the fake time of every write."""

    def __init__(self, clock: FakeClock, **caps: object) -> None:
        super().__init__(
            capabilities=Capabilities(
                **{"max_message_chars": 4000, "min_edit_interval": 1.0, "buttons": True, **caps}
            )
        )
        self.clock = clock
        self.times: list[float] = []

    async def post(self, chat, text):
        self.times.append(self.clock.monotonic())
        return await super().post(chat, text)

    async def edit(self, ref, text):
        self.times.append(self.clock.monotonic())
        await super().edit(ref, text)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def stream(out: StreamRenderer, clock: FakeClock, deltas: list[str], step: float) -> None:
    """Append one delta per ``step`` seconds of fake time, then finish."""
    for delta in deltas:
        out.append(delta)
        await settle()
        clock.advance(step)
    await clock.drive(out.finish())


@pytest.fixture
def vclock() -> FakeClock:
    """Virtual time: sleeps wait until the test advances the clock."""
    return FakeClock(auto_advance=False)


async def test_first_text_posted_at_once_then_edits_are_throttled(vclock: FakeClock) -> None:
    clock = vclock
    adapter = TimedAdapter(clock)
    deltas = [f"word{i} " for i in range(100)]
    async with StreamRenderer(adapter, CHAT, clock=clock) as out:
        await stream(out, clock, deltas, step=0.05)  # 20 tokens/s for 5 s of fake time
    assert adapter.calls[0] == ("post", "m1", "word0 " + CURSOR)
    gaps = [b - a for a, b in zip(adapter.times, adapter.times[1:], strict=False)]
    assert all(gap >= 1.0 - 1e-9 for gap in gaps), gaps
    assert len(adapter.ops("edit")) <= 5 / 1.0 + 2  # coalesced: far fewer than 100 deltas
    assert adapter.messages["m1"].text == "".join(deltas).rstrip()


async def test_cursor_only_on_drafts(vclock: FakeClock) -> None:
    clock = vclock
    adapter = TimedAdapter(clock)
    async with StreamRenderer(adapter, CHAT, clock=clock) as out:
        await stream(out, clock, ["Hello", " there", " friend"], step=1.0)
    texts = [text for op, _, text in adapter.calls]
    assert all(t.endswith(CURSOR) for t in texts[:-1])
    assert texts[-1] == "Hello there friend"


async def test_deltas_appended_without_yielding_become_one_post(clock: FakeClock) -> None:
    adapter = TimedAdapter(clock)
    out = StreamRenderer(adapter, CHAT, clock=clock)
    for i in range(50):
        out.append(f"{i} ")
    await out.finish()
    assert [op for op, _, _ in adapter.calls] == ["post"]
    assert adapter.messages["m1"].text == "".join(f"{i} " for i in range(50)).rstrip()


async def test_long_answer_splits_into_messages_and_earlier_ones_are_final(
    vclock: FakeClock,
) -> None:
    clock = vclock
    adapter = TimedAdapter(clock, max_message_chars=100)
    deltas = [f"line {i} of the answer\n" for i in range(30)]
    async with StreamRenderer(adapter, CHAT, clock=clock) as out:
        await stream(out, clock, deltas, step=0.3)
    assert len(adapter.messages) > 1
    for msg in adapter.messages.values():
        assert len(msg.text) <= 100
        assert not msg.text.endswith(CURSOR)
    shown = "\n".join(m.text for m in adapter.messages.values())
    assert shown.split("\n") == "".join(deltas).rstrip("\n").split("\n")


async def test_rate_limit_postpones_next_write_and_loses_nothing(clock: FakeClock) -> None:
    adapter = TimedAdapter(clock)
    metrics = Metrics()
    async with StreamRenderer(adapter, CHAT, clock=clock, metrics=metrics) as out:
        out.append("one")
        await settle()
        adapter.rate_limit_next = [5.0]
        clock.advance(1.0)
        out.append(" two")
        await settle()
        out.append(" three")
    assert ("edit-429", "m1", "one two" + CURSOR) in adapter.calls
    assert 5.0 in clock.sleeps or any(s >= 4.9 for s in clock.sleeps)
    assert adapter.messages["m1"].text == "one two three"
    assert metrics.get("hearth_chat_rate_limited_total", platform="fake") == 1


async def test_repeated_rate_limits_fall_back_to_one_final_edit(clock: FakeClock) -> None:
    adapter = TimedAdapter(clock)
    async with StreamRenderer(adapter, CHAT, clock=clock) as out:
        out.append("start")
        await settle()
        adapter.rate_limit_next = [1.0, 1.0, 1.0]
        for i in range(20):
            clock.advance(1.5)
            out.append(f" more{i}")
            await settle()
    assert len(adapter.ops("edit-429")) == 3
    assert len(adapter.ops("edit")) == 1  # drafts stopped; only the final frame was sent
    assert len(adapter.ops("post")) == 1  # reconciled by edit, never a duplicate post
    assert adapter.messages["m1"].text == "start" + "".join(f" more{i}" for i in range(20))


async def test_exception_marks_interrupted(clock: FakeClock) -> None:
    adapter = TimedAdapter(clock)
    with pytest.raises(RuntimeError):
        async with StreamRenderer(adapter, CHAT, clock=clock) as out:
            out.append("partial answer")
            raise RuntimeError("model died")
    assert adapter.messages["m1"].text == "partial answer\n\n⚠️ Response interrupted."


async def test_finish_with_final_text_edits_in_place(clock: FakeClock) -> None:
    adapter = TimedAdapter(clock)
    out = StreamRenderer(adapter, CHAT, clock=clock)
    out.append("draft")
    await settle()
    clock.advance(2)
    await out.finish("draft, polished")
    assert len(adapter.ops("post")) == 1
    assert adapter.messages["m1"].text == "draft, polished"


async def test_empty_stream_posts_nothing(clock: FakeClock) -> None:
    adapter = TimedAdapter(clock)
    async with StreamRenderer(adapter, CHAT, clock=clock):
        pass
    assert adapter.calls == []


async def test_an_answer_done_within_the_hold_is_posted_once_final(vclock: FakeClock) -> None:
    """A fast model's answer: one post with the final text, no cursor and no paced edit."""
    clock = vclock
    adapter = TimedAdapter(clock)
    out = StreamRenderer(adapter, CHAT, clock=clock, hold=0.3)
    for word in ("All", " good", " here."):
        out.append(word)
        await settle()
        clock.advance(0.05)
    assert adapter.calls == []  # held: the answer may be complete in a moment
    await clock.drive(out.finish("All good here."))
    assert adapter.calls == [("post", "m1", "All good here.")]


async def test_a_slower_answer_shows_its_draft_once_the_hold_is_over(vclock: FakeClock) -> None:
    clock = vclock
    adapter = TimedAdapter(clock)
    out = StreamRenderer(adapter, CHAT, clock=clock, hold=0.3)
    out.append("Thinking")
    await settle()
    assert adapter.calls == []
    clock.advance(0.3)
    async with asyncio.timeout(5):
        while not adapter.calls:  # the draft appears once the hold has passed
            await asyncio.sleep(0.001)
    assert adapter.calls[0] == ("post", "m1", "Thinking" + CURSOR)
    await clock.drive(out.finish("Thinking done."))
    assert adapter.messages["m1"].text == "Thinking done."
