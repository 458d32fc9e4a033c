"""UsageStore: one row per model call and one per escalation, with the aggregates reports need."""

from __future__ import annotations

from dataclasses import dataclass

from core.storage.db import Database


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageRow:
    """One model call as stored."""

    at: float
    task_id: str | None
    user: str | None  # platform:user id, None for unattended work (heartbeat)
    provider: str
    model: str
    purpose: str
    prompt_tokens: int
    completion_tokens: int
    duration_s: float
    cost_usd: float
    saved_usd: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationRow:
    """One escalation as stored."""

    at: float
    task_id: str | None
    user: str | None
    trigger: str
    detail: str
    model: str
    outcome: str  # done | failed | blocked | disabled
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """Summed usage of one group (a provider, a user, or everything)."""

    key: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    saved_usd: float


class UsageStore:
    """Writes usage/escalation rows and sums them over time windows."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, row: UsageRow) -> int:
        """Insert one call; returns its id."""
        return await self._db.insert(
            "INSERT INTO usage(at, task_id, user, provider, model, purpose, prompt_tokens, "
            "completion_tokens, duration_s, cost_usd, saved_usd) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.at,
                row.task_id,
                row.user,
                row.provider,
                row.model,
                row.purpose,
                row.prompt_tokens,
                row.completion_tokens,
                row.duration_s,
                row.cost_usd,
                row.saved_usd,
            ),
        )

    async def add_escalation(self, row: EscalationRow) -> int:
        """Insert one escalation; returns its id."""
        return await self._db.insert(
            "INSERT INTO escalations(at, task_id, user, trigger, detail, model, outcome, "
            "prompt_tokens, completion_tokens, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.at,
                row.task_id,
                row.user,
                row.trigger,
                row.detail,
                row.model,
                row.outcome,
                row.prompt_tokens,
                row.completion_tokens,
                row.cost_usd,
            ),
        )

    async def spent_usd(self, since: float, *, user: str | None = None) -> float:
        """Cloud spend since ``since`` (epoch seconds), for everyone or one user."""
        if user is None:
            row = await self._db.fetchone(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM usage WHERE at >= ?", (since,)
            )
        else:
            row = await self._db.fetchone(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM usage WHERE at >= ? AND user = ?",
                (since, user),
            )
        return float(row[0]) if row else 0.0

    async def totals(self, since: float | None, *, by: str) -> list[UsageTotal]:
        """Sums since ``since`` (None = all time) grouped ``by`` "provider", "user" or "all"."""
        column = {
            "provider": "provider",
            "user": "COALESCE(user, '(unattended)')",
            "all": "'all'",
        }[by]
        where, params = ("WHERE at >= ?", (since,)) if since is not None else ("", ())
        rows = await self._db.fetchall(
            f"SELECT {column} AS k, COUNT(*), COALESCE(SUM(prompt_tokens), 0), "
            "COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(cost_usd), 0), "
            f"COALESCE(SUM(saved_usd), 0) FROM usage {where} GROUP BY k ORDER BY k",
            params,
        )
        return [
            UsageTotal(str(r[0]), int(r[1]), int(r[2]), int(r[3]), float(r[4]), float(r[5]))
            for r in rows
            if int(r[1]) > 0
        ]

    async def rows(self, *, task_id: str | None = None) -> list[UsageRow]:
        """Stored calls, oldest first (optionally of one task)."""
        sql = (
            "SELECT at, task_id, user, provider, model, purpose, prompt_tokens, "
            "completion_tokens, duration_s, cost_usd, saved_usd FROM usage"
        )
        params: tuple[str, ...] = ()
        if task_id is not None:
            sql += " WHERE task_id = ?"
            params = (task_id,)
        rows = await self._db.fetchall(sql + " ORDER BY id", params)
        return [UsageRow(**dict(r)) for r in rows]

    async def escalations(self, *, task_id: str | None = None) -> list[EscalationRow]:
        """Stored escalations, oldest first (optionally of one task)."""
        sql = (
            "SELECT at, task_id, user, trigger, detail, model, outcome, prompt_tokens, "
            "completion_tokens, cost_usd FROM escalations"
        )
        params: tuple[str, ...] = ()
        if task_id is not None:
            sql += " WHERE task_id = ?"
            params = (task_id,)
        rows = await self._db.fetchall(sql + " ORDER BY id", params)
        return [EscalationRow(**dict(r)) for r in rows]
