"""JobStore: jobs scheduled from chat and their runs."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from core.events import ChatRef
from core.storage.db import Database


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRecord:
    """One scheduled job as stored."""

    id: str
    creator: str
    creator_name: str
    channel: ChatRef  # where it was made; each run is a new thread here
    kind: str
    expr: str
    describe: str
    tz: str
    task: str
    status: str
    pause_reason: str
    failures: int
    created_at: float
    last_fire_at: float | None
    missed_note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRun:
    """One run of a job: when it fired, its task and thread, how it ended."""

    id: int
    job_id: str
    fire_at: float
    started_at: float
    task_id: str | None
    thread_id: str | None
    status: str
    note: str


def _job(r: aiosqlite.Row) -> JobRecord:
    return JobRecord(
        id=r["id"],
        creator=r["creator"],
        creator_name=r["creator_name"],
        channel=ChatRef(r["platform"], r["channel_id"]),
        kind=r["kind"],
        expr=r["expr"],
        describe=r["describe"],
        tz=r["tz"],
        task=r["task"],
        status=r["status"],
        pause_reason=r["pause_reason"],
        failures=r["failures"],
        created_at=r["created_at"],
        last_fire_at=r["last_fire_at"],
        missed_note=r["missed_note"],
    )


def _run(r: aiosqlite.Row) -> JobRun:
    return JobRun(
        id=r["id"],
        job_id=r["job_id"],
        fire_at=r["fire_at"],
        started_at=r["started_at"],
        task_id=r["task_id"],
        thread_id=r["thread_id"],
        status=r["status"],
        note=r["note"],
    )


class JobStore:
    """Jobs and runs in SQLite; claiming a fire time is one guarded UPDATE (one winner)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, job: JobRecord) -> None:
        """Store a new job."""
        await self._db.execute(
            "INSERT INTO scheduled_jobs(id, creator, creator_name, platform, channel_id, kind, "
            "expr, describe, tz, task, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job.id, job.creator, job.creator_name, job.channel.platform,
                job.channel.channel_id, job.kind, job.expr, job.describe, job.tz, job.task,
                job.status, job.created_at,
            ),
        )  # fmt: skip

    async def get(self, job_id: str) -> JobRecord | None:
        """One job by id."""
        row = await self._db.fetchone("SELECT * FROM scheduled_jobs WHERE id = ?", (job_id,))
        return _job(row) if row else None

    async def live(self) -> list[JobRecord]:
        """Jobs that are active or paused, oldest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM scheduled_jobs WHERE status IN ('active', 'paused') ORDER BY created_at"
        )
        return [_job(r) for r in rows]

    async def in_channel(self, platform: str, channel_id: str) -> list[JobRecord]:
        """Live jobs of one channel."""
        rows = await self._db.fetchall(
            "SELECT * FROM scheduled_jobs WHERE platform = ? AND channel_id = ? "
            "AND status IN ('active', 'paused') ORDER BY created_at",
            (platform, channel_id),
        )
        return [_job(r) for r in rows]

    async def count_for(self, creator: str) -> int:
        """Live jobs of one creator (MAX_JOBS_PER_USER)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM scheduled_jobs WHERE creator = ? "
            "AND status IN ('active', 'paused')",
            (creator,),
        )
        return int(row[0]) if row else 0

    async def set_status(self, job_id: str, status: str, reason: str = "") -> bool:
        """Change a job's status (and why it is paused); resets the failure count on resume."""
        reset = ", failures = 0" if status == "active" else ""
        return (
            await self._db.execute(
                f"UPDATE scheduled_jobs SET status = ?, pause_reason = ?{reset} WHERE id = ?",
                (status, reason, job_id),
            )
            == 1
        )

    async def claim(self, job_id: str, fire_at: float) -> bool:
        """Take the fire time ``fire_at`` for this process; False when already taken."""
        return (
            await self._db.execute(
                "UPDATE scheduled_jobs SET last_fire_at = ? WHERE id = ? AND status = 'active' "
                "AND (last_fire_at IS NULL OR last_fire_at < ?)",
                (fire_at, job_id, fire_at),
            )
            == 1
        )

    async def set_failures(self, job_id: str, failures: int) -> None:
        """Failed runs in a row."""
        await self._db.execute(
            "UPDATE scheduled_jobs SET failures = ? WHERE id = ?", (failures, job_id)
        )

    async def set_missed_note(self, job_id: str, note: str) -> None:
        """A note for the next run's thread (runs skipped while hearth was down)."""
        await self._db.execute(
            "UPDATE scheduled_jobs SET missed_note = ? WHERE id = ?", (note, job_id)
        )

    async def add_run(
        self, job_id: str, *, fire_at: float, started_at: float, status: str, note: str = ""
    ) -> int:
        """Record a run (or a skipped fire time); returns its id."""
        return await self._db.insert(
            "INSERT INTO job_runs(job_id, fire_at, started_at, status, note) "
            "VALUES (?, ?, ?, ?, ?)",
            (job_id, fire_at, started_at, status, note),
        )

    async def run_started(self, run_id: int, *, task_id: str, thread_id: str | None) -> None:
        """The run's task and thread."""
        await self._db.execute(
            "UPDATE job_runs SET task_id = ?, thread_id = ? WHERE id = ?",
            (task_id, thread_id, run_id),
        )

    async def finish_run(self, run_id: int, status: str, note: str = "") -> None:
        """How the run ended."""
        await self._db.execute(
            "UPDATE job_runs SET status = ?, note = ? WHERE id = ?", (status, note, run_id)
        )

    async def runs(self, job_id: str, *, limit: int = 5) -> list[JobRun]:
        """The newest runs of a job, newest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM job_runs WHERE job_id = ? ORDER BY fire_at DESC, id DESC LIMIT ?",
            (job_id, limit),
        )
        return [_run(r) for r in rows]
