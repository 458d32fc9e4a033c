"""SeenEventStore: platform event ids already handled, so retries and re-syncs run nothing."""

from __future__ import annotations

from core.storage.db import Database

RETENTION_S = 7 * 24 * 3600


class SeenEventStore:
    """Remembers delivery keys for a week."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def first_time(self, key: str, now: float) -> bool:
        """Record ``key``; True only the first time it is seen (atomic, so races are safe)."""
        changed = await self._db.execute(
            "INSERT OR IGNORE INTO events_seen (key, seen_at) VALUES (?, ?)", (key, now)
        )
        return changed == 1

    async def prune(self, now: float) -> int:
        """Forget keys older than the retention window."""
        return await self._db.execute(
            "DELETE FROM events_seen WHERE seen_at < ?", (now - RETENTION_S,)
        )
