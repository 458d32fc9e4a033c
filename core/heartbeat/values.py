"""Values the heartbeat passes around: severities, probe results, a perception, a decision."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.clock import utc
from core.events import MessageRef

SEVERITIES = ("ok", "warning", "critical")
# rules: the model was not asked (on_change, never); reused: the model's decision on the same
# non-healthy state, kept instead of asking again (HEARTBEAT_REDECIDE_EVERY).
SOURCES = ("model", "fallback", "rules", "reused")


def rank(severity: str) -> int:
    """0 for ok, 1 for warning, 2 for critical."""
    return SEVERITIES.index(severity)


def worst(severities: Iterable[str]) -> str:
    """The most severe of ``severities`` ("ok" when empty)."""
    return max(severities, key=rank, default="ok")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What one check measured, and how it compares with its thresholds."""

    check: str  # "kind:name", unique within a perception, e.g. "disk:root"
    kind: str  # ollama | system | disk | http | tcp | process | shell | hearth
    status: str  # ok | warning | critical
    summary: str  # one short line for humans, e.g. "92% used (warning at 85%)"
    values: Mapping[str, Any] = field(default_factory=dict)  # JSON-able measurements
    action: str = ""  # a suggested remedy from the checks file, offered when failing
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the check passed."""
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        """A compact JSON-able form (for the prompt and the stored perception)."""
        out: dict[str, Any] = {"check": self.check, "status": self.status, "summary": self.summary}
        if self.values:
            out["values"] = dict(self.values)
        if self.action and not self.ok:
            out["action"] = self.action
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProbeResult:
        """Rebuild a result stored by ``to_json``."""
        check = str(data.get("check", "?:?"))
        return cls(
            check=check,
            kind=check.partition(":")[0],
            status=str(data.get("status", "ok")),
            summary=str(data.get("summary", "")),
            values=dict(data.get("values") or {}),
            action=str(data.get("action", "")),
        )


@dataclass(frozen=True, slots=True)
class Perception:
    """Every probe result of one tick."""

    at: float  # epoch seconds
    results: tuple[ProbeResult, ...]

    @property
    def severity(self) -> str:
        """The worst probe status: what the threshold rules say."""
        return worst(r.status for r in self.results)

    @property
    def failing(self) -> tuple[ProbeResult, ...]:
        """Results that are not ok, worst first."""
        bad = [r for r in self.results if not r.ok]
        return tuple(sorted(bad, key=lambda r: -rank(r.status)))

    def statuses(self) -> dict[str, str]:
        """check -> status; two perceptions with equal statuses count as unchanged."""
        return {r.check: r.status for r in self.results}

    def to_json(self) -> dict[str, Any]:
        """JSON-able form: time and every result."""
        return {
            "at": utc(self.at).isoformat(timespec="seconds"),
            "checks": [r.to_json() for r in self.results],
        }

    def dumps(self) -> str:
        """Compact JSON, as the model sees it."""
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def loads(cls, text: str, at: float) -> Perception:
        """Rebuild a stored perception (only what ``to_json`` kept)."""
        data = json.loads(text or "{}")
        checks = (data.get("checks") or []) if isinstance(data, dict) else []
        return cls(at, tuple(ProbeResult.from_json(c) for c in checks if isinstance(c, dict)))


def changes(before: Mapping[str, str] | None, after: Mapping[str, str]) -> list[str]:
    """Human lines for checks whose status changed, e.g. ``"disk:root ok → warning"``."""
    if before is None:
        return []
    out = []
    for check in sorted(set(before) | set(after)):
        old, new = before.get(check), after.get(check)
        if old != new:
            out.append(f"{check} {old or 'new'} → {new or 'gone'}")
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatDecision:
    """What to make of a perception: severity, suggested actions, and why."""

    severity: str
    actions: tuple[str, ...] = ()
    reasoning: str = ""
    source: str = "rules"  # model | fallback | rules | reused
    error: str = ""  # why the model's answer was not used (source == "fallback")

    def to_json(self) -> dict[str, Any]:
        """The decision as the model would have written it."""
        return {
            "actions": list(self.actions),
            "severity": self.severity,
            "reasoning": self.reasoning,
        }


@dataclass(frozen=True, slots=True)
class OwnHealth:
    """hearth's own health, supplied by the app: connections, backlog, recent failures."""

    adapters: Mapping[str, bool]  # platform -> connected
    queue_depth: int = 0
    failures_last_hour: int = 0


def as_lines(items: Sequence[str], bullet: str = "• ") -> str:
    """Join ``items`` as bulleted lines."""
    return "\n".join(f"{bullet}{item}" for item in items)


@dataclass(frozen=True, slots=True, kw_only=True)
class TickResult:
    """One tick: what was seen and decided, the report text, and whether it was posted."""

    tick_id: int
    trigger: str
    perception: Perception
    decision: HeartbeatDecision
    report: str  # always rendered, posted or not
    # why something was posted ("changed", "recovered", "still", "flapping"), None = not due
    reason: str | None
    posted: MessageRef | None
    latency_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def severity(self) -> str:
        """The effective severity."""
        return self.decision.severity

    @property
    def source(self) -> str:
        """model | fallback | rules | reused."""
        return self.decision.source
