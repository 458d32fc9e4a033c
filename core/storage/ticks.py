"""TickStore: one row per heartbeat tick — perception, decision, source, cost, report, label."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiosqlite

from core.storage.db import Database

LABELS = ("chosen", "rejected")


@dataclass(frozen=True, slots=True, kw_only=True)
class TickRow:
    """A stored tick."""

    id: int
    at: float
    perception: str  # JSON
    prompt: str  # JSON list of chat messages, "" when the model was not asked
    decision: dict[str, Any]
    severity: str
    source: str
    latency_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reported: bool = False
    report_platform: str | None = None
    report_channel: str | None = None
    report_message: str | None = None
    label: str | None = None

    @classmethod
    def _from_row(cls, row: aiosqlite.Row) -> TickRow:
        return cls(
            id=row["id"],
            at=row["at"],
            perception=row["perception"],
            prompt=row["prompt"],
            decision=json.loads(row["decision"] or "{}"),
            severity=row["severity"],
            source=row["source"],
            latency_s=row["latency_s"],
            prompt_tokens=row["prompt_tokens"],
            completion_tokens=row["completion_tokens"],
            reported=bool(row["reported"]),
            report_platform=row["report_platform"],
            report_channel=row["report_channel"],
            report_message=row["report_message"],
            label=row["label"],
        )


class TickStore:
    """Heartbeat ticks in SQLite (table ``heartbeat_ticks``, migration m004)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        *,
        at: float,
        perception: str,
        prompt: str,
        decision: Mapping[str, Any],
        severity: str,
        source: str,
        latency_s: float,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
    ) -> int:
        """Insert a tick; returns its id."""
        return await self._db.insert(
            "INSERT INTO heartbeat_ticks (at, perception, prompt, decision, severity, source,"
            " latency_s, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                at,
                perception,
                prompt,
                json.dumps(dict(decision), ensure_ascii=False),
                severity,
                source,
                latency_s,
                prompt_tokens,
                completion_tokens,
            ),
        )

    async def set_report(
        self, tick_id: int, *, platform: str, channel: str, message_id: str
    ) -> None:
        """Remember the message a tick was reported in (reactions on it label the tick)."""
        await self._db.execute(
            "UPDATE heartbeat_ticks SET reported = 1, report_platform = ?, report_channel = ?,"
            " report_message = ? WHERE id = ?",
            (platform, channel, message_id, tick_id),
        )

    async def find_by_report(self, platform: str, channel: str, message_id: str) -> int | None:
        """The tick reported in this message, if any."""
        row = await self._db.fetchone(
            "SELECT id FROM heartbeat_ticks WHERE report_platform = ? AND report_message = ?"
            " AND report_channel = ? ORDER BY id DESC LIMIT 1",
            (platform, message_id, channel),
        )
        return int(row["id"]) if row else None

    async def set_label(self, tick_id: int, label: str | None) -> bool:
        """Label a tick chosen / rejected (None clears it); False when there is no such tick."""
        if label is not None and label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, got {label!r}")
        changed = await self._db.execute(
            "UPDATE heartbeat_ticks SET label = ? WHERE id = ?", (label, tick_id)
        )
        return changed > 0

    async def get(self, tick_id: int) -> TickRow | None:
        """One tick by id."""
        row = await self._db.fetchone("SELECT * FROM heartbeat_ticks WHERE id = ?", (tick_id,))
        return TickRow._from_row(row) if row else None

    async def last(self, *, reported: bool = False) -> TickRow | None:
        """The newest tick (or the newest reported one)."""
        where = "WHERE reported = 1" if reported else ""
        row = await self._db.fetchone(
            f"SELECT * FROM heartbeat_ticks {where} ORDER BY at DESC, id DESC LIMIT 1"
        )
        return TickRow._from_row(row) if row else None

    async def last_alerts(self, since: float) -> dict[str, float]:
        """severity -> time of the newest warning/critical report since ``since``."""
        rows = await self._db.fetchall(
            "SELECT severity, MAX(at) AS at FROM heartbeat_ticks WHERE reported = 1"
            " AND severity != 'ok' AND at >= ? GROUP BY severity",
            (since,),
        )
        return {row["severity"]: float(row["at"]) for row in rows}

    async def history(
        self, *, since: float | None = None, labeled_only: bool = False, limit: int | None = None
    ) -> list[TickRow]:
        """Ticks in time order, optionally only labeled ones or those at/after ``since``."""
        clauses, params = [], []
        if since is not None:
            clauses.append("at >= ?")
            params.append(since)
        if labeled_only:
            clauses.append("label IS NOT NULL")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        tail = f"LIMIT {int(limit)}" if limit is not None else ""
        rows = await self._db.fetchall(
            f"SELECT * FROM heartbeat_ticks {where} ORDER BY at, id {tail}", params
        )
        return [TickRow._from_row(row) for row in rows]
