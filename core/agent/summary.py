"""Summary: the final answer streamed into the thread; step results survive a failed summary."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core.errors import HearthError
from core.llm.base import LLMClient, Message, TextDelta

log = logging.getLogger(__name__)

SUMMARY_SYSTEM = """You write hearth's final answer to the user. You get the goal and the result \
of each step. Write one clear, concise answer to the goal using ONLY those results; do not \
invent anything. If a step failed, say so plainly. No preamble."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StepOutcome:
    """How one plan step ended."""

    subtask: str
    ok: bool
    answer: str  # the step's answer ("" when it failed without one)
    by: str  # "local (qwen2.5:3b)" or "Claude (claude-opus-4-6)"
    confidence: float = 0.0
    failure: str = ""  # the honest explanation when not ok
    denied: int = 0  # commands it wanted that were not approved


class TextSink(Protocol):
    """Where the answer streams (core.render.StreamRenderer)."""

    def append(self, delta: str) -> None:
        """Add text."""

    async def finish(self, final_text: str | None = None) -> None:
        """Seal the answer."""


def plain_answer(outcomes: Sequence[StepOutcome]) -> str:
    """The step results as they are, with failures explained; used when no summary is made."""
    if len(outcomes) == 1:
        o = outcomes[0]
        return o.answer if o.ok else o.failure
    parts = []
    for i, o in enumerate(outcomes, start=1):
        body = o.answer if o.ok else f"❌ {o.failure}"
        parts.append(f"**Step {i}: {o.subtask}** ({o.by})\n{body}")
    return "\n\n".join(parts)


def failure_notes(outcomes: Sequence[StepOutcome]) -> str:
    """The honest failure lines of every failed step."""
    return "\n".join(
        f"❌ Step {i}: {o.failure}" for i, o in enumerate(outcomes, start=1) if not o.ok
    )


class Summarizer:
    """Writes the final answer; one step's answer is shown as is, several are summarised."""

    def __init__(self, llm: LLMClient | None) -> None:
        self._llm = llm

    async def write(self, goal: str, outcomes: Sequence[StepOutcome], out: TextSink) -> str:
        """Stream the final answer into ``out`` and return its text."""
        ok = [o for o in outcomes if o.ok]
        if len(outcomes) == 1 or not ok or self._llm is None:
            text = plain_answer(outcomes)
            out.append(text)
            await out.finish()
            return text
        prompt = f"Goal: {goal}\n\n" + "\n\n".join(
            f"Step {i}: {o.subtask}\nResult ({'ok' if o.ok else 'FAILED'}):\n"
            + (o.answer if o.ok else o.failure)
            for i, o in enumerate(outcomes, start=1)
        )
        text = ""
        try:
            async for event in self._llm.stream([Message("user", prompt)], system=SUMMARY_SYSTEM):
                if isinstance(event, TextDelta):
                    text += event.text
                    out.append(event.text)
        except asyncio.CancelledError:
            raise
        except HearthError as exc:
            log.warning("summary failed (%s); posting the step results instead", exc)
            note = "\n\n" if text else ""
            tail = f"{note}(The summary step failed, so here are the step results.)\n\n"
            tail += plain_answer(outcomes)
            out.append(tail)
            await out.finish()
            return text + tail
        if not text.strip():
            tail = plain_answer(outcomes)
            out.append(tail)
            await out.finish()
            return tail
        notes = failure_notes(outcomes)
        if notes:
            tail = f"\n\n{notes}"
            out.append(tail)
            text += tail
        await out.finish()
        return text
