"""Live answers: streamed from the first token, notes never shown, replaced when not kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from core.llm.base import Message, StreamEvent, TextDelta, ToolResult, ToolSpec, TurnEnd, Usage
from core.ports import Capabilities
from tests.core.agent.conftest import Rig, plan
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock
from tests.fakes.llm import HANG, FakeTools, Turn, calls, text

RATE = 20.0  # tokens per second


class PacedLLM:
    """A model that writes each scripted answer word by word at RATE tokens/s of fake time."""

    provider = "ollama"
    model = "paced"
    num_ctx = 16384

    def __init__(self, clock: FakeClock, *answers: str) -> None:
        self.clock = clock
        self.answers = list(answers)
        self.first_token: list[float] = []

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str = "",
        tools: Sequence[ToolSpec] = (),
        format: dict | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Yield the next answer one word per 1/RATE s."""
        body = self.answers.pop(0)
        words = body.split(" ")
        self.first_token.append(self.clock.monotonic())
        for i, word in enumerate(words):
            if i:
                await self.clock.sleep(1 / RATE)
            yield TextDelta(word if i == 0 else " " + word)
        yield TurnEnd("end_turn", (), Usage(100, len(words), 0.1), body)


@pytest.fixture
def clock() -> FakeClock:
    """Virtual time: nothing moves unless the test drives it."""
    return FakeClock(auto_advance=False)


def paced_rig(rig: Rig, interval: float, *answers: str) -> PacedLLM:
    rig.adapter = FakeAdapter(capabilities=Capabilities(4000, interval, True))
    model = PacedLLM(rig.clock, *answers)
    rig.local = model  # type: ignore[assignment]
    rig.planner.add(plan("answer the question"))
    return model


class Recording(FakeAdapter):
    """Records the fake time of every post."""

    def __init__(self, clock: FakeClock, caps: Capabilities) -> None:
        super().__init__(capabilities=caps)
        self.clock = clock
        self.posted_at: dict[str, float] = {}

    async def post(self, chat, text):
        ref = await super().post(chat, text)
        self.posted_at[ref.message_id] = self.clock.monotonic()
        return ref


ANSWER = " ".join(f"word{i}" for i in range(60)) + " (confidence: 0.95)"


@pytest.mark.parametrize("interval", [0.05, 1.0, 1.2, 3.0])  # console, discord, slack, matrix
async def test_first_words_are_visible_within_one_edit_interval(rig: Rig, interval: float) -> None:
    paced_rig(rig, interval, ANSWER)
    rig.adapter = Recording(rig.clock, Capabilities(4000, interval, True))
    model = rig.local
    await rig.clock.drive(rig.run("tell me"), step=0.01)
    posts = rig.adapter.ops("post")
    answer_id = next(mid for _, mid, t in posts if t.startswith("word0"))
    first_visible = rig.adapter.posted_at[answer_id]
    assert first_visible - model.first_token[0] <= interval + 0.3
    # The same message was edited in place as the words arrived, then sealed without a note.
    assert len(rig.adapter.ops("edit")) >= 2
    assert [c for c in posts if c[2].startswith("word")] == [posts[1]]
    assert rig.adapter.messages[answer_id].text == ANSWER.removesuffix(" (confidence: 0.95)")
    assert not any("onfidence" in t for _, _, t in rig.adapter.calls)


async def test_final_mode_posts_the_checked_answer_once(rig: Rig) -> None:
    paced_rig(rig, 1.0, ANSWER)
    rig.live = False
    await rig.clock.drive(rig.run("tell me"), step=0.01)
    answers = [c for c in rig.adapter.calls if "word0" in c[2]]
    assert answers == [("post", "m2", ANSWER.removesuffix(" (confidence: 0.95)"))]


async def test_progress_preview_never_shows_a_confidence_note(rig: Rig) -> None:
    rig.live = False
    rig.planner.add(plan("answer"))
    body = "The disk is fine. " * 12 + "\nCONFIDENCE: 0.9"
    rig.local.add(Turn(body, chunks=len(body) // 4))
    await rig.clock.drive(rig.run("disk?"))
    card_texts = [t for op, mid, t in rig.adapter.calls if mid == "m1"]
    assert any("✍️ writing" in t for t in card_texts)
    assert not any("onfidence" in t for _, _, t in rig.adapter.calls)


async def test_inline_confidence_note_is_parsed_not_shown(rig: Rig) -> None:
    rig.planner.add(plan("delete junk"))
    rig.local.add(text("Deleted junk.txt from the workspace. (Confidence: 20%)"))
    rig.cloud.add(text("Deleted junk.txt; checked it is gone. CONFIDENCE=0.9"))
    await rig.clock.drive(rig.run("delete junk.txt"))
    texts = rig.texts()
    assert rig.cloud.calls_made == 1  # 20 % was read as 0.2, below the threshold
    assert texts[-1] == "Deleted junk.txt; checked it is gone."
    answers = [t for _, _, t in rig.adapter.calls if t.startswith("Deleted")]
    assert len(answers) >= 3  # both answers streamed, each sealed
    assert not any("onfidence" in t for t in answers)


async def test_escalation_edits_the_streamed_answer_to_say_it_was_replaced(rig: Rig) -> None:
    rig.planner.add(plan("find the port"))
    rig.local.add(text("Probably 80.\nCONFIDENCE: 0.2"))
    rig.cloud.add(text("Port 8080, from app.toml.\nCONFIDENCE: 0.9"))
    await rig.clock.drive(rig.run("what port?"))
    first = next(mid for op, mid, t in rig.adapter.calls if op == "post" and "Probably" in t)
    replaced = rig.adapter.messages[first].text
    assert replaced.startswith("↪️ Replaced: escalated to Claude")
    assert "Probably" not in replaced
    ids = list(rig.adapter.messages)
    later = ids[ids.index(first) + 1 :]
    assert rig.adapter.messages[later[-1]].text == "Port 8080, from app.toml."


async def test_a_step_whose_command_was_denied_is_not_done(rig: Rig) -> None:
    denied = ToolResult("x", "shell", "Not run: denied by bob (no). Do not retry it.", True)
    rig.tools = FakeTools({"shell": lambda _: denied}, read_only=())
    rig.planner.add(plan("delete junk.txt"))
    rig.local.add(
        calls(("shell", {"path": "rm junk.txt"})),
        text("The command was not approved, so junk.txt is still there.\nCONFIDENCE: 0.9"),
    )
    line = await rig.clock.drive(rig.run("delete junk.txt"))
    card = rig.texts()[0].splitlines()
    assert card[0] == "⚠️ Done, 1 command was not approved: delete junk.txt"
    assert card[1].startswith("⚠️ 1. delete junk.txt")
    assert "✅" not in rig.texts()[0]
    assert "1 command was not approved" in line


async def test_a_stopped_task_says_who_stopped_it(rig: Rig) -> None:
    rig.planner.add(plan("slow"))
    rig.local.add(HANG)
    ctx = rig.task("slow")
    task = asyncio.create_task(rig.runner().run(ctx))
    await rig.clock.drive(until_called(rig))
    ctx.thread.stop_note = "Stopped by alice."  # what the pool records when alice says stop
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rig.texts()[0].startswith("⏹ Stopped by alice: slow")


async def until_called(rig: Rig) -> None:
    while rig.local.calls_made == 0:  # until the executor waits on the model
        await asyncio.sleep(0.001)
