"""SkillShortcut: the TaskRunner in front of the agent that answers with a skill when it can.

``run <skill> …`` runs a skill explicitly (TESTING ones too); a request close enough to an
ACTIVE skill's example runs that skill; ``ask …`` always goes to the agent; anything else
goes to the agent. A skill answer costs no model call and says how to bypass it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from core.errors import PlatformError, TaskFailed
from core.metrics import Metrics
from core.skills.learning import Learner
from core.skills.library import SkillLibrary
from core.skills.matching import DEFAULT_THRESHOLD, Match, best_match, parse_args
from core.skills.model import CodeSkill, Status
from core.tasks import TaskContext, TaskRunner

log = logging.getLogger(__name__)

MATCHABLE = frozenset({Status.ACTIVE})
RUNNABLE = frozenset({Status.ACTIVE, Status.TESTING})


class SkillShortcut:
    """Implements core.tasks.TaskRunner: a skill when one fits, else the wrapped agent."""

    def __init__(
        self,
        library: SkillLibrary,
        agent: TaskRunner,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        metrics: Metrics | None = None,
        learner: Learner | None = None,
    ) -> None:
        self._library = library
        self._agent = agent
        self._learner = learner
        self._threshold = threshold
        self._metrics = metrics or Metrics()

    async def run(self, task: TaskContext) -> str:
        """Answer ``task`` with a skill, or hand it to the agent."""
        goal = task.goal.strip()
        word, _, rest = goal.partition(" ")
        word = word.lower()
        if word == "ask" and rest.strip():
            return await self._by_agent(dataclasses.replace(task, goal=rest.strip()))
        # The card is on its way before the skill states are read and the request matched:
        # the thread shows the task is taken at once, whatever ends up answering it.
        card = task.thread.card(task.goal)
        posting = card.start_soon()
        try:
            answered = await self._by_skill(task, word, rest.strip(), posting)
        except asyncio.CancelledError:
            card.close_soon(f"⏹ {(task.thread.stop_note or 'Stopped.').rstrip('.')}")
            raise
        except BaseException:
            card.close_soon("❌ Failed")  # the pool posts why as the last line
            raise
        if answered is not None:
            card.close_soon("✅ Done")
            return answered
        return await self._by_agent(task)

    async def _by_skill(
        self, task: TaskContext, word: str, rest: str, posting: asyncio.Future[object]
    ) -> str | None:
        """The answer of a skill (after the card is up), or None when the agent should work."""
        if word == "learn" and self._learner is not None:
            await asyncio.shield(posting)
            await self._learner.learn(task, rest)
            return "learn"
        if word == "run" and rest:
            name, _, args = rest.partition(" ")
            skill = self._library.get(name)
            if isinstance(skill, CodeSkill):
                return await self._explicit(task, skill, args, posting)
        match = await self._match(task.goal.strip())
        if match is None:
            return None
        return await self._answer(task, match, posting, explicit=False)

    async def _by_agent(self, task: TaskContext) -> str:
        learner = self._learner
        if learner is None:
            return await self._agent.run(task)
        try:
            result = await self._agent.run(task)
        except BaseException:
            learner.forget(task.task_id)
            raise
        try:
            await learner.after_success(task, result)
        except Exception:
            # Learning is a bonus: the task itself succeeded.
            log.exception("could not keep or learn from task %s", task.task_id)
        finally:
            learner.forget(task.task_id)
        return result

    async def _match(self, goal: str) -> Match | None:
        skills = await self._library.code_skills(MATCHABLE)
        return best_match(goal, skills, self._threshold)

    async def _explicit(
        self, task: TaskContext, skill: CodeSkill, args: str, posting: asyncio.Future[object]
    ) -> str:
        state = await self._library.state(skill.name)
        if state is None or state.status not in RUNNABLE:
            await asyncio.shield(posting)
            await self._say(task, f"`{skill.name}` is disabled (an admin can enable it).")
            raise TaskFailed(f"skill {skill.name} is disabled")
        try:
            params = parse_args(args)
        except ValueError as exc:
            await asyncio.shield(posting)
            await self._say(task, f"⚠️ `run {skill.name}`: {exc}. {_usage(skill)}")
            raise TaskFailed(str(exc)) from None
        return await self._answer(task, Match(skill, params), posting, explicit=True)

    async def _answer(
        self, task: TaskContext, match: Match, posting: asyncio.Future[object], *, explicit: bool
    ) -> str:
        skill = match.skill
        outcome = await self._library.run(skill, match.params, owner=task.task_id)
        await asyncio.shield(posting)  # the answer goes below the card
        self._metrics.inc(
            "hearth_skill_runs_total", skill=skill.name, outcome="ok" if outcome.ok else "failed"
        )
        took = f"{outcome.duration_s:.1f} s"
        if not outcome.ok and not explicit:
            footer = (
                f"— skill `{skill.name}` could not answer (no model call was made). "
                f"Say `ask {_short(task.goal)}` to have the agent try."
            )
        elif explicit:
            footer = f"— skill `{skill.name}`, no model call, {took}"
        else:
            footer = (
                f"— answered by skill `{skill.name}` (no model call, {took}). "
                f"Not what you meant? Say `ask {_short(task.goal)}` to use the agent."
            )
        if outcome.error == "params":
            await self._say(task, f"⚠️ {outcome.text}. {_usage(skill)}")
            raise TaskFailed(outcome.text)
        mark = "" if outcome.ok else "⚠️ "
        await self._say(task, f"{mark}{outcome.text}\n{footer}")
        if outcome.lifecycle:
            await self._say(task, outcome.lifecycle)
        if not outcome.ok:
            raise TaskFailed(f"skill {skill.name}: {outcome.text[:200]}")
        return f"answered by skill {skill.name}"

    async def _say(self, task: TaskContext, text: str) -> None:
        try:
            await task.thread.say(text)
        except PlatformError as exc:
            log.warning("could not post a skill answer in %s: %s", task.chat.key, exc)


def _usage(skill: CodeSkill) -> str:
    props = skill.params.get("properties", {})
    required = set(skill.params.get("required", []))
    if not props:
        return f"Usage: `run {skill.name}`."
    args = " ".join(f"{p}=…" if p in required else f"[{p}=…]" for p in props)
    return f"Usage: `run {skill.name} {args}` (or a JSON object)."


def _short(goal: str) -> str:
    text = " ".join(goal.split())
    return text if len(text) <= 60 else text[:59] + "…"
