"""The rule-based decision: thresholds from the checks file, no model involved.

Used when the model is not asked (``HEARTBEAT_DECIDE=never``, or ``on_change`` with nothing
changed) and as the fallback when the model fails or answers garbage.
"""

from __future__ import annotations

from core.heartbeat.values import HeartbeatDecision, Perception

MAX_ACTIONS = 3


def rule_decision(
    perception: Perception, *, source: str = "rules", error: str = ""
) -> HeartbeatDecision:
    """Severity = the worst check; actions = the failing checks' configured remedies."""
    failing = perception.failing
    if not failing:
        reasoning = f"All {len(perception.results)} checks passed."
    else:
        names = ", ".join(f"{r.check} ({r.status})" for r in failing)
        reasoning = f"{len(failing)} of {len(perception.results)} checks failing: {names}."
    actions = tuple(dict.fromkeys(r.action for r in failing if r.action))[:MAX_ACTIONS]
    return HeartbeatDecision(
        severity=perception.severity,
        actions=actions,
        reasoning=reasoning,
        source=source,
        error=error,
    )
