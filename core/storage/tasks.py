"""TaskStore: one row per task (who, where, what, status, timestamps)."""

from __future__ import annotations

from dataclasses import dataclass

from core.events import ChatRef
from core.storage.db import Database
from core.storage.seen import RECORD

ACTIVE = ("queued", "running")
_INSERT = (
    "INSERT INTO tasks (id, requester, chat_key, platform, channel_id, thread_id, goal,"
    " status, created_at, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskRecord:
    """A stored task."""

    id: str
    requester: str
    chat: ChatRef
    goal: str
    status: str
    result: str
    created_at: float
    started_at: float | None
    finished_at: float | None


class TaskStore:
    """Tasks in SQLite."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        *,
        task_id: str,
        requester: str,
        chat: ChatRef,
        goal: str,
        now: float,
        running: bool = False,
        delivery: str | None = None,
    ) -> bool:
        """Insert a new task, queued (or already running when it got a slot at once).

        With ``delivery`` (the platform's key for the message that asked), the key is recorded
        as seen in the same trip and transaction; False, and nothing written, when it was
        seen before (a redelivery).
        """
        row = (
            task_id,
            requester,
            chat.key,
            chat.platform,
            chat.channel_id,
            chat.thread_id,
            goal,
            "running" if running else "queued",
            now,
            now if running else None,
        )
        if delivery is None:
            await self._db.execute(_INSERT, row)
            return True
        return await self._db.execute_if_new(RECORD, (delivery, now), _INSERT, row)

    async def mark_running(self, task_id: str, now: float) -> None:
        """Queued → running."""
        await self._db.execute(
            "UPDATE tasks SET status = 'running', started_at = ? WHERE id = ?", (now, task_id)
        )

    async def finish(self, task_id: str, status: str, result: str, now: float) -> None:
        """Record the end state (done, failed, cancelled, interrupted)."""
        await self._db.execute(
            "UPDATE tasks SET status = ?, result = ?, finished_at = ? WHERE id = ?",
            (status, result[:4000], now, task_id),
        )

    async def get(self, task_id: str) -> TaskRecord | None:
        """One task by id."""
        row = await self._db.fetchone("SELECT * FROM tasks WHERE id = ?", (task_id,))
        return _record(row) if row else None

    async def interrupt_active(self, now: float) -> list[TaskRecord]:
        """Mark every queued/running task interrupted (after a restart); returns them."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "SELECT * FROM tasks WHERE status IN ('queued', 'running')"
            )
            rows = list(await cursor.fetchall())
            await cursor.close()
            await conn.execute(
                "UPDATE tasks SET status = 'interrupted', finished_at = ?,"
                " result = 'hearth restarted' WHERE status IN ('queued', 'running')",
                (now,),
            )
        return [_record(r) for r in rows]

    async def counts(self) -> dict[str, int]:
        """Number of tasks per status."""
        rows = await self._db.fetchall("SELECT status, COUNT(*) FROM tasks GROUP BY status")
        return {r[0]: int(r[1]) for r in rows}

    async def failures_since(self, since: float) -> int:
        """Failed tasks finished after ``since``."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM tasks WHERE status = 'failed' AND finished_at >= ?", (since,)
        )
        return int(row[0]) if row else 0

    async def recent(self, limit: int = 20) -> list[TaskRecord]:
        """Newest tasks first."""
        rows = await self._db.fetchall(
            "SELECT * FROM tasks ORDER BY created_at DESC LIMIT ?", (limit,)
        )
        return [_record(r) for r in rows]


def _record(row) -> TaskRecord:
    return TaskRecord(
        id=row["id"],
        requester=row["requester"],
        chat=ChatRef(row["platform"], row["channel_id"], row["thread_id"]),
        goal=row["goal"],
        status=row["status"],
        result=row["result"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )
