"""Database: owns the one aiosqlite connection; stores receive it, nobody else opens one."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from core.errors import StorageError
from core.storage.explain import explain

log = logging.getLogger(__name__)

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]
_T = TypeVar("_T")


class Database:
    """One aiosqlite connection in WAL mode, migrated with ``PRAGMA user_version`` on start."""

    def __init__(self, path: Path | str, migrations: Sequence[Migration]) -> None:
        self._path = str(path)
        self._migrations = list(migrations)
        self._conn: aiosqlite.Connection | None = None

    @property
    def is_open(self) -> bool:
        """True between start() and close()."""
        return self._conn is not None

    @property
    def conn(self) -> aiosqlite.Connection:
        """The open connection; raises when the database is not started."""
        if self._conn is None:
            raise StorageError("database is not open")
        return self._conn

    async def start(self) -> None:
        """Open the connection, set pragmas and migrate to the newest schema."""
        try:
            if self._path != ":memory:":
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = await aiosqlite.connect(self._path, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise explain(self._path, exc) or StorageError(f"{self._path}: {exc}") from exc
        self._conn.row_factory = aiosqlite.Row
        try:
            await self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable under WAL (only the last commits can be lost on power failure)
            # and saves a disk sync per statement: p99 overhead at 100 tasks halves.
            await self._conn.execute("PRAGMA synchronous=NORMAL")
            await self._conn.execute("PRAGMA foreign_keys=ON")
            await self._conn.execute("PRAGMA busy_timeout=5000")
            await self._migrate()
        except BaseException as exc:
            await self.close()  # an open aiosqlite thread would keep the process alive
            cause = exc.__cause__ if isinstance(exc, StorageError) else exc
            if isinstance(cause, sqlite3.Error):
                raise explain(self._path, cause) or StorageError(f"{self._path}: {exc}") from exc
            raise

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def __aenter__(self) -> Database:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block in one IMMEDIATE transaction; any exception rolls it back.

        The connection is shared by every coroutine: use this only where nothing else writes
        meanwhile (migrations, startup recovery). Everyday writes are single autocommit
        statements, atomic on their own.
        """
        conn = self.conn
        await conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        else:
            await conn.execute("COMMIT")

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement in autocommit mode; returns the number of changed rows."""
        return await self._one_trip(_rowcount, sql, tuple(params))

    async def insert(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run an INSERT; returns the new row id."""
        return await self._one_trip(_lastrowid, sql, tuple(params))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """First row of a query, or None."""
        return await self._one_trip(_first, sql, tuple(params))

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """All rows of a query."""
        return await self._one_trip(_all, sql, tuple(params))

    async def execute_if_new(
        self, first: str, first_params: Iterable[Any], then: str, then_params: Iterable[Any]
    ) -> bool:
        """Run ``first``; only when it changed a row, ``then`` too. Both or neither, one trip.

        False (nothing written) when ``first`` changed no row, e.g. an INSERT OR IGNORE of a
        key already there. A failing ``then`` undoes ``first``.
        """
        return await self._one_trip(
            _both_or_neither, first, (tuple(first_params), then, tuple(then_params))
        )

    async def _one_trip(
        self, fn: Callable[[sqlite3.Connection, str, tuple[Any, ...]], _T], sql: str, params: tuple
    ) -> _T:
        # aiosqlite's cursor API takes a trip to its thread for execute, fetch and close
        # each, and every trip is a thread hand-off plus an event-loop wake-up. One function
        # run on its thread does the whole statement in one trip: a third of the latency on
        # the path to a task's first post. (_execute is how aiosqlite's own helpers queue.)
        conn = self.conn
        return await conn._execute(fn, conn._conn, sql, params)

    async def version(self) -> int:
        """The schema version (``PRAGMA user_version``)."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        current = await self.version()
        if current > len(self._migrations):
            raise StorageError(
                f"database schema v{current} is newer than this hearth (v{len(self._migrations)})"
            )
        for number, migration in enumerate(self._migrations[current:], start=current + 1):
            log.info("migrating database to v%d: %s", number, migration.__name__)
            try:
                async with self.transaction() as conn:
                    await migration(conn)
                    await conn.execute(f"PRAGMA user_version = {number}")
            except Exception as exc:
                raise StorageError(
                    f"migration {migration.__name__} failed and was rolled back: {exc}"
                ) from exc


def _rowcount(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


def _lastrowid(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> int:
    cursor = conn.execute(sql, params)
    try:
        return int(cursor.lastrowid or 0)
    finally:
        cursor.close()


def _first(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchone()
    finally:
        cursor.close()


def _all(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _both_or_neither(conn: sqlite3.Connection, first: str, rest: tuple[Any, ...]) -> bool:
    first_params, then, then_params = rest
    # A savepoint, not BEGIN: it nests inside a transaction() that may be open meanwhile.
    conn.execute("SAVEPOINT hearth_if_new").close()
    try:
        changed = _rowcount(conn, first, first_params) > 0
        if changed:
            _rowcount(conn, then, then_params)
    except BaseException:
        conn.execute("ROLLBACK TO hearth_if_new").close()
        conn.execute("RELEASE hearth_if_new").close()
        raise
    conn.execute("RELEASE hearth_if_new").close()
    return changed
