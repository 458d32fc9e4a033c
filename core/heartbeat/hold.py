"""The model's decision on a non-healthy state, reused while that state holds.

An unchanged warning costs one model call per change of state, plus one every
``HEARTBEAT_REDECIDE_EVERY`` ticks, instead of one every tick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from core.heartbeat.values import HeartbeatDecision, Perception


class DecisionHold:
    """Keeps the last model decision and the statuses it was made for."""

    def __init__(self, redecide_every: int = 12) -> None:
        self._every = max(1, redecide_every)
        self._decision: HeartbeatDecision | None = None
        self._statuses: dict[str, str] | None = None
        self._ticks = 0

    def reuse(self, perception: Perception) -> HeartbeatDecision | None:
        """The held decision (as ``reused``) when nothing changed and it is not due again."""
        if self._decision is None or perception.severity == "ok":
            return None
        if perception.statuses() != self._statuses or self._ticks + 1 >= self._every:
            return None
        self._ticks += 1
        return replace(self._decision, source="reused")

    def keep(self, decision: HeartbeatDecision | None, statuses: Mapping[str, str]) -> None:
        """Hold a fresh model decision; anything else (rules, a fallback) clears the hold."""
        kept = decision is not None and decision.source == "model"
        self._decision = decision if kept else None
        self._statuses = dict(statuses) if kept else None
        self._ticks = 0
