"""PairingStore: DM pairing codes, each bound to the user who asked for it."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from core.events import ChatRef
from core.storage.db import Database


@dataclass(frozen=True, slots=True, kw_only=True)
class PairingCode:
    """One code as stored: whose it is, where they asked, and what became of it."""

    code: str
    user: str  # platform:user id
    display_name: str
    chat: ChatRef  # the DM where the user asked (and is told the outcome)
    status: str  # pending|approved|rejected|expired
    role: str | None
    created_at: float
    expires_at: float
    decided_by: str | None
    decided_at: float | None
    notified: bool

    @property
    def platform(self) -> str:
        """The platform of the user (and of the DM)."""
        return self.chat.platform


def _code(r: aiosqlite.Row) -> PairingCode:
    return PairingCode(
        code=r["code"],
        user=r["user"],
        display_name=r["display_name"],
        chat=ChatRef(r["platform"], r["channel_id"], r["thread_id"]),
        status=r["status"],
        role=r["role"],
        created_at=r["created_at"],
        expires_at=r["expires_at"],
        decided_by=r["decided_by"],
        decided_at=r["decided_at"],
        notified=bool(r["notified"]),
    )


class PairingStore:
    """Codes in SQLite; a decision is one guarded UPDATE, so the first one wins."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, code: str, *, user: str, display_name: str, chat: ChatRef, now: float, ttl: float
    ) -> PairingCode:
        """Store a new pending code for ``user``."""
        await self._db.execute(
            "INSERT INTO pairing_codes(code, platform, user, display_name, channel_id, "
            "thread_id, status, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (
                code,
                chat.platform,
                user,
                display_name,
                chat.channel_id,
                chat.thread_id,
                now,
                now + ttl,
            ),
        )
        found = await self.get(code)
        assert found is not None
        return found

    async def get(self, code: str) -> PairingCode | None:
        """One code, whatever its status."""
        row = await self._db.fetchone("SELECT * FROM pairing_codes WHERE code = ?", (code,))
        return _code(row) if row else None

    async def pending_for(self, user: str, now: float) -> PairingCode | None:
        """The user's code that is still valid, if any."""
        row = await self._db.fetchone(
            "SELECT * FROM pairing_codes WHERE user = ? AND status = 'pending' "
            "AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
            (user, now),
        )
        return _code(row) if row else None

    async def pending(self, now: float, *, platform: str | None = None) -> list[PairingCode]:
        """Valid pending codes (of one platform), oldest first."""
        sql = "SELECT * FROM pairing_codes WHERE status = 'pending' AND expires_at > ?"
        params: list[object] = [now]
        if platform is not None:
            sql += " AND platform = ?"
            params.append(platform)
        rows = await self._db.fetchall(sql + " ORDER BY created_at", params)
        return [_code(r) for r in rows]

    async def asked_since(self, user: str, since: float) -> int:
        """How many codes ``user`` was given since ``since`` (the per-user rate limit)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM pairing_codes WHERE user = ? AND created_at >= ?",
            (user, since),
        )
        return int(row[0]) if row else 0

    async def decide(
        self, code: str, *, status: str, role: str | None, by: str | None, at: float
    ) -> bool:
        """Close a pending, unexpired code; False when it was not (first decision wins)."""
        changed = await self._db.execute(
            "UPDATE pairing_codes SET status = ?, role = ?, decided_by = ?, decided_at = ? "
            "WHERE code = ? AND status = 'pending' AND expires_at > ?",
            (status, role, by, at, code, at),
        )
        return changed == 1

    async def expire(self, now: float) -> int:
        """Mark codes past their hour as expired; returns how many."""
        return await self._db.execute(
            "UPDATE pairing_codes SET status = 'expired', decided_at = expires_at "
            "WHERE status = 'pending' AND expires_at <= ?",
            (now,),
        )

    async def unnotified(self) -> list[PairingCode]:
        """Decided codes whose user was not told yet (decided from the CLI, or a failed post)."""
        rows = await self._db.fetchall(
            "SELECT * FROM pairing_codes WHERE status IN ('approved', 'rejected') "
            "AND notified = 0 ORDER BY decided_at"
        )
        return [_code(r) for r in rows]

    async def mark_notified(self, code: str) -> None:
        """The user was told the outcome."""
        await self._db.execute("UPDATE pairing_codes SET notified = 1 WHERE code = ?", (code,))
