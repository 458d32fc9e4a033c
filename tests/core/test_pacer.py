"""EditPacer and TaskThread: one pace for every edit of a chat, 429s lose nothing."""

from __future__ import annotations

import asyncio

from core.errors import PlatformError
from core.events import ApprovalOutcome, ChatRef, Decision
from core.ports import Capabilities
from core.thread import TaskThread, Threads
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

CHAT = ChatRef("fake", "C1", "T1")


class TimedAdapter(FakeAdapter):
    """Records the fake time of every edit."""

    def __init__(self, clock: FakeClock, interval: float = 1.0) -> None:
        super().__init__(capabilities=Capabilities(4000, interval, True))
        self.clock = clock
        self.edit_times: list[float] = []
        self.fail_next: list[Exception] = []

    async def edit(self, ref, text):
        if self.fail_next:
            self.calls.append(("edit-failed", ref.message_id, text))
            raise self.fail_next.pop(0)
        await super().edit(ref, text)
        self.edit_times.append(self.clock.monotonic())

    async def close_approval(self, prompt, outcome):
        await super().close_approval(prompt, outcome)
        self.edit_times.append(self.clock.monotonic())


async def test_card_answer_and_prompt_share_one_pace_and_only_newest_text_is_sent() -> None:
    clock = FakeClock(auto_advance=False)
    adapter = TimedAdapter(clock)
    thread = TaskThread(adapter, CHAT, clock)
    card = await thread.say("card 0")
    answer = await thread.say("answer 0")
    prompt = await thread.say("prompt")
    assert card and answer and prompt
    waits = []
    for i in range(1, 30):
        waits.append(thread.pacer.edit(card, f"card {i}", draft=True))
        waits.append(thread.pacer.edit(answer, f"answer {i}", draft=True))
        await asyncio.sleep(0)
        clock.advance(0.1)
    outcome = ApprovalOutcome(decision=Decision.DENY, decided_by=None, decided_at=None, reason="x")
    waits.append(thread.pacer.call(prompt, lambda: adapter.close_approval(prompt, outcome)))
    waits.append(thread.pacer.edit(card, "card final"))
    waits.append(thread.pacer.edit(answer, "answer final"))
    await clock.drive(asyncio.gather(*waits))
    gaps = [b - a for a, b in zip(adapter.edit_times, adapter.edit_times[1:], strict=False)]
    assert gaps and min(gaps) >= 1.0 - 1e-9, gaps
    # 2 messages x 30 wanted states + a prompt close in ~3 s: coalesced to a handful of edits
    assert len(adapter.edit_times) <= 8
    assert adapter.messages[card.message_id].text == "card final"
    assert adapter.messages[answer.message_id].text == "answer final"
    assert adapter.messages[prompt.message_id].buttons is False


async def test_rate_limited_edits_lose_nothing(clock: FakeClock) -> None:
    adapter = TimedAdapter(clock)
    thread = TaskThread(adapter, CHAT, clock)
    ref = await thread.say("one")
    assert ref is not None
    adapter.rate_limit_next = [4.0, 4.0]
    assert await thread.edit(ref, "one two") is True
    assert adapter.messages[ref.message_id].text == "one two"
    assert len(adapter.ops("edit-429")) == 2
    assert sum(s for s in clock.sleeps if s >= 4.0) >= 8.0  # both Retry-After waits honoured


async def test_other_platform_errors_are_retried_then_given_up(clock: FakeClock) -> None:
    adapter = TimedAdapter(clock)
    thread = TaskThread(adapter, CHAT, clock)
    ref = await thread.say("one")
    assert ref is not None
    adapter.fail_next = [PlatformError("502")]
    assert await thread.edit(ref, "two") is True
    adapter.fail_next = [PlatformError("gone")] * 10
    assert await thread.edit(ref, "three") is False
    assert adapter.messages[ref.message_id].text == "two"


async def test_an_unexpected_sdk_error_is_retried_and_the_chats_other_edits_still_go_out(
    clock: FakeClock,
) -> None:
    """An error no adapter translated (an SDK's own bug) is one failed attempt, not the end of
    the chat's pacer with every queued edit and waiter in it."""
    adapter = TimedAdapter(clock)
    thread = TaskThread(adapter, CHAT, clock)
    card, answer = await thread.say("card"), await thread.say("answer")
    assert card is not None and answer is not None
    adapter.fail_next = [AttributeError("'NoneType' object has no attribute 'getall'")]
    edits = [thread.pacer.edit(card, "✅ Done"), thread.pacer.edit(answer, "the answer")]
    assert await asyncio.wait_for(asyncio.gather(*edits), 10) == [True, True]
    assert [adapter.messages[r.message_id].text for r in (card, answer)] == [
        "✅ Done",
        "the answer",
    ]


async def test_threads_share_one_pacer_per_chat(clock: FakeClock) -> None:
    adapter = FakeAdapter()
    threads = Threads({"fake": adapter}, clock=clock)
    assert threads.open(CHAT).pacer is threads.open(CHAT).pacer
    assert threads.open(CHAT).pacer is not threads.open(CHAT.in_thread("T2")).pacer


async def test_the_answer_goes_before_card_updates_in_the_same_pace() -> None:
    clock = FakeClock(auto_advance=False)
    adapter = TimedAdapter(clock)
    thread = TaskThread(adapter, CHAT, clock)
    card = await thread.say("card")
    answer = await thread.say("answer")
    assert card and answer
    waits = [
        thread.pacer.edit(card, "card 1", draft=True),
        thread.pacer.edit(answer, "answer 1", urgent=True),
    ]
    await clock.drive(asyncio.gather(*waits))
    assert [c[1] for c in adapter.ops("edit")] == [answer.message_id, card.message_id]


async def test_a_frame_is_made_when_its_edit_is_sent_and_a_final_text_replaces_it() -> None:
    clock = FakeClock(auto_advance=False)
    adapter = TimedAdapter(clock)
    thread = TaskThread(adapter, CHAT, clock)
    ref = await thread.say("draft 0")  # the next edit waits a full interval
    assert ref is not None
    made: list[str] = []
    state = {"text": ""}

    def frame() -> str:
        made.append(state["text"])
        return state["text"]

    waits = []
    for i in range(1, 40):  # a fast stream: the frame is asked for again and again
        state["text"] = f"draft {i}"
        waits.append(thread.pacer.frame(ref, frame, urgent=True))
        await asyncio.sleep(0)
        clock.advance(0.02)
    await clock.drive(asyncio.gather(*waits))
    assert made == ["draft 39"]  # made once, when sent, from the newest text
    assert adapter.messages[ref.message_id].text == "draft 39"
    state["text"] = "draft 40"
    queued = thread.pacer.frame(ref, frame, urgent=True)
    final = thread.pacer.edit(ref, "final")  # replaces the queued frame, keeps its place
    await clock.drive(asyncio.gather(queued, final))
    assert made == ["draft 39"]
    assert [text for op, _, text in adapter.calls if op == "edit"] == ["draft 39", "final"]
