"""SeenEventStore: platform event ids already handled, so retries and re-syncs run nothing."""

from __future__ import annotations

from collections import OrderedDict

from core.storage.db import Database

RETENTION_S = 7 * 24 * 3600
RECORD = "INSERT OR IGNORE INTO events_seen (key, seen_at) VALUES (?, ?)"


class SeenEventStore:
    """Remembers delivery keys for a week."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def first_time(self, key: str, now: float) -> bool:
        """Record ``key``; True only the first time it is seen (atomic, so races are safe)."""
        return await self._db.execute(RECORD, (key, now)) == 1

    async def prune(self, now: float) -> int:
        """Forget keys older than the retention window."""
        return await self._db.execute(
            "DELETE FROM events_seen WHERE seen_at < ?", (now - RETENTION_S,)
        )


class RecentKeys:
    """Delivery keys this process saw lately, so a duplicate is dropped before any await."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """Record ``key``; True unless it is among the recent ones."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)
        return True
