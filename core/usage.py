"""Usage accounting: every model call recorded with cost and the "saved" figure; reports."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from core.clock import SystemClock
from core.llm.base import Usage
from core.llm.prices import cost_usd, price_of
from core.metrics import Metrics
from core.ports import Clock
from core.storage.usage import EscalationRow, UsageRow, UsageStore, UsageTotal

log = logging.getLogger(__name__)

DAY = 86_400.0


def day_start(now: float) -> float:
    """Epoch seconds of the UTC midnight that starts the day containing ``now``."""
    d = datetime.fromtimestamp(now, UTC)
    return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()


class UsageRecorder:
    """Records model calls (cost from the price table, local tokens priced as "saved")."""

    def __init__(
        self,
        store: UsageStore,
        *,
        cloud_model: str,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._cloud_model = cloud_model
        self._clock = clock or SystemClock()
        self._metrics = metrics or Metrics()

    @property
    def store(self) -> UsageStore:
        """The underlying store (budgets read spend from it)."""
        return self._store

    async def record(
        self,
        *,
        provider: str,
        model: str,
        purpose: str,
        usage: Usage,
        task_id: str | None = None,
        user: str | None = None,
        error: str = "",
    ) -> UsageRow:
        """Store one call (or, with ``error``, one failed call) and count it in the metrics."""
        cost = cost_usd(provider, model, usage.prompt_tokens, usage.completion_tokens)
        saved = 0.0
        if price_of(provider, model).input_per_mtok == 0:
            # What the same tokens would have cost on the escalation model.
            saved = cost_usd(
                "anthropic", self._cloud_model, usage.prompt_tokens, usage.completion_tokens
            )
        row = UsageRow(
            at=self._clock.now(),
            task_id=task_id,
            user=user,
            provider=provider,
            model=model,
            purpose=purpose,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            duration_s=usage.duration_s,
            cost_usd=cost,
            saved_usd=saved,
            error=error[:500],
        )
        await self._store.add(row)
        if error:
            self._metrics.inc("hearth_llm_errors_total", provider=provider)
            return row
        self._metrics.inc("hearth_llm_calls_total", provider=provider)
        self._metrics.inc(
            "hearth_llm_tokens_total", usage.prompt_tokens, provider=provider, kind="prompt"
        )
        self._metrics.inc(
            "hearth_llm_tokens_total",
            usage.completion_tokens,
            provider=provider,
            kind="completion",
        )
        return row

    async def record_escalation(self, row: EscalationRow) -> None:
        """Store one escalation (the metric is counted by the agent when it triggers)."""
        await self._store.add_escalation(row)


@dataclass(frozen=True, slots=True)
class UsageWindow:
    """Totals of one time window."""

    label: str
    total: UsageTotal | None
    by_provider: list[UsageTotal]
    by_user: list[UsageTotal]


class UsageReporter:
    """Builds the today / 7 days / all-time usage report for `usage` and `hearth usage`."""

    def __init__(self, store: UsageStore, *, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    async def windows(self) -> list[UsageWindow]:
        """Today (UTC), the last 7 days, and all time."""
        now = self._clock.now()
        out = []
        for label, since in (
            ("today", day_start(now)),
            ("7 days", now - 7 * DAY),
            ("all time", None),
        ):
            total = await self._store.totals(since, by="all")
            out.append(
                UsageWindow(
                    label,
                    total[0] if total else None,
                    await self._store.totals(since, by="provider"),
                    await self._store.totals(since, by="user"),
                )
            )
        return out

    async def report(self, *, user: str | None = None) -> str:
        """A plain-text report; with ``user`` only that user's line is shown per window."""
        lines = ["**LLM usage**"]
        for w in await self.windows():
            if w.total is None:
                lines.append(f"{w.label}: no model calls")
                continue
            lines.append(f"{w.label}: {_fmt(w.total)}")
            lines.extend(f"  · {t.key}: {_fmt(t)}" for t in w.by_provider)
            users = [t for t in w.by_user if user is None or t.key == user]
            lines.extend(f"  · user {t.key}: {_fmt(t)}" for t in users)
            since = {"today": day_start(self._clock.now()), "7 days": self._clock.now() - 7 * DAY}
            for t in await self._store.totals(since.get(w.label), by="origin"):
                if t.key == "scheduled jobs":
                    lines.append(f"  · scheduled jobs: {_fmt(t)}")
        return "\n".join(lines)


def _fmt(t: UsageTotal) -> str:
    tokens = t.prompt_tokens + t.completion_tokens
    errors = "1 error" if t.errors == 1 else f"{t.errors} errors"
    return (
        f"{t.calls} calls, {errors}, {tokens:,} tokens ({t.prompt_tokens:,} in / "
        f"{t.completion_tokens:,} out), ${t.cost_usd:.4f} spent, ${t.saved_usd:.4f} saved"
    )
