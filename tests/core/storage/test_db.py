"""Database: migrations from empty to head, idempotent re-run, failed migration rolls back."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from core.errors import StorageError
from core.storage import MIGRATIONS, Database
from core.storage.seen import SeenEventStore


async def _tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r[0] for r in rows}


async def test_migrates_empty_database_to_head(tmp_path: Path) -> None:
    async with Database(tmp_path / "h.db", MIGRATIONS) as db:
        assert await db.version() == len(MIGRATIONS)
        assert {"tasks", "events_seen", "kv", "approvals", "usage", "heartbeat_ticks"} <= (
            await _tables(db)
        )
        row = await db.fetchone("PRAGMA journal_mode")
        assert row[0] == "wal"


async def test_rerun_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    async with Database(tmp_path / "h.db", MIGRATIONS) as db:
        assert await SeenEventStore(db).first_time("slack:Ev1", 1.0)
    async with Database(tmp_path / "h.db", MIGRATIONS) as db:
        assert await db.version() == len(MIGRATIONS)
        assert not await SeenEventStore(db).first_time("slack:Ev1", 2.0)


async def test_failed_migration_rolls_back_and_names_itself(tmp_path: Path) -> None:
    async def m_good(conn: aiosqlite.Connection) -> None:
        await conn.execute("CREATE TABLE a (x INTEGER)")

    async def m_broken(conn: aiosqlite.Connection) -> None:
        await conn.execute("CREATE TABLE b (x INTEGER)")
        await conn.execute("INSERT INTO missing_table VALUES (1)")

    db = Database(tmp_path / "h.db", [m_good, m_broken])
    with pytest.raises(StorageError, match="m_broken"):
        await db.start()
    assert not db.is_open  # closed again: no aiosqlite thread left behind
    async with Database(tmp_path / "h.db", [m_good]) as reopened:
        assert await reopened.version() == 1
        assert await _tables(reopened) == {"a"}  # b was rolled back with its migration


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    async with Database(tmp_path / "h.db", MIGRATIONS):
        pass
    db = Database(tmp_path / "h.db", MIGRATIONS[:1])
    with pytest.raises(StorageError, match="newer"):
        await db.start()
    assert not db.is_open


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    async with Database(tmp_path / "h.db", MIGRATIONS) as db:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO kv VALUES ('k', 'v', 1)")
                raise RuntimeError("boom")
        assert await db.fetchone("SELECT * FROM kv") is None
