"""UsageStore: one row per model call and one per escalation, with the aggregates reports need."""

from __future__ import annotations

import asyncio
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
    error: str = ""  # why the call failed; empty for a call that answered


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
    errors: int = 0  # failed calls, not counted in ``calls``


class UsageStore:
    """Writes usage/escalation rows and sums them over time windows."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # Running spend since one start time (the budget's UTC day), by user ("" = everyone):
        # seeded by one query, then kept up to date by add(), so a budget check is O(1) however
        # many rows the day has. This process is the only writer (one hearth per data dir).
        self._since: float | None = None
        self._spent: dict[str, float] = {}
        self._lock = asyncio.Lock()  # a row added while seeding is counted exactly once

    async def add(self, row: UsageRow) -> int:
        """Insert one call; returns its id."""
        async with self._lock:
            row_id = await self._insert(row)
            if self._since is not None and row.at >= self._since and row.cost_usd:
                self._spent[""] = self._spent.get("", 0.0) + row.cost_usd
                if row.user is not None:
                    self._spent[row.user] = self._spent.get(row.user, 0.0) + row.cost_usd
        return row_id

    async def _insert(self, row: UsageRow) -> int:
        return await self._db.insert(
            "INSERT INTO usage(at, task_id, user, provider, model, purpose, prompt_tokens, "
            "completion_tokens, duration_s, cost_usd, saved_usd, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                row.error,
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
        """Cloud spend since ``since`` (epoch seconds), for everyone or one user.

        The first call for a new ``since`` (a new day) sums the rows once; later calls for the
        same ``since`` read the running totals without a query.
        """
        if since != self._since:
            await self.seed(since)
        return self._spent.get("" if user is None else user, 0.0)

    async def seed(self, since: float) -> None:
        """Sum the spend since ``since`` per user, once (at startup and when the day turns)."""
        async with self._lock:
            rows = await self._db.fetchall(
                "SELECT user, COALESCE(SUM(cost_usd), 0) FROM usage WHERE at >= ? GROUP BY user",
                (since,),
            )
            spent = {str(user): float(total) for user, total in rows if user is not None}
            spent[""] = sum(float(total) for _, total in rows)
            self._since, self._spent = since, spent

    async def spent_in_channel(self, since: float, *, platform: str, channel_id: str) -> float:
        """Cloud spend since ``since`` by tasks started in one channel (any of its threads)."""
        row = await self._db.fetchone(
            "SELECT COALESCE(SUM(u.cost_usd), 0) FROM usage u JOIN tasks t ON t.id = u.task_id "
            "WHERE u.at >= ? AND t.platform = ? AND t.channel_id = ?",
            (since, platform, channel_id),
        )
        return float(row[0]) if row else 0.0

    async def totals(self, since: float | None, *, by: str) -> list[UsageTotal]:
        """Sums since ``since`` (None = all time) grouped ``by`` "provider", "user" or "all"."""
        column = {
            "provider": "provider",
            "user": "COALESCE(user, '(unattended)')",
            "all": "'all'",
            "origin": "CASE WHEN purpose LIKE 'scheduled:%' THEN 'scheduled jobs' ELSE 'chat' END",
        }[by]
        where, params = ("WHERE at >= ?", (since,)) if since is not None else ("", ())
        rows = await self._db.fetchall(
            f"SELECT {column} AS k, COALESCE(SUM(error = ''), 0), "
            "COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), "
            "COALESCE(SUM(cost_usd), 0), "
            "COALESCE(SUM(saved_usd), 0), COALESCE(SUM(error != ''), 0) "
            f"FROM usage {where} GROUP BY k ORDER BY k",
            params,
        )
        return [
            UsageTotal(
                str(r[0]), int(r[1]), int(r[2]), int(r[3]), float(r[4]), float(r[5]), int(r[6])
            )
            for r in rows
            if int(r[1]) > 0 or int(r[6]) > 0
        ]

    async def rows(self, *, task_id: str | None = None) -> list[UsageRow]:
        """Stored calls, oldest first (optionally of one task)."""
        sql = (
            "SELECT at, task_id, user, provider, model, purpose, prompt_tokens, "
            "completion_tokens, duration_s, cost_usd, saved_usd, error FROM usage"
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
