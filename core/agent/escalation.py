"""Escalation policy: when a subtask goes to Claude, and whether Claude may be called at all."""

from __future__ import annotations

from dataclasses import dataclass

from core.agent.config import AgentConfig
from core.agent.executor import Executor, SubtaskResult
from core.agent.summary import StepOutcome

# Trigger names double as the `trigger` label of hearth_escalations_total.
LOW_CONFIDENCE = "low_confidence"
FAILURES = "failures"
TIMEOUT = "timeout"
CIRCUIT_BREAKER = "circuit_breaker"
VERIFIER_FAIL = "verifier_fail"
LOCAL_ERROR = "local_error"


@dataclass(frozen=True, slots=True)
class Trigger:
    """Why a subtask escalates: a stable name and a sentence for the thread."""

    name: str
    detail: str


@dataclass(frozen=True, slots=True)
class Attempt:
    """One executor run: its result, or the trigger that ended it early."""

    result: SubtaskResult | None
    trigger: Trigger | None
    executor: Executor

    def finished(self, subtask: str, by: str) -> StepOutcome:
        """The step's outcome when this attempt finished it (``by``: who, for the card)."""
        assert self.result is not None
        return StepOutcome(
            subtask=subtask,
            ok=True,
            answer=self.result.answer,
            by=by,
            confidence=self.result.confidence,
            denied=self.result.denied,
        )


def trigger_for(result: SubtaskResult, config: AgentConfig) -> Trigger | None:
    """The first escalation trigger that ``result`` meets, or None when it is good enough."""
    if result.breaker_tripped:
        return Trigger(
            CIRCUIT_BREAKER,
            f"circuit breaker: {result.tool_failures} tool calls failed",
        )
    if result.failure_streak >= config.failure_limit:
        return Trigger(
            FAILURES,
            f"{result.failure_streak} tool failures in a row (limit {config.failure_limit})",
        )
    if result.confidence < config.escalation_threshold:
        why = []
        if result.signals:
            why.append("failure signal " + ", ".join(f"`{s}`" for s in result.signals[:3]))
        if result.refused:
            why.append("the answer is a refusal or empty")
        if result.hit_round_limit:
            why.append("round limit reached")
        extra = f" ({'; '.join(why)})" if why else ""
        return Trigger(
            LOW_CONFIDENCE,
            f"confidence {result.confidence:.2f} < {config.escalation_threshold:.2f}{extra}",
        )
    return None


def timeout_trigger(seconds: float) -> Trigger:
    """The trigger for a subtask that ran past SUBTASK_TIMEOUT."""
    return Trigger(TIMEOUT, f"the step took longer than SUBTASK_TIMEOUT={seconds:g}s")


def verifier_trigger(reason: str) -> Trigger:
    """The trigger for a step the verifier rejected twice."""
    return Trigger(VERIFIER_FAIL, f"the verifier rejected the result twice: {reason}")


def local_error_trigger(error: str) -> Trigger:
    """The trigger for a model call that failed outright (unreachable, error mid-stream)."""
    return Trigger(LOCAL_ERROR, f"the model call failed: {error}")


def cloud_blocked_reason(config: AgentConfig, *, has_cloud: bool, local_only: bool) -> str | None:
    """Why escalation cannot happen (None when it may): disabled, no key, or local-only."""
    if not config.escalation_enabled:
        return "escalation is disabled (ESCALATION_ENABLED=false)"
    if not has_cloud:
        return "no cloud model is configured (ANTHROPIC_API_KEY is not set)"
    if local_only:
        return "this channel is local-only (`local-only off` allows Claude again)"
    return None
