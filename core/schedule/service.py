"""JobService: jobs scheduled from chat, each run a task in a new thread, run as its creator.

A run is claimed in SQLite before it starts (one guarded UPDATE), so two processes never run the
same fire time. Runs missed while hearth was down run once at startup when the newest is within
the misfire grace, else they are skipped and the next run's thread says so. Three failed runs in
a row pause a job (its creator is told); so does the creator losing access (the admins are told).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from core.clock import SystemClock, utc
from core.events import ChatRef, User
from core.ports import ChatAdapter, Clock
from core.schedule.grammar import ParsedJob, ScheduleError
from core.scheduler import JobTimer, next_fire, schedule_trigger, upcoming
from core.storage.jobs import JobRecord, JobStore
from core.storage.tasks import TaskStore
from core.taskpool import TaskPool
from core.tasks import TaskContext
from core.thread import Threads

log = logging.getLogger(__name__)

MIN_INTERVAL = 300.0  # seconds between runs, unless an admin makes the job
FAILURES_TO_PAUSE = 3
MAX_MISSED = 10_000  # fire times looked at when catching up after downtime


@dataclass(frozen=True, slots=True)
class JobLimits:
    """MAX_JOBS_PER_USER, SCHEDULE_MISFIRE_GRACE and the default SCHEDULE_TZ."""

    max_per_user: int = 10
    misfire_grace: float = 3600.0
    default_tz: str = "UTC"


class JobService:
    """Creates, runs, pauses and removes scheduled jobs."""

    def __init__(
        self,
        store: JobStore,
        pool: TaskPool,
        tasks: TaskStore,
        adapters: Mapping[str, ChatAdapter],
        *,
        allowed: Callable[[str], bool],
        tell_admins: Callable[[str], Awaitable[int]],
        limits: JobLimits | None = None,
        clock: Clock | None = None,
        threads: Threads | None = None,
    ) -> None:
        self._store = store
        self._pool = pool
        self._tasks = tasks
        self._adapters = adapters
        self._allowed = allowed  # platform:id -> may this creator still run tasks?
        self._tell_admins = tell_admins
        self._limits = limits or JobLimits()
        self._clock = clock or SystemClock()
        self._threads = threads or Threads(adapters, clock=self._clock)
        self._timers: dict[str, JobTimer] = {}
        self._follows: set[asyncio.Task[None]] = set()
        self.started = False
        self._starting = False

    # ---- values ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return utc(self._clock.now())

    def _trigger(self, job: JobRecord) -> object:
        return schedule_trigger(
            job.kind, job.expr, timezone=ZoneInfo(job.tz), start=utc(job.created_at)
        )

    def next_runs(self, job: JobRecord, count: int = 3) -> list[datetime]:
        """The next ``count`` run times (aware, in the job's timezone)."""
        after = max(self._now(), utc(job.last_fire_at or job.created_at))
        return [t.astimezone(ZoneInfo(job.tz)) for t in upcoming(self._trigger(job), after, count)]

    async def get(self, job_id: str) -> JobRecord | None:
        """One job."""
        return await self._store.get(job_id)

    async def in_channel(self, chat: ChatRef) -> list[JobRecord]:
        """Live jobs of the channel of ``chat``."""
        return await self._store.in_channel(chat.platform, chat.channel_id)

    async def runs(self, job_id: str):
        """The last 5 runs of a job, newest first."""
        return await self._store.runs(job_id, limit=5)

    def busy(self) -> bool:
        """True while a run is being started or followed, or a due fire has not fired yet."""
        return (
            self._starting
            or bool(self._follows)
            or any(not timer.idle() for timer in self._timers.values())
        )

    # ---- creating -------------------------------------------------------------------------

    async def create(
        self, parsed: ParsedJob, *, creator: User, chat: ChatRef, tz: str, is_admin: bool
    ) -> JobRecord:
        """Store and start a job; ScheduleError when a limit says no."""
        if await self._store.count_for(creator.qualified) >= self._limits.max_per_user:
            raise ScheduleError(
                f"you already have {self._limits.max_per_user} jobs (MAX_JOBS_PER_USER); "
                "`unschedule <id>` one first"
            )
        job = JobRecord(
            id=secrets.token_hex(3),
            creator=creator.qualified,
            creator_name=creator.display_name,
            channel=ChatRef(chat.platform, chat.channel_id),
            kind=parsed.schedule.kind,
            expr=parsed.schedule.expr,
            describe=parsed.schedule.describe,
            tz=tz,
            task=parsed.task,
            status="active",
            pause_reason="",
            failures=0,
            created_at=self._clock.now(),
            last_fire_at=None,
            missed_note="",
        )
        times = upcoming(self._trigger(job), self._now(), 4)
        if not times:
            raise ScheduleError("that time never comes: give a time in the future")
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        if gaps and min(gaps) < MIN_INTERVAL and not is_admin:
            raise ScheduleError(
                "jobs may run at most every 5 minutes (an admin can schedule more often)"
            )
        await self._store.add(job)
        self._start_timer(job, self._now())
        return job

    # ---- managing -------------------------------------------------------------------------

    async def set_state(self, job_id: str, action: str, *, reason: str = "") -> JobRecord | None:
        """``pause``, ``resume`` or ``remove`` a job; returns it as it is now."""
        job = await self._store.get(job_id)
        if job is None or job.status not in ("active", "paused"):
            return None
        status = {"pause": "paused", "resume": "active", "remove": "removed"}[action]
        await self._store.set_status(job_id, status, reason)
        timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
        job = replace(job, status=status, pause_reason=reason)
        if status == "active" and self.started:
            # Resuming starts from now: runs missed while paused are not made up.
            self._start_timer(job, self._now())
        return job

    async def pause_for(self, user: str, reason: str) -> int:
        """Pause every active job of ``user`` (they lost access); the admins are told."""
        paused = []
        for job in await self._store.live():
            if job.creator == user and job.status == "active":
                await self.set_state(job.id, "pause", reason=reason)
                paused.append(job)
        if paused:
            ids = ", ".join(f"`{j.id}`" for j in paused)
            await self._tell_admins(
                f"⏸ Paused {len(paused)} scheduled job(s) of `{user}` ({ids}): {reason}. "
                "An admin can `resume <id>` or `unschedule <id>` them."
            )
        return 0  # no running tasks stopped here (the roster's task stopper does that)

    # ---- running --------------------------------------------------------------------------

    async def start(self) -> int:
        """Catch up with runs missed while down, then start a timer per active job."""
        self.started = self._starting = True
        now = self._now()
        started = 0
        try:
            for job in await self._store.live():
                if job.status != "active" or job.id in self._timers:
                    continue  # a job made before start() already has its timer
                after = await self._catch_up(job, now)
                if after is not None:
                    self._start_timer(job, after)
                    started += 1
        finally:
            self._starting = False
        return started

    async def sync(self) -> None:
        """Follow status changes made by another process (`hearth jobs pause|resume|remove`)."""
        if not self.started:
            return
        live = {job.id: job for job in await self._store.live()}
        for job_id in list(self._timers):
            if job_id not in live or live[job_id].status != "active":
                self._timers.pop(job_id).cancel()
        for job in live.values():
            if job.status == "active" and job.id not in self._timers:
                self._start_timer(job, self._now())

    async def stop(self) -> None:
        """Stop every timer; runs already started are tasks and end with the pool."""
        self.started = False
        timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            timer.cancel()
        for timer in timers:
            await timer.wait_stopped()
        if self._follows:
            # The pool stops its tasks first: let the runs' results be recorded, briefly.
            _, late = await asyncio.wait(set(self._follows), timeout=5)
            for follow in late:
                follow.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _catch_up(self, job: JobRecord, now: datetime) -> datetime | None:
        """Run (or skip) what was missed; returns where the timer starts, None when done."""
        trigger = self._trigger(job)
        since = utc(job.last_fire_at or job.created_at)
        missed: list[datetime] = []
        fire = next_fire(trigger, since)
        while fire is not None and fire <= now and len(missed) < MAX_MISSED:
            missed.append(fire)
            fire = next_fire(trigger, fire)
        if not missed:
            if fire is None:
                await self._store.set_status(job.id, "done")
                return None
            return now
        latest = missed[-1]
        late = (now - latest).total_seconds()
        if late <= self._limits.misfire_grace:
            skipped = len(missed) - 1
            if skipped:
                await self._note_missed(job, skipped, missed[-2])
            await self._fire(job.id, latest)
        else:
            await self._note_missed(job, len(missed), latest)
            if await self._store.claim(job.id, latest.timestamp()):
                await self._store.add_run(
                    job.id,
                    fire_at=latest.timestamp(),
                    started_at=self._clock.now(),
                    status="skipped",
                    note=f"missed while hearth was down ({len(missed)} run(s))",
                )
        if next_fire(trigger, now) is None:
            await self._store.set_status(job.id, "done")
            return None
        return now

    async def _note_missed(self, job: JobRecord, count: int, last: datetime) -> None:
        local = last.astimezone(ZoneInfo(job.tz))
        await self._store.set_missed_note(
            job.id,
            f"⚠️ {count} earlier run(s) were skipped while hearth was down "
            f"(the last was due {local:%Y-%m-%d %H:%M} {job.tz}).",
        )

    def _start_timer(self, job: JobRecord, after: datetime) -> None:
        old = self._timers.pop(job.id, None)
        if old is not None:
            old.cancel()

        async def fire(when: datetime) -> None:
            await self._fire(job.id, when)

        timer = JobTimer(job.id, self._trigger(job), fire, clock=self._clock, after=after)
        self._timers[job.id] = timer
        timer.start()

    async def _fire(self, job_id: str, when: datetime) -> None:
        job = await self._store.get(job_id)
        if job is None or job.status != "active":
            return
        late = (self._now() - when).total_seconds()
        if late > self._limits.misfire_grace:
            await self._note_missed(job, 1, when)
            await self._store.claim(job_id, when.timestamp())
            return
        if not await self._store.claim(job_id, when.timestamp()):
            log.info("job %s at %s was already run by another process", job_id, when)
            return
        if not self._allowed(job.creator):
            await self.pause_for(job.creator, "their creator no longer has access")
            return
        adapter = self._adapters.get(job.channel.platform)
        if adapter is None:
            log.warning("job %s: no adapter for %s", job_id, job.channel.platform)
            return
        run_id = await self._store.add_run(
            job_id, fire_at=when.timestamp(), started_at=self._clock.now(), status="running"
        )
        try:
            header = await adapter.post(
                job.channel, f"⏰ Scheduled job `{job.id}` ({job.describe}): {job.task}"
            )
            thread = job.channel.in_thread(header.message_id)
            if job.missed_note:
                await adapter.post(thread, job.missed_note)
                await self._store.set_missed_note(job.id, "")
            platform, _, uid = job.creator.partition(":")
            ctx = TaskContext(
                task_id=secrets.token_hex(4),
                goal=job.task,
                chat=thread,
                requester=User(platform, uid, job.creator_name),
                thread=self._threads.open(thread),
                origin=f"job:{job.id}",
            )
            await self._store.run_started(run_id, task_id=ctx.task_id, thread_id=thread.thread_id)
            await self._pool.submit(ctx)
        except Exception as exc:
            log.exception("job %s could not start", job_id)
            await self._store.finish_run(run_id, "failed", f"could not start: {exc}")
            await self._after_run(job, "failed")
            return
        follow = asyncio.create_task(
            self._follow(job, run_id, ctx.task_id), name=f"follow:{job_id}"
        )
        self._follows.add(follow)
        follow.add_done_callback(self._follows.discard)
        if job.kind == "once":
            await self._store.set_status(job.id, "done")
            self._timers.pop(job.id, None)

    async def _follow(self, job: JobRecord, run_id: int, task_id: str) -> None:
        await self._pool.wait(task_id)
        record = await self._tasks.get(task_id)
        status = record.status if record is not None else "failed"
        await self._store.finish_run(run_id, status, record.result[:200] if record else "")
        await self._after_run(job, status)

    async def _after_run(self, job: JobRecord, status: str) -> None:
        current = await self._store.get(job.id)
        if current is None:
            return
        if status == "done":
            await self._store.set_failures(job.id, 0)
            return
        if status != "failed":
            return  # cancelled or interrupted: not the job's fault
        failures = current.failures + 1
        await self._store.set_failures(job.id, failures)
        if failures >= FAILURES_TO_PAUSE and current.status == "active":
            await self.set_state(job.id, "pause", reason=f"{failures} failed runs in a row")
            adapter = self._adapters.get(job.channel.platform)
            if adapter is not None:
                who = job.creator_name or job.creator
                await adapter.post(
                    job.channel,
                    f"⏸ @{who}, your scheduled job `{job.id}` ({job.task}) failed "
                    f"{failures} times in a row, so I paused it. `resume {job.id}` to try again.",
                )
