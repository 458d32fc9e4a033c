"""A long answer costs work linear in its length: nothing re-reads the whole answer per chunk.

No timing: the tests count what is read. ``visible_draft`` (whoever calls it) reads every
character it is given through ``MEMO_LINE`` first, and every cut of a message goes through
``_cut_point``; both are wrapped with counters. Re-reading the answer on every chunk (what
the executor and the live answer once did) reads ~10^8 characters here.
"""

from __future__ import annotations

import asyncio
import random
import re
from pathlib import Path

import pytest

from bench.longanswer.answers import chunked
from core.agent import confidence
from core.agent.config import AgentConfig
from core.agent.executor import Executor
from core.agent.live import LiveAnswer
from core.events import ChatRef, User
from core.ports import Capabilities
from core.render import CURSOR, StreamRenderer
from core.textsplit import split_text
from core.thread import TaskThread
from core.tools.base import ToolContext
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeTools, ScriptedLLM, Turn

CHAT = ChatRef("fake", "C1", "T1")
LIMIT = 2000
SIZE = 60_000
CTX = ToolContext(task_id="t1", chat=CHAT, requester=User("fake", "U1"), workspace=Path("."))


def report(size: int) -> str:
    """A long answer: paragraphs, bullets, fenced code; no notes."""
    rng = random.Random(5)
    words = ["disk", "usage", "service", "queue", "cache", "index", "mount", "kernel"]
    out: list[str] = ["Here is the report."]
    section = 0
    while sum(map(len, out)) < size:
        section += 1
        out.append(f"## Part {section}")
        out.append(" ".join(rng.choice(words) for _ in range(rng.randint(20, 120))) + ".")
        out.append("\n".join(f"- item {section}.{i}" for i in range(3)))
        if section % 4 == 0:
            out.append("```sh\n" + "\n".join(f"echo {i}" for i in range(20)) + "\n```")
    return "\n\n".join(out)[:size].rstrip()


def parts_of(answer: str) -> list[str]:
    """The messages a complete answer must stand as."""
    parts = split_text(answer, LIMIT - len(CURSOR))
    parts[-1] = parts[-1].rstrip()
    return parts


class Counting:
    """A compiled pattern that counts the characters it is asked to read."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.chars = 0

    def sub(self, repl: str, text: str, count: int = 0) -> str:
        self.chars += len(text)
        return self.pattern.sub(repl, text, count)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        self.chars += len(text) - pos
        return self.pattern.match(text, pos)


@pytest.fixture
def screened(monkeypatch: pytest.MonkeyPatch) -> Counting:
    """Characters ``visible_draft`` reads, whoever calls it."""
    counter = Counting(confidence.MEMO_LINE)
    monkeypatch.setattr(confidence, "MEMO_LINE", counter)
    return counter


@pytest.fixture
def cuts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per cut of a message, whoever splits."""
    from core import textsplit

    made: list[int] = []
    real = textsplit._cut_point
    monkeypatch.setattr(textsplit, "_cut_point", lambda body, n: made.append(n) or real(body, n))
    return made


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_long_live_answer_is_read_a_bounded_number_of_times(
    screened: Counting, cuts: list[int]
) -> None:
    clock = FakeClock(auto_advance=False)
    adapter = FakeAdapter(capabilities=Capabilities(LIMIT, 1.0, True))
    live = LiveAnswer(TaskThread(adapter, CHAT, clock))
    answer = report(SIZE)
    for i, piece in enumerate(chunked(answer + "\nCONFIDENCE: 0.9", seed=9)):
        live.delta(piece)
        if i % 50 == 0:  # a fast model: many chunks between two turns of the event loop
            await settle()
            clock.advance(0.25)
    live.end_round(answer=True)
    await clock.drive(live.finish(answer))
    assert [m.text for m in adapter.messages.values()] == parts_of(answer)
    assert not any("CONFIDENCE" in text for _, _, text in adapter.calls)
    renderer = live.renderer
    assert renderer is not None
    # Every character is screened a few times in all, not once per chunk.
    assert screened.chars <= 10 * len(answer)
    # Each message is cut about once; a draft is made only when its edit is sent.
    assert renderer.frames <= len(adapter.ops("edit")) + 1
    assert len(cuts) <= 3 * len(adapter.messages) + 2 * renderer.frames


async def test_a_long_streamed_summary_is_split_once_per_message(cuts: list[int]) -> None:
    clock = FakeClock(auto_advance=False)
    adapter = FakeAdapter(capabilities=Capabilities(LIMIT, 1.0, True))
    answer = report(SIZE)
    async with StreamRenderer(adapter, CHAT, clock=clock) as out:
        for i, piece in enumerate(chunked(answer, seed=9)):
            out.append(piece)
            if i % 50 == 0:
                await settle()
                clock.advance(0.25)
        await clock.drive(out.finish())
    assert [m.text for m in adapter.messages.values()] == parts_of(answer)
    assert out.frames <= len(adapter.ops("edit")) + 1
    assert len(cuts) <= 3 * len(adapter.messages) + 2 * out.frames


async def test_the_cards_preview_of_a_long_answer_reads_only_its_end(screened: Counting) -> None:
    answer = report(SIZE)
    body = answer + "\nCONFIDENCE: 0.9"
    llm = ScriptedLLM(Turn(body, chunks=len(body) // 12))
    previews: list[str] = []
    ex = Executor(llm, FakeTools({}), config=AgentConfig(), on_activity=previews.append)
    result = await ex.run("write the report", goal="write the report", ctx=CTX)
    assert result.answer == answer
    writing = [p for p in previews if p.startswith("✍️ writing")]
    assert len(writing) >= len(answer) // 200  # the card follows the answer as it grows
    flat = " ".join(answer.split())
    assert flat.rfind(writing[-1].removeprefix("✍️ writing: …")) >= len(flat) - 200
    assert not any("CONFIDENCE" in p for p in writing)
    assert screened.chars <= 10 * len(answer)
