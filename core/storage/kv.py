"""KVStore: small string settings in the ``kv`` table (channel flags, overrides)."""

from __future__ import annotations

from core.storage.db import Database


class KVStore:
    """Get/set/delete string values by key; ``updated_at`` is wall-clock seconds."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        """The value under ``key``, or None."""
        row = await self._db.fetchone("SELECT value FROM kv WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def set(self, key: str, value: str, *, now: float) -> None:
        """Store ``value`` under ``key`` (insert or replace)."""
        await self._db.execute(
            "INSERT INTO kv(key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (key, value, now),
        )

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True when it existed."""
        return await self._db.execute("DELETE FROM kv WHERE key = ?", (key,)) > 0

    async def with_prefix(self, prefix: str) -> dict[str, str]:
        """Every key starting with ``prefix``."""
        rows = await self._db.fetchall(
            "SELECT key, value FROM kv WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)
        )
        return {str(r["key"]): str(r["value"]) for r in rows}
