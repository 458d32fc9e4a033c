"""Learner: when a kind of request keeps succeeding through the agent, or someone says
`learn`, the work becomes a code skill (factory → checks → human review → TESTING).

Successful agent tasks are kept as traces (goal and tool calls). "Same kind" means similar
goals: cosine similarity of Ollama embeddings when an embedder works, otherwise normalised
text similarity.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
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
RECENT = 500  # unlearned traces compared with each new one
DRAFTED = "~drafted"  # traces a draft was made from: they never trigger another one
REDRAFT_AFTER = 7 * 24 * 3600.0  # a kind drafted lately (whatever came of it) is left alone


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
        self._recent: list[_Kind] | None = None  # unlearned traces, newest last (loaded once)
        self._drafted: list[_Kind] | None = None  # traces drafted from lately (loaded once)
        self._jobs: set[asyncio.Task[None]] = set()  # suggested drafts awaiting their review

    def recording(self, task_id: str, tools: ToolRunner) -> ToolRunner:
        """``tools`` with every call and result of the task remembered for its trace."""
        calls = self._calls.setdefault(task_id, [])
        return _Recording(tools, calls)

    def forget(self, task_id: str) -> None:
        """Drop what a task recorded (it ended)."""
        self._calls.pop(task_id, None)

    async def after_success(self, task: TaskContext, answer: str) -> None:
        """Keep the task's trace; draft a skill once enough similar tasks succeeded.

        The draft and its review run in the background: the task is over, and a review can
        wait hours for an approver without holding the task's slot or its thread.
        """
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
        kind = _Kind.of(trace)
        if _alike(kind, await self._drafted_lately()):
            # Drafted lately, whether approved, rejected or failed: no second 💡 and no model
            # calls for it again before REDRAFT_AFTER (`learn` still works when asked).
            await self._traces.add(dataclasses.replace(trace, learned=DRAFTED))
            return
        recent = await self._unlearned()  # loaded before the add: the trace joins it once
        await self._traces.add(trace)
        recent.append(kind)
        del recent[:-RECENT]
        similar = self._similar(kind)
        if len(similar) < self._suggest_after:
            return
        # One draft per kind of request: whether it is approved, rejected or fails its
        # checks, these traces never trigger another; the next needs as many new successes.
        await self._consume(similar, DRAFTED)
        job = asyncio.create_task(self._suggest(task, similar), name=f"learn:{task.task_id}")
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def _suggest(self, task: TaskContext, similar: list[Trace]) -> None:
        try:
            await task.thread.say(
                f"💡 This kind of request has now succeeded {len(similar)} times. I'm drafting "
                "a skill for it, so the next one needs no model call (a human reviews the code "
                "first).",
            )
            await self._make(task, description=task.goal, traces=similar)
        except Exception:
            log.exception("drafting a skill after task %s failed", task.task_id)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for suggested drafts still in progress (tests; shutdown)."""
        if self._jobs:
            await asyncio.wait(list(self._jobs), timeout=timeout)

    async def start(self) -> None:
        """Nothing to start (a Service: ``stop`` ends the drafts still waiting)."""

    async def stop(self) -> None:
        """Cancel drafts still waiting (shutdown: their reviews end with hearth)."""
        for job in list(self._jobs):
            job.cancel()
        await self.drain(timeout=5)

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
        await self._unlearned()
        await self._make(task, description=description, traces=self._similar(_Kind.of(probe))[:3])

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
        await self._consume(traces, saved.name)
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

    async def _unlearned(self) -> list[_Kind]:
        if self._recent is None:
            rows = await self._traces.unlearned(RECENT)
            self._recent = [_Kind.of(t) for t in reversed(rows)]
        return self._recent

    async def _drafted_lately(self) -> list[_Kind]:
        since = self._clock.now() - REDRAFT_AFTER
        if self._drafted is None:
            rows = await self._traces.learned_since(since, RECENT)
            self._drafted = [_Kind.of(t) for t in reversed(rows)]
        self._drafted[:] = [k for k in self._drafted if k.trace.at >= since]
        return self._drafted

    async def _consume(self, traces: list[Trace], learned: str) -> None:
        ids = {t.task_id for t in traces if t.task_id}
        await self._traces.mark_learned(sorted(ids), learned)
        if self._recent is not None:
            gone = [k for k in self._recent if k.trace.task_id in ids]
            self._recent[:] = [k for k in self._recent if k.trace.task_id not in ids]
            drafted = await self._drafted_lately()
            known = {k.trace.task_id for k in drafted}
            drafted += [k for k in gone if k.trace.task_id not in known]
            del drafted[:-RECENT]

    def _similar(self, kind: _Kind) -> list[Trace]:
        recent = list(reversed(self._recent or []))  # newest first
        same = [k.trace for k in recent if k.trace.task_id == kind.trace.task_id]
        others = [k for k in recent if k.trace.task_id != kind.trace.task_id]
        return same + [k.trace for k in _alike(kind, others)]


@dataclass(frozen=True, slots=True, eq=False)
class _Kind:
    """A trace with what similarity needs, computed once: its unit vector and normal goal."""

    trace: Trace
    unit: Any  # numpy float64 vector of norm 1, or None without an embedding
    goal: str

    @classmethod
    def of(cls, trace: Trace) -> _Kind:
        unit = None
        if trace.embedding:
            import numpy as np  # imported on the first trace, not at the process start

            vector = np.asarray(trace.embedding, dtype=np.float64)
            norm = math.sqrt(float(vector @ vector))
            unit = vector / norm if norm else None
        return cls(trace, unit, normalize(trace.goal))

    def alike_by_text(self, other: _Kind, matcher: SequenceMatcher[str]) -> bool:
        """Similar goals by text (``matcher`` holds this kind's goal as its second sequence,
        the one SequenceMatcher caches)."""
        matcher.set_seq1(other.goal)
        # The cheap upper bounds first: most goals are not alike, and ratio() is costly.
        return (
            matcher.real_quick_ratio() >= SIMILAR_TEXT
            and matcher.quick_ratio() >= SIMILAR_TEXT
            and matcher.ratio() >= SIMILAR_TEXT
        )


def _alike(kind: _Kind, others: Sequence[_Kind]) -> list[_Kind]:
    """The ``others`` similar to ``kind``: by embeddings when both have one, else by text."""
    by_vector: dict[int, bool] = {}
    if kind.unit is not None:
        rows = [
            i for i, o in enumerate(others) if o.unit is not None and len(o.unit) == len(kind.unit)
        ]
        if rows:
            import numpy as np

            # One matrix product for every recent trace: as Python loops, 500 traces of
            # 768-dimension embeddings cost 11 ms after every task.
            cosines = np.stack([others[i].unit for i in rows]) @ kind.unit
            by_vector = dict(zip(rows, (cosines >= SIMILAR_EMBEDDING).tolist(), strict=True))
    matcher: SequenceMatcher[str] = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(kind.goal)
    return [
        other
        for i, other in enumerate(others)
        if by_vector.get(i, False) or (i not in by_vector and kind.alike_by_text(other, matcher))
    ]


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
