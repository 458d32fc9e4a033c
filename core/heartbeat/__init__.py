"""Heartbeat: scheduled health checks, decided by the local model with a rule fallback."""

from core.heartbeat.checkfile import load_checks, parse_checks
from core.heartbeat.checks import Checks, default_checks
from core.heartbeat.decide import DECISION_SCHEMA, ModelDecider, parse_decision
from core.heartbeat.export import export_ticks
from core.heartbeat.probes import Prober
from core.heartbeat.report import ReportPolicy, render_report
from core.heartbeat.rules import rule_decision
from core.heartbeat.service import Heartbeat, TickResult, label_for
from core.heartbeat.shell import run_shell
from core.heartbeat.values import HeartbeatDecision, OwnHealth, Perception, ProbeResult

__all__ = [
    "DECISION_SCHEMA",
    "Checks",
    "Heartbeat",
    "HeartbeatDecision",
    "ModelDecider",
    "OwnHealth",
    "Perception",
    "ProbeResult",
    "Prober",
    "ReportPolicy",
    "TickResult",
    "default_checks",
    "export_ticks",
    "label_for",
    "load_checks",
    "parse_checks",
    "parse_decision",
    "render_report",
    "rule_decision",
    "run_shell",
]
