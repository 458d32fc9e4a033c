"""AccessStore: the runtime allow-list (``access_users``) and the access audit."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from core.storage.db import Database

ROLES = ("user", "approver")


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessRow:
    """One runtime entry: who, which role, allowed or revoked, and where it came from."""

    user: str  # platform:user id
    role: str  # user|approver
    status: str  # allowed|revoked
    source: str  # pairing|grant|env (env rows only revoke someone listed in the environment)
    display_name: str
    changed_by: str | None
    changed_at: float


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the access audit: who changed whose access, when, and how."""

    at: float
    actor: str | None
    action: str
    subject: str
    detail: str


def _row(r: aiosqlite.Row) -> AccessRow:
    return AccessRow(
        user=r["user"],
        role=r["role"],
        status=r["status"],
        source=r["source"],
        display_name=r["display_name"],
        changed_by=r["changed_by"],
        changed_at=r["changed_at"],
    )


class AccessStore:
    """Reads and writes runtime access rows; every write also lands in the audit."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def rows(self) -> list[AccessRow]:
        """Every runtime row (allowed and revoked), by user."""
        rows = await self._db.fetchall("SELECT * FROM access_users ORDER BY user")
        return [_row(r) for r in rows]

    async def put(
        self,
        user: str,
        *,
        role: str,
        status: str,
        source: str,
        display_name: str = "",
        actor: str | None,
        at: float,
        action: str,
        detail: str = "",
    ) -> None:
        """Insert or replace ``user``'s row and audit the change."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        await self._db.execute(
            "INSERT INTO access_users(user, role, status, source, display_name, changed_by, "
            "changed_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user) DO UPDATE SET "
            "role = excluded.role, status = excluded.status, source = excluded.source, "
            "display_name = CASE WHEN excluded.display_name = '' THEN display_name "
            "ELSE excluded.display_name END, changed_by = excluded.changed_by, "
            "changed_at = excluded.changed_at",
            (user, role, status, source, display_name, actor, at),
        )
        await self.audit(actor=actor, action=action, subject=user, detail=detail, at=at)

    async def audit(
        self, *, actor: str | None, action: str, subject: str, detail: str = "", at: float
    ) -> None:
        """Append one line to the access audit."""
        await self._db.insert(
            "INSERT INTO access_audit(at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            (at, actor, action, subject, detail),
        )

    async def audit_log(self, *, limit: int = 50) -> list[AuditEntry]:
        """The newest audit lines, oldest first."""
        rows = await self._db.fetchall(
            "SELECT at, actor, action, subject, detail FROM access_audit ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4]) for r in reversed(rows)]
