"""OutboxStore: notices not delivered yet, so a restart before delivery does not lose them."""

from __future__ import annotations

from dataclasses import dataclass

from core.storage.db import Database


@dataclass(frozen=True, slots=True)
class StoredNotice:
    """One waiting notice as stored."""

    id: int
    platform: str
    name: str
    kind: str
    payload: str  # JSON
    queued_at: float


class OutboxStore:
    """Waiting notices in SQLite, in the order they were queued."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, *, platform: str, name: str, kind: str, payload: str, at: float) -> int:
        """Keep a notice; returns its id."""
        return await self._db.insert(
            "INSERT INTO outbox (platform, name, kind, payload, queued_at) VALUES (?, ?, ?, ?, ?)",
            (platform, name, kind, payload, at),
        )

    async def remove(self, notice_id: int) -> None:
        """Forget a notice (delivered, or given up)."""
        await self._db.execute("DELETE FROM outbox WHERE id = ?", (notice_id,))

    async def waiting(self) -> list[StoredNotice]:
        """Every waiting notice, oldest first."""
        rows = await self._db.fetchall("SELECT * FROM outbox ORDER BY id")
        return [
            StoredNotice(
                id=int(r["id"]),
                platform=r["platform"],
                name=r["name"],
                kind=r["kind"],
                payload=r["payload"],
                queued_at=float(r["queued_at"]),
            )
            for r in rows
        ]
