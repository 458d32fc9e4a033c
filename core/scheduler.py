"""Scheduler: the app's one APScheduler, running named async jobs that never stop each other.

Owned by the app: started after the database, stopped before it. Every job is coalesced (a
backlog of missed runs becomes one run), runs one instance at a time, and may start up to
``misfire_grace`` seconds late. A job that raises is logged with its name; its next run still
happens. ``stop()`` lets a running job finish within a grace period, then cancels it, so no job
is left running when the database closes.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from core.clock import SystemClock
from core.errors import ConfigError
from core.ports import Clock

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

# APScheduler (and tzlocal with it) is imported where it is used, not with this module: a
# terminal chat's prompt need not wait for it.

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]

_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DOW_RANGE = re.compile(r"^(\d)(?:-(\d))?(?:/(\d+))?$")


def _crontab_dow(field: str) -> str:
    """Translate crontab weekday numbers (0/7 = Sunday) into names.

    APScheduler 3 numbers weekdays from Monday = 0, so "0 9 * * 1" would silently fire on
    Tuesdays; names mean the same thing to both.
    """
    parts = []
    for part in field.split(","):
        match = _DOW_RANGE.match(part)
        if not match:
            parts.append(part)  # "*", "*/2", names: identical in both conventions
            continue
        start, end, step = match.groups()
        first, last = int(start), int(end) if end is not None else int(start)
        if first > 7 or last > 7 or last < first:
            raise ValueError(f"invalid day of week {part!r}")
        days = range(first, last + 1, int(step or 1))
        parts.extend(_DOW_NAMES[d] for d in days)
    return ",".join(dict.fromkeys(parts))


def crontab_trigger(expr: str, *, timezone: tzinfo | str | None = None) -> CronTrigger:
    """A CronTrigger from a standard 5-field crontab expression; ConfigError when malformed."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ConfigError(f"cron expression {expr!r} must have 5 fields, got {len(fields)}")
    try:
        fields[4] = _crontab_dow(fields[4])
        return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)
    except ValueError as exc:
        raise ConfigError(f"cron expression {expr!r} is invalid: {exc}") from exc


def next_cron_time(
    expr: str, after: datetime, *, timezone: tzinfo | str | None = None
) -> datetime | None:
    """When ``expr`` fires next after ``after`` (an aware datetime); for digests and tests."""
    trigger = crontab_trigger(expr, timezone=timezone or after.tzinfo)
    return trigger.get_next_fire_time(None, after)


def _import_apscheduler() -> Any:
    """APScheduler's asyncio scheduler module, with the triggers the app's timers use."""
    importlib.import_module("apscheduler.triggers.interval")
    importlib.import_module("apscheduler.triggers.cron")
    return importlib.import_module("apscheduler.schedulers.asyncio")


