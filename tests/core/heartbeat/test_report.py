"""The report policy with fake time, the report text, and digest timing."""

from __future__ import annotations

from datetime import UTC, datetime

from core.heartbeat.report import (
    DigestStats,
    ReportPolicy,
    ReportState,
    render_digest,
    render_report,
)
from core.heartbeat.values import HeartbeatDecision, Perception
from core.scheduler import next_cron_time
from tests.core.heartbeat.conftest import result
from tests.fakes.clock import FakeClock

HOUR = 3600.0


def run(
    policy: ReportPolicy, clock: FakeClock, steps: list[tuple[float, str]]
) -> list[str | None]:
    """Advance the clock and feed severities; returns each step's reason (posting when due)."""
    reasons = []
    for wait, severity in steps:
        clock.advance(wait)
        reason = policy.reason(severity, clock.now())
        if reason is not None:
            policy.posted(severity, clock.now())
        reasons.append(reason)
    return reasons


def test_ok_to_ok_never_posts() -> None:
    clock = FakeClock()
    assert run(ReportPolicy(cooldown=HOUR), clock, [(600, "ok")] * 20) == [None] * 20


def test_a_change_posts_and_a_persisting_problem_repeats_only_after_the_cooldown() -> None:
    clock = FakeClock()
    steps = [(600, "warning")] + [(600, "warning")] * 6 + [(600, "critical"), (600, "critical")]
    reasons = run(ReportPolicy(cooldown=HOUR), clock, steps)
    assert reasons == ["changed", None, None, None, None, None, "still", "changed", None]


def test_recovery_is_posted_once() -> None:
    clock = FakeClock()
    reasons = run(
        ReportPolicy(cooldown=HOUR), clock, [(600, "critical"), (600, "ok"), (600, "ok")]
    )
    assert reasons == ["changed", "recovered", None]


def test_critical_to_warning_is_a_change() -> None:
    clock = FakeClock()
    reasons = run(ReportPolicy(cooldown=HOUR), clock, [(60, "critical"), (60, "warning")])
    assert reasons == ["changed", "changed"]


def test_flapping_respects_the_cooldown() -> None:
    clock = FakeClock()
    flapping = [(300, "warning"), (300, "ok")] * 6  # one hour of flapping every 5 minutes
    reasons = run(ReportPolicy(cooldown=HOUR), clock, [*flapping, (300, "warning")])
    posted = [r for r in reasons if r]
    # One alert and one recovery per cooldown window, not twelve of each.
    assert posted == ["changed", "recovered", "changed"]
    assert reasons[-1] == "changed"  # a full cooldown after the first alert


def test_state_survives_a_restart() -> None:
    clock = FakeClock()
    state = ReportState("warning", clock.now(), {"warning": clock.now()})
    policy = ReportPolicy(cooldown=HOUR, state=state)
    assert run(policy, clock, [(600, "warning"), (HOUR, "warning")]) == [None, "still"]


def test_report_text_is_short_and_readable() -> None:
    perception = Perception(
        0.0,
        (
            result("disk:root", "critical", "/ 97% used (critical at 95%)"),
            result("http:api", "warning", "slow: 2300 ms"),
            result("tcp:db"),
        ),
    )
    decision = HeartbeatDecision(
        severity="critical",
        actions=("du -xsh /var/log",),
        reasoning="The root disk is nearly full.",
        source="model",
    )
    text = render_report(
        perception,
        decision,
        reason="changed",
        changed=["disk:root warning → critical"],
        actions_requested=True,
        model="qwen2.5:3b",
        label_hint=True,
    )
    lines = text.splitlines()
    assert lines[0] == "🔴 **Heartbeat: CRITICAL**"
    assert "Changed: disk:root warning → critical" in lines
    assert "Why (model qwen2.5:3b): The root disk is nearly full." in lines
    assert "🔴 disk:root: / 97% used (critical at 95%)" in lines
    assert "⚠️ http:api: slow: 2300 ms" in lines
    assert not any("tcp:db" in line for line in lines)
    assert "• `du -xsh /var/log`" in lines and "Suggested actions (approval requested):" in lines
    assert lines[-1].startswith("React 👍")
    assert len(text) < 800


def test_recovery_text() -> None:
    perception = Perception(0.0, (result("disk:root"),))
    decision = HeartbeatDecision(severity="ok", reasoning="All 1 checks passed.", source="rules")
    text = render_report(
        perception, decision, reason="recovered", changed=["disk:root critical → ok"]
    )
    assert text.startswith("✅ **Heartbeat: recovered**")
    assert "Failing" not in text


def test_digest_fires_at_the_crontab_time_with_crontab_weekdays() -> None:
    sunday_noon = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # a Sunday
    assert sunday_noon.weekday() == 6
    # Daily digest at 09:00: next morning.
    assert next_cron_time("0 9 * * *", sunday_noon) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    # Crontab weekday 1 is Monday (APScheduler 3 alone would read it as Tuesday).
    assert next_cron_time("0 9 * * 1", sunday_noon) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert next_cron_time("30 8 * * 1-5", sunday_noon) == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    # 0 and 7 are both Sunday.
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert next_cron_time("0 9 * * 0", saturday) == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert next_cron_time("0 9 * * 7", saturday) == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def test_digest_text() -> None:
    stats = DigestStats(
        ticks=144,
        by_severity={"ok": 140, "warning": 4, "critical": 0},
        by_source={"rules": 138, "model": 6},
        reports=2,
        labeled={"chosen": 1},
        failing_checks={"disk:root": 4},
    )
    now = Perception(0.0, (result("disk:root"),))
    text = render_digest(stats, now)
    assert "144 ticks (ok 140, warning 4)" in text
    assert "Most often failing: disk:root (4 ticks)" in text
    assert text.endswith("Now: all 1 checks ok.")
