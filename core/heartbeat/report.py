"""When a heartbeat is worth a message (the policy), and what the message says.

Policy, measured against what the channel last heard:
- a severity above it posts at once, unless that severity was already posted less than a
  cooldown ago (a flapping check does not re-alert every tick);
- the same warning/critical again posts only once the cooldown has passed since the last post;
- a severity below it posts (a recovery is posted once; ok → ok never posts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.heartbeat.values import HeartbeatDecision, Perception, ProbeResult, rank

ICONS = {"ok": "✅", "warning": "⚠️", "critical": "🔴"}
LABEL_HINT = "React 👍 if this report was right, 👎 if not."
MAX_FAILING_LINES = 8


@dataclass(frozen=True, slots=True)
class ReportState:
    """What the channel last heard, for a restart to continue where it left off."""

    severity: str = "ok"
    posted_at: float | None = None  # epoch seconds of the last post
    alerted_at: Mapping[str, float] | None = None  # severity -> last post at that severity


class ReportPolicy:
    """Decides whether a tick's severity is posted; in memory, seeded from the store."""

    def __init__(self, *, cooldown: float = 3600.0, state: ReportState | None = None) -> None:
        self._cooldown = cooldown
        state = state or ReportState()
        self.reported = state.severity  # what the channel last heard
        self._posted_at = state.posted_at
        self._alerted_at: dict[str, float] = dict(state.alerted_at or {})

    def reason(self, severity: str, now: float) -> str | None:
        """Why this severity should be posted now ("changed", "recovered", "still"), or None."""
        if severity == self.reported:
            if severity == "ok" or self._posted_at is None:
                return None if severity == "ok" else "still"
            return "still" if now - self._posted_at >= self._cooldown else None
        if rank(severity) < rank(self.reported):
            return "recovered" if severity == "ok" else "changed"
        last = max(
            (at for sev, at in self._alerted_at.items() if rank(sev) >= rank(severity)),
            default=None,
        )
        if last is not None and now - last < self._cooldown:
            return None  # flapping: this alert went out less than a cooldown ago
        return "changed"

    def posted(self, severity: str, now: float) -> None:
        """Record that a report with ``severity`` went out at ``now``."""
        self.reported = severity
        self._posted_at = now
        if severity != "ok":
            self._alerted_at[severity] = now


def _failing_lines(results: Sequence[ProbeResult]) -> list[str]:
    lines = [f"{ICONS.get(r.status, '•')} {r.check}: {r.summary}" for r in results]
    if len(lines) > MAX_FAILING_LINES:
        extra = len(lines) - MAX_FAILING_LINES
        lines = [*lines[:MAX_FAILING_LINES], f"… and {extra} more"]
    return lines


def render_report(
    perception: Perception,
    decision: HeartbeatDecision,
    *,
    reason: str | None = None,
    changed: Sequence[str] = (),
    actions_requested: bool = False,
    model: str = "",
    label_hint: bool = False,
) -> str:
    """A short, readable report: severity, what changed, why, what fails, suggested actions."""
    sev = decision.severity
    if reason == "recovered":
        head = f"{ICONS['ok']} **Heartbeat: recovered** — all checks ok"
    elif reason == "still":
        head = f"{ICONS[sev]} **Heartbeat: still {sev.upper()}**"
    else:
        head = f"{ICONS[sev]} **Heartbeat: {sev.upper()}**"
    lines = [head]
    if changed:
        lines.append("Changed: " + "; ".join(changed))
    source = {
        "model": f"model{f' {model}' if model else ''}",
        "fallback": "threshold rules (model unavailable)",
        "rules": "threshold rules",
    }.get(decision.source, decision.source)
    lines.append(f"Why ({source}): {decision.reasoning}")
    failing = perception.failing
    if failing:
        lines.append("Failing checks:")
        lines.extend(_failing_lines(failing))
    if decision.actions:
        how = "approval requested" if actions_requested else "not run"
        lines.append(f"Suggested actions ({how}):")
        lines.extend(f"• `{a}`" for a in decision.actions)
    if label_hint:
        lines.append(LABEL_HINT)  # only on the posted report: its reactions label the tick
    return "\n".join(lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestStats:
    """A day of ticks, summarised."""

    ticks: int
    by_severity: Mapping[str, int]
    by_source: Mapping[str, int]
    reports: int
    labeled: Mapping[str, int]  # chosen / rejected
    failing_checks: Mapping[str, int]  # check -> ticks it was failing in


def render_digest(stats: DigestStats, current: Perception | None, *, hours: float = 24) -> str:
    """The daily digest: how the last day went and how things stand now."""
    sev = ", ".join(f"{k} {v}" for k, v in stats.by_severity.items() if v) or "none"
    src = ", ".join(f"{k} {v}" for k, v in stats.by_source.items() if v) or "none"
    lines = [
        f"📋 **Heartbeat digest** — last {hours:g} h",
        f"{stats.ticks} ticks ({sev}); decided by {src}; {stats.reports} reports posted.",
    ]
    if stats.failing_checks:
        worst = sorted(stats.failing_checks.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        lines.append("Most often failing: " + ", ".join(f"{c} ({n} ticks)" for c, n in worst))
    if stats.labeled:
        lines.append("Labels: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.labeled.items())))
    if current is not None:
        failing = current.failing
        if failing:
            lines.append(f"Now {current.severity.upper()}:")
            lines.extend(_failing_lines(failing))
        else:
            lines.append(f"Now: all {len(current.results)} checks ok.")
    return "\n".join(lines)
