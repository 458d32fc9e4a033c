"""A bigger local model (ESCALATION_LOCAL_MODEL) gets one try at a step before the cloud."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.agent.escalation import Attempt, Trigger
from core.agent.metered import Meter, MeteredLLM
from core.agent.summary import StepOutcome
from core.llm.base import LLMClient
from core.progress import ProgressCard, StepState


class EscalatingRun(Protocol):
    """What a retry on the bigger local model needs of the task's run (core.agent.TaskRun)."""

    meter: Meter
    card: ProgressCard

    async def retire(self, note: str) -> None:
        """Mark the answer shown so far as replaced."""
        ...

    async def say(self, text: str) -> None:
        """Post a short note in the task's thread."""
        ...

    async def attempt(self, llm: LLMClient, subtask: str, outcomes: list[StepOutcome]) -> Attempt:
        """One executor run of ``subtask`` on ``llm``."""
        ...

    async def record_escalation(
        self, trigger: Trigger, model: str, outcome: str, p: int, c: int, cost: float
    ) -> None:
        """Store how an escalation went."""
        ...


async def bigger_local(
    run: EscalatingRun,
    llm: LLMClient,
    i: int,
    subtask: str,
    trigger: Trigger,
    *,
    earlier: Sequence[StepOutcome] = (),
) -> StepOutcome | None:
    """Retry step ``i`` once on ``llm``; the outcome when it finished, None when it failed too."""
    big = MeteredLLM(llm, run.meter, purpose="escalate_local")
    label = f"↗ local ({big.model})"
    run.card.step(i, StepState.RUNNING, label)
    await run.retire(
        f"↪️ Replaced: retried on {big.model} ({trigger.detail}); the new answer follows below."
    )
    await run.say(f"↗ Retrying step {i + 1} on {big.model} (local): {trigger.detail}")
    att = await run.attempt(big, subtask, list(earlier))
    ex = att.executor
    ok = att.result is not None and att.trigger is None
    await run.record_escalation(
        trigger, big.model, "done" if ok else "failed", ex.prompt_tokens, ex.completion_tokens, 0
    )
    if not ok or att.result is None:
        why = att.trigger.detail if att.trigger else "no result"
        await run.say(f"✗ {big.model} could not finish step {i + 1} either ({why})")
        return None
    return att.finished(subtask, label)
