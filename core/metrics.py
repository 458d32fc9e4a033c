"""In-process counters that the core increments and bot/health.py exports for Prometheus.

Names in use (keep them stable, dashboards depend on them):
  hearth_tasks_total{status}                      dispatcher: queued|running|done|failed|...
  hearth_llm_calls_total{provider}                agent: one per model call
  hearth_llm_tokens_total{provider,kind}          kind = prompt|completion
  hearth_escalations_total{trigger}               agent: low_confidence|failures|timeout|...
  hearth_approvals_total{outcome}                 broker: approved|denied|expired|refused
  hearth_heartbeat_ticks_total{severity,source}   heartbeat: ok|warning|critical x model|fallback
  hearth_chat_posts_total{platform}               renderer
  hearth_chat_edits_total{platform}               renderer
  hearth_chat_rate_limited_total{platform}        renderer: RateLimited from the adapter
  hearth_skill_runs_total{skill,outcome}          skills: ok|failed, answered with no model call
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

LabelKey = tuple[tuple[str, str], ...]


class Metrics:
    """Thread-safe monotonic counters keyed by name and sorted labels."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, dict[LabelKey, float]] = {}

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to the counter ``name`` with ``labels``."""
        key = tuple(sorted((k, str(v)) for k, v in labels.items()))
        with self._lock:
            series = self._values.setdefault(name, {})
            series[key] = series.get(key, 0.0) + amount

    def get(self, name: str, **labels: str) -> float:
        """Current value of one series (0 when never incremented)."""
        key = tuple(sorted((k, str(v)) for k, v in labels.items()))
        with self._lock:
            return self._values.get(name, {}).get(key, 0.0)

    def total(self, name: str) -> float:
        """Sum over every label combination of ``name``."""
        with self._lock:
            return sum(self._values.get(name, {}).values())

    def snapshot(self) -> Mapping[str, Mapping[LabelKey, float]]:
        """A copy of every series, for exporters."""
        with self._lock:
            return {name: dict(series) for name, series in self._values.items()}
