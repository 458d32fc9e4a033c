"""Learner: when a kind of request keeps succeeding through the agent, or someone says
`learn`, the work becomes a code skill (factory → checks → human review → TESTING).

Successful agent tasks are kept as traces (goal and tool calls). "Same kind" means similar
goals: cosine similarity of Ollama embeddings when an embedder works, otherwise normalised
text similarity.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from difflib import SequenceMatcher
from typing import Any

from core.clock import SystemClock
from core.events import ChatRef
from core.llm.base import ToolCall, ToolResult, ToolSpec
from core.ports import Clock
from core.skills.factory import SkillFactory
from core.skills.library import SkillLibrary
from core.skills.matching import normalize
from core.skills.model import CodeSkill
from core.skills.review import SkillReview
from core.storage.traces import Trace, TraceStore
from core.tasks import TaskContext
from core.tools.base import PreparedCall, ToolContext, ToolRunner

log = logging.getLogger(__name__)

Embed = Callable[[Sequence[str]], Awaitable[list[list[float]]]]
LocalOnly = Callable[[ChatRef], Awaitable[bool]]
SIMILAR_TEXT = 0.75
SIMILAR_EMBEDDING = 0.85


class Learner:
    """Keeps traces of successful tasks and turns repeated work into skills."""

    def __init__(
        self,
        factory: SkillFactory,
        review: SkillReview,
        traces: TraceStore,
        *,
        suggest_after: int = 3,
        embed: Embed | None = None,
        local_only: LocalOnly | None = None,
        library: SkillLibrary | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._factory = factory
        self._review = review
        self._traces = traces
        self._suggest_after = suggest_after  # SKILL_SUGGEST_AFTER
        self._embed = embed
        self._local_only = local_only
        self._library = library
        self._clock = clock or SystemClock()
        self._calls: dict[str, list[dict[str, Any]]] = {}  # task id → tool calls so far

    def recording(self, task_id: str, tools: ToolRunner) -> ToolRunner:
        """``tools`` with every call and result of the task remembered for its trace."""
        calls = self._calls.setdefault(task_id, [])
        return _Recording(tools, calls)

    def forget(self, task_id: str) -> None:
        """Drop what a task recorded (it ended)."""
        self._calls.pop(task_id, None)

    async def after_success(self, task: TaskContext, answer: str) -> None:
        """Keep the task's trace; draft a skill once enough similar tasks succeeded."""
        trace = Trace(
            task_id=task.task_id,
            at=self._clock.now(),
            chat_key=task.chat.key,
            requester=task.requester.qualified,
            goal=task.goal,
            answer=answer,
            calls=self._calls.pop(task.task_id, []),
            embedding=await self._vector(task.goal),
        )
        await self._traces.add(trace)
        similar = await self._similar(trace)
        if len(similar) < self._suggest_after:
            return
        await task.thread.say(
            f"💡 This kind of request has now succeeded {len(similar)} times. I'm drafting a "
            "skill for it, so the next one needs no model call (a human reviews the code first).",
        )
        await self._make(task, description=task.goal, traces=similar)

    async def learn(self, task: TaskContext, description: str) -> None:
        """`learn` (in a finished task's thread), `learn <feedback>` there, or `learn <what>`.

        In the thread of a task that became a skill, a new draft starts from the current code
        and the feedback, and becomes the next version once reviewed.
        """
        trace = await self._traces.in_chat(task.chat.key) if task.chat.thread_id else None
        if trace is not None and description:
            await self._make(
                task,
                description=f"{trace.goal}\nFeedback on the last version: {description}",
                traces=[trace],
                current=self._current(trace),
            )
            return
        if not description:
            if trace is None:
                await task.thread.say(
                    "There is no finished task in this thread to learn from. Say `learn "
                    "<what the skill should do>`, or `learn` in the thread of a task that worked.",
                )
                return
            await self._make(
                task, description=trace.goal, traces=[trace], current=self._current(trace)
            )
            return
        probe = Trace(
            task_id="",
            at=0.0,
            chat_key="",
            requester="",
            goal=description,
            embedding=await self._vector(description),
        )
        await self._make(task, description=description, traces=(await self._similar(probe))[:3])

    def _current(self, trace: Trace) -> str:
        skill = self._library.get(trace.learned) if trace.learned and self._library else None
        return skill.source if isinstance(skill, CodeSkill) else ""

    async def _make(
        self, task: TaskContext, *, description: str, traces: list[Trace], current: str = ""
    ) -> None:
        async def say(text: str) -> None:
            await task.thread.say(text)

        local_only = task.local_only
        if not local_only and self._local_only is not None:
            local_only = await self._local_only(task.chat)
        draft = await self._factory.draft(
            description=description,
            traces=traces,
            task_id=task.task_id,
            user=task.requester.qualified,
            local_only=local_only,
            say=say,
            current=current,
        )
        if draft is None:
            return
        saved = await self._review.review(
            draft,
            chat=task.chat,
            adapter=task.thread.adapter,
            task_id=task.task_id,
            requester=task.requester,
            note=description,
        )
        if saved is None:
            return
        await self._traces.mark_learned([t.task_id for t in traces if t.task_id], saved.name)
        if await self._traces.in_chat(task.chat.key) is None:
            # `learn <feedback>` in this thread later edits this skill (a new reviewed version).
            await self._traces.add(
                Trace(
                    task_id=task.task_id,
                    at=self._clock.now(),
                    chat_key=task.chat.key,
                    requester=task.requester.qualified,
                    goal=description,
                    learned=saved.name,
                )
            )

    async def _vector(self, text: str) -> list[float] | None:
        if self._embed is None:
            return None
        try:
            [vector] = await self._embed([text])
        except Exception as exc:  # no embed model: text similarity instead
            log.info("embedding a goal failed (%s); using text similarity", exc)
            return None
        return vector

    async def _similar(self, trace: Trace) -> list[Trace]:
        out = []
        for other in await self._traces.unlearned():
            if other.task_id == trace.task_id or _similar(trace, other):
                out.append(other)
        return out


def _similar(a: Trace, b: Trace) -> bool:
    if a.embedding and b.embedding and len(a.embedding) == len(b.embedding):
        return _cosine(a.embedding, b.embedding) >= SIMILAR_EMBEDDING
    ratio = SequenceMatcher(None, normalize(a.goal), normalize(b.goal), autojunk=False).ratio()
    return ratio >= SIMILAR_TEXT


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


class _Recording:
    """A ToolRunner that remembers each call and its result (for the task's trace)."""

    def __init__(self, inner: ToolRunner, calls: list[dict[str, Any]]) -> None:
        self._inner = inner
        self._calls = calls

    def specs(self) -> Sequence[ToolSpec]:
        return self._inner.specs()

    def is_read_only(self, name: str) -> bool:
        return self._inner.is_read_only(name)

    async def prepare(self, call: ToolCall) -> PreparedCall:
        return await self._inner.prepare(call)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # anything else the registry offers

    async def run(self, call: ToolCall | PreparedCall, ctx: ToolContext) -> ToolResult:
        result = await self._inner.run(call, ctx)
        plain = call.call if isinstance(call, PreparedCall) else call
        self._calls.append(
            {
                "name": plain.name,
                "arguments": dict(plain.arguments),
                "output": result.output[:1500],
                "ok": not result.is_error,
            }
        )
        return result
