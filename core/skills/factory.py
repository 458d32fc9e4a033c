"""SkillFactory: a model writes a code skill from work hearth has done; checks come first.

The cloud model writes it when escalation is allowed, the channel is not local-only and the
budget allows the call; otherwise the local executor model does. Every call is metered under
the purpose ``skill``. A module that fails the checks is regenerated once with the problems,
then dropped with a note. What passes goes to review (core/skills/review.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.agent.metered import Meter, MeteredLLM
from core.budget import Budget
from core.errors import BudgetExceeded, LLMError
from core.llm.base import LLMClient, Message, TextDelta, TurnEnd
from core.skills import api
from core.skills.library import BUILTIN_DIR
from core.skills.model import CodeSkill
from core.skills.runner import SkillRunner
from core.skills.validate import DEFAULT_ALLOWED, Verdict, validate
from core.storage.traces import Trace
from core.usage import UsageRecorder

log = logging.getLogger(__name__)

Say = Callable[[str], Awaitable[None]]  # posts a note in the thread
PURPOSE = "skill"  # how generation shows in `usage`
EXAMPLE_SKILL = BUILTIN_DIR / "port_check.py"
_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)

FACTORY_SYSTEM = """You write code skills for hearth, a team's ops assistant. A code skill is \
one small Python module that answers one kind of request with no language model, run in a \
sandbox with the workspace as its working directory.

The contract (module core.skills.api):
{contract}
Rules:
- NAME, DESCRIPTION, PARAMS and EXAMPLES are plain literals. PARAMS is a JSON schema object; \
give every property a "type", a "pattern" or "enum" when it comes from a request, and an \
"examples": [one realistic value] entry.
- EXAMPLES: 2 to 5 requests the skill answers, with {{param}} where a value sits (one word).
- Import only: {allowed}.
- Nothing runs at import time: only imports, constants and definitions at module level.
- run(params) returns ok(text) or fail(text); keep the text short and concrete.
Answer with the module only, in one ```python fenced block.

A complete example skill:
```python
{example}
```"""


@dataclass(frozen=True, slots=True)
class Draft:
    """A generated module that passed the checks, ready for review."""

    skill: CodeSkill
    verdict: Verdict
    model: str


class SkillFactory:
    """Writes and checks code skills from traces of successful work or a description."""

    def __init__(
        self,
        *,
        local: LLMClient,
        cloud: Callable[[], LLMClient] | None,
        escalation_enabled: bool,
        recorder: UsageRecorder,
        budget: Budget | None,
        runner: SkillRunner,
        allowed_imports: Sequence[str] = DEFAULT_ALLOWED,
        allow_subprocess: bool = False,
        example: Path = EXAMPLE_SKILL,
    ) -> None:
        self._local = local
        self._cloud = cloud
        self._escalation = escalation_enabled
        self._recorder = recorder
        self._budget = budget
        self._runner = runner
        self._allowed = tuple(allowed_imports)
        self._subprocess = allow_subprocess
        self._example = example

    def _system(self) -> str:
        allowed = ", ".join([*self._allowed, *(["subprocess"] if self._subprocess else [])])
        return FACTORY_SYSTEM.format(
            contract=api.__doc__ or "",
            allowed=allowed,
            example=self._example.read_text(encoding="utf-8").strip(),
        )

    async def draft(
        self,
        *,
        description: str,
        traces: Sequence[Trace],
        task_id: str,
        user: str,
        local_only: bool,
        say: Say,
        current: str = "",
    ) -> Draft | None:
        """Generate, check, regenerate once with the problems; None when it never passes."""
        meter = Meter(self._recorder, self._budget, task_id, user)
        prompt = _prompt(description, traces)
        if current:
            prompt += (
                f"\n\nThe current version of the skill (keep its NAME):\n```python\n{current}```"
            )
        problems: tuple[str, ...] = ()
        source = ""
        for attempt in (1, 2):
            text = prompt if attempt == 1 else _retry(prompt, source, problems)
            llm = self._model(meter, local_only)
            try:
                source, model = await self._generate(llm, text, meter)
            except LLMError as exc:
                await say(f"⚠️ The model could not write the skill: {exc}")
                return None
            if not source:
                problems = ("the answer held no ```python block with a module",)
                continue
            skill, verdict = await validate(
                source, self._runner, allowed=self._allowed, allow_subprocess=self._subprocess
            )
            if skill is not None and verdict.passed:
                return Draft(skill, verdict, model)
            problems = verdict.problems
            log.info("generated skill failed its checks (attempt %d): %s", attempt, problems)
        shown = "\n".join(f"• {p}" for p in problems[:6])
        await say(f"🗑 The generated skill failed its checks twice and was dropped:\n{shown}")
        return None

    def _model(self, meter: Meter, local_only: bool) -> MeteredLLM:
        if self._cloud is not None and self._escalation and not local_only:
            return MeteredLLM(self._cloud(), meter, purpose=PURPOSE)
        return MeteredLLM(self._local, meter, purpose=PURPOSE)

    async def _generate(self, llm: MeteredLLM, prompt: str, meter: Meter) -> tuple[str, str]:
        try:
            text = await _complete(llm, self._system(), prompt)
        except BudgetExceeded as exc:
            # Never over the cap: the local model writes it instead.
            log.info("skill generation: the cloud call is over budget (%s); using local", exc)
            llm = MeteredLLM(self._local, meter, purpose=PURPOSE)
            text = await _complete(llm, self._system(), prompt)
        return extract_module(text), llm.model


async def _complete(llm: LLMClient, system: str, prompt: str) -> str:
    parts: list[str] = []
    async for event in llm.stream([Message("user", prompt)], system=system):
        if isinstance(event, TextDelta):
            parts.append(event.text)
        elif isinstance(event, TurnEnd) and event.text:
            return event.text
    return "".join(parts)


def extract_module(text: str) -> str:
    """The first fenced Python block of a model's answer ('' when there is none)."""
    match = _FENCE.search(text)
    return match.group(1).strip() + "\n" if match else ""


def _prompt(description: str, traces: Sequence[Trace]) -> str:
    parts = [f"Write a code skill for this kind of request: {description}"]
    for i, trace in enumerate(traces[:5], start=1):
        calls = "\n".join(
            f"  - {c.get('name')}({c.get('arguments')}) → {str(c.get('output', ''))[:400]}"
            for c in trace.calls[:8]
        )
        parts.append(
            f"Example task {i}: {trace.goal}\nTool calls that solved it:\n{calls or '  (none)'}\n"
            f"Answer given: {trace.answer[:600]}"
        )
    return "\n\n".join(parts)


def _retry(prompt: str, source: str, problems: Sequence[str]) -> str:
    listed = "\n".join(f"- {p}" for p in problems)
    return (
        f"{prompt}\n\nYour previous module:\n```python\n{source}```\nIt failed these checks:\n"
        f"{listed}\nWrite the corrected module."
    )
