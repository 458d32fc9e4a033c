"""SkillStore: each skill version's status and run counters."""

from __future__ import annotations

from typing import Any

from core.skills.model import SkillState, Status
from core.storage.db import Database

_COLUMNS = (
    "name, version, status, runs, successes, failures, consecutive_failures, last_error, "
    "last_run_at, origin, note, created_at"
)


class SkillStore:
    """Rows of the ``skills`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure(
        self, name: str, version: int, *, kind: str, origin: str, status: Status, now: float
    ) -> SkillState:
        """The stored state of a skill version, created with ``status`` when new."""
        await self._db.execute(
            "INSERT INTO skills(name, version, kind, origin, status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name, version) DO NOTHING",
            (name, version, kind, origin, status.value, now, now),
        )
        state = await self.get(name, version)
        assert state is not None
        return state

    async def get(self, name: str, version: int) -> SkillState | None:
        """One version's state."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM skills WHERE name = ? AND version = ?", (name, version)
        )
        return None if row is None else _state(row)

    async def all(self) -> list[SkillState]:
        """Every stored version."""
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM skills ORDER BY name, version")
        return [_state(r) for r in rows]

    async def set_status(self, name: str, version: int, status: Status, *, now: float) -> bool:
        """Change a version's status; False when it is not stored."""
        changed = await self._db.execute(
            "UPDATE skills SET status = ?, updated_at = ? WHERE name = ? AND version = ?",
            (status.value, now, name, version),
        )
        return changed > 0

    async def record_run(
        self, name: str, version: int, *, ok: bool, error: str, now: float
    ) -> SkillState | None:
        """Count one run; a success resets the run of consecutive failures."""
        await self._db.execute(
            "UPDATE skills SET runs = runs + 1, successes = successes + ?, "
            "failures = failures + ?, "
            "consecutive_failures = CASE WHEN ? THEN 0 ELSE consecutive_failures + 1 END, "
            "last_error = CASE WHEN ? THEN last_error ELSE ? END, "
            "last_run_at = ?, updated_at = ? WHERE name = ? AND version = ?",
            (int(ok), int(not ok), int(ok), int(ok), error[:500], now, now, name, version),
        )
        return await self.get(name, version)

    # -- versions of generated skills ---------------------------------------------------------

    async def add_version(
        self, name: str, *, code: str, note: str, status: Status, now: float
    ) -> int:
        """Store a new generated version (the next number); returns its version."""
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM skills WHERE name = ?", (name,)
            )
            row = await cur.fetchone()
            version = int(row[0]) + 1 if row else 1
            await conn.execute(
                "INSERT INTO skills(name, version, kind, origin, status, created_at, updated_at, "
                "code, note) VALUES (?, ?, 'code', 'generated', ?, ?, ?, ?, ?)",
                (name, version, status.value, now, now, code, note),
            )
            await conn.execute(
                "INSERT INTO skill_heads(name, version, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET version = excluded.version, "
                "updated_at = excluded.updated_at",
                (name, version, now),
            )
        return version

    async def code(self, name: str, version: int) -> str:
        """The stored code of a generated version ('' for file-based skills)."""
        row = await self._db.fetchone(
            "SELECT code FROM skills WHERE name = ? AND version = ?", (name, version)
        )
        return "" if row is None else str(row["code"])

    async def heads(self) -> dict[str, int]:
        """The version in use of every generated skill."""
        rows = await self._db.fetchall("SELECT name, version FROM skill_heads")
        return {str(r["name"]): int(r["version"]) for r in rows}

    async def set_head(self, name: str, version: int, *, now: float) -> None:
        """Use ``version`` of ``name`` from now on (rollback)."""
        await self._db.execute(
            "INSERT INTO skill_heads(name, version, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET version = excluded.version, "
            "updated_at = excluded.updated_at",
            (name, version, now),
        )

    async def versions(self, name: str) -> list[SkillState]:
        """Every stored version of ``name``, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM skills WHERE name = ? ORDER BY version", (name,)
        )
        return [_state(r) for r in rows]

    async def add_review(
        self,
        name: str,
        version: int,
        *,
        decision: str,
        decided_by: str,
        reason: str,
        code_sha: str,
        code: str,
        now: float,
    ) -> None:
        """Keep a review decision (approved, rejected, expired, dropped) with the code seen."""
        await self._db.insert(
            "INSERT INTO skill_reviews(at, name, version, decision, decided_by, reason, "
            "code_sha, code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now, name, version, decision, decided_by, reason, code_sha, code),
        )

    async def reviews(self, name: str) -> list[dict[str, Any]]:
        """The review trail of ``name``, oldest first."""
        rows = await self._db.fetchall(
            "SELECT at, version, decision, decided_by, reason, code_sha FROM skill_reviews "
            "WHERE name = ? ORDER BY at, id",
            (name,),
        )
        return [dict(r) for r in rows]


def _state(row: Any) -> SkillState:
    return SkillState(
        name=str(row["name"]),
        version=int(row["version"]),
        status=Status(row["status"]),
        runs=int(row["runs"]),
        successes=int(row["successes"]),
        failures=int(row["failures"]),
        consecutive_failures=int(row["consecutive_failures"]),
        last_error=str(row["last_error"]),
        last_run_at=row["last_run_at"],
        origin=str(row["origin"]),
        note=str(row["note"]),
        created_at=float(row["created_at"]),
    )