class Scheduler:
    """Runs async jobs on intervals and crontab schedules; failures are logged, never fatal."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        misfire_grace: float = 30,
        stop_grace: float = 10.0,
        timezone: tzinfo | str | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self._stop_grace = stop_grace
        self._timezone = timezone
        options: dict[str, object] = {
            "job_defaults": {
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(1, round(misfire_grace)),
            }
        }
        if timezone is not None:
            options["timezone"] = timezone
        self._options = options
        self._sched: AsyncIOScheduler | None = None  # made by start()
        self._pending: list[
            tuple[Callable[[], Awaitable[None]], Callable[[], object], str, dict[str, Any]]
        ] = []
        self._running: set[asyncio.Task[object]] = set()
        self._names: set[str] = set()
        self.runs: dict[str, int] = {}  # completed runs per job name (health / tests)
        self.failures: dict[str, int] = {}  # runs that raised, per job name

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._sched is not None and bool(self._sched.running)

    @property
    def jobs(self) -> list[str]:
        """Names of the registered jobs."""
        return sorted(self._names)

    def next_run(self, name: str) -> datetime | None:
        """When the job ``name`` runs next (None when unknown, paused or not started)."""
        job = self._sched.get_job(name) if self._sched is not None else None
        return getattr(job, "next_run_time", None) if job is not None else None

    def every(self, seconds: float, job: Job, *, name: str, first_in: float | None = None) -> None:
        """Run ``job`` every ``seconds``; first after ``first_in`` s (default: one interval)."""
        if seconds <= 0:
            raise ConfigError(f"job {name!r}: interval must be positive, got {seconds}")
        first = None
        if first_in is not None:
            first = datetime.now(UTC) + timedelta(seconds=max(0.0, first_in))
        timezone = self._timezone

        def trigger() -> object:  # made by start(), after APScheduler's import
            from apscheduler.triggers.interval import IntervalTrigger

            return IntervalTrigger(seconds=seconds, timezone=timezone)

        self._add(job, trigger, name, first)

    def cron(self, expr: str, job: Job, *, name: str) -> None:
        """Run ``job`` on a 5-field crontab schedule, e.g. ``"0 9 * * 1-5"``."""
        made = crontab_trigger(expr, timezone=self._timezone)  # a bad expression fails here
        self._add(job, lambda: made, name)

    async def start(self) -> None:
        """Start firing jobs (needs the running event loop)."""
        if self._sched is None:
            # APScheduler's scheduler scans every installed package's entry points when it is
            # imported: in a thread, so the event loop (a terminal's prompt) does not wait.
            module = await asyncio.to_thread(_import_apscheduler)
            self._sched = module.AsyncIOScheduler(**self._options)
            for func, trigger, name, extra in self._pending:
                self._sched.add_job(func, trigger(), id=name, name=name, **extra)
            self._pending.clear()
        if not self._sched.running:
            self._sched.start()
            log.info("scheduler started with jobs: %s", ", ".join(self.jobs) or "none")

    async def stop(self) -> None:
        """Stop firing; let a running job finish within the grace period, then cancel it."""
        if self._sched is None or not self._sched.running:
            return
        self._sched.pause()
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=self._stop_grace)
            for task in pending:
                log.warning("cancelling job %s still running at shutdown", task.get_name())
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        self._sched.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler applies the shutdown via call_soon
        log.info("scheduler stopped")

    def _add(
        self, job: Job, trigger: Callable[[], object], name: str, first: datetime | None = None
    ) -> None:
        if name in self._names:
            raise ConfigError(f"a job named {name!r} is already scheduled")
        self._names.add(name)
        # A partial of a coroutine function: APScheduler runs it as a task on our loop.
        func = functools.partial(self._run, name, job)
        extra: dict[str, Any] = {"next_run_time": first} if first is not None else {}
        if self._sched is None:  # added when the scheduler starts
            self._pending.append((func, trigger, name, extra))
            return
        self._sched.add_job(func, trigger(), id=name, name=name, **extra)

    async def _run(self, name: str, job: Job) -> None:
        task = asyncio.current_task()
        if task is not None:
            task.set_name(f"job:{name}")
            self._running.add(task)
        started = self._clock.monotonic()
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            # The task boundary of a scheduled job: log it, the next run still happens.
            self.failures[name] = self.failures.get(name, 0) + 1
            log.exception("scheduled job %s failed", name)
        else:
            log.debug("scheduled job %s took %.3fs", name, self._clock.monotonic() - started)
        finally:
            self.runs[name] = self.runs.get(name, 0) + 1
            if task is not None:
                self._running.discard(task)


# ---- scheduled jobs from chat ------------------------------------------------------------------
#
# APScheduler 3's scheduler loop reads the wall clock itself (datetime.now), so an injected clock
# cannot drive it; its triggers, though, are pure functions of time. Chat jobs therefore run on
# JobTimer: APScheduler triggers say when, the app's clock waits (virtual time in tests).


def schedule_trigger(kind: str, expr: str, *, timezone: tzinfo, start: datetime) -> object:
    """The APScheduler trigger of a stored schedule (``cron``, ``interval`` or ``once``)."""
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if kind == "cron":
        return crontab_trigger(expr, timezone=timezone)
    if kind == "interval":
        return IntervalTrigger(seconds=float(expr), start_date=start, timezone=timezone)
    if kind == "once":
        return DateTrigger(run_date=datetime.fromisoformat(expr), timezone=timezone)
    raise ConfigError(f"unknown schedule kind {kind!r}")


def next_fire(trigger: object, after: datetime) -> datetime | None:
    """The first fire time strictly after ``after`` (aware), or None when it never fires again."""
    probe = after + timedelta(microseconds=1)
    # Asked without a previous fire time, every trigger answers "the first time >= probe",
    # except DateTrigger, which always answers its one date: past dates mean never again.
    fire = trigger.get_next_fire_time(None, probe)  # type: ignore[attr-defined]
    return fire if fire is not None and fire >= probe else None


def upcoming(trigger: object, after: datetime, count: int = 3) -> list[datetime]:
    """The next ``count`` fire times after ``after``."""
    out: list[datetime] = []
    moment = after
    while len(out) < count:
        fire = next_fire(trigger, moment)
        if fire is None:
            break
        out.append(fire)
        moment = fire
    return out


class JobTimer:
    """Runs ``job(fire_time)`` at each fire time of a trigger, on the injected clock.

    Sleeps in short slices and re-reads the wall clock, so a clock jump (or virtual time in
    tests) is noticed within a slice. One task per timer; ``cancel()`` stops it.
    """

    SLICE = 60.0

    def __init__(
        self,
        name: str,
        trigger: object,
        job: Callable[[datetime], Awaitable[object]],
        *,
        clock: Clock,
        after: datetime,
    ) -> None:
        self.name = name
        self._trigger = trigger
        self._job = job
        self._clock = clock
        self._after = after
        self._task: asyncio.Task[None] | None = None
        self.due_at: float | None = None  # epoch seconds of the fire being waited for or run
        self._firing: asyncio.Future[object] | None = None

    def idle(self) -> bool:
        """True while waiting for a fire time still in the future (or after the last one)."""
        return self.due_at is None or self.due_at > self._clock.now()

    def start(self) -> None:
        """Begin waiting for the first fire time after ``after``."""
        self._task = asyncio.create_task(self._loop(), name=f"job:{self.name}")

    def cancel(self) -> None:
        """Stop firing (a run already started finishes on its own)."""
        if self._task is not None:
            self._task.cancel()

    async def wait_stopped(self) -> None:
        """Wait until the timer's task has ended."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._firing is not None:
            await asyncio.gather(self._firing, return_exceptions=True)

    async def _loop(self) -> None:
        after = self._after
        while True:
            fire = next_fire(self._trigger, after)
            if fire is None:
                self.due_at = None
                return
            self.due_at = fire.timestamp()
            while (delay := fire.timestamp() - self._clock.now()) > 0:
                await self._clock.sleep(min(delay, self.SLICE))
            after = fire
            # Shielded: cancelling the timer (pause, shutdown) never cuts a run half-started.
            self._firing = asyncio.ensure_future(self._job(fire))
            try:
                await asyncio.shield(self._firing)
            except asyncio.CancelledError:
                raise
            except Exception:  # the next fire still happens
                log.exception("scheduled job %s failed", self.name)
