"""The app's services: the scheduler's standing jobs (heartbeat, pruning, access sync, digest)
and the rest the app starts after the database, in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.app import Service
from bot.config import Settings
from core.events import ChatRef
from core.ports import ChatAdapter, Clock
from core.schedule.service import JobLimits, JobService
from core.scheduler import Scheduler
from core.storage import Database
from core.storage.jobs import JobStore
from core.storage.tasks import TaskStore
from core.taskpool import TaskPool
from core.team.roster import Roster
from core.thread import Threads

if TYPE_CHECKING:
    from bot.core_parts import Core

log = logging.getLogger(__name__)

HOUR = 3600.0
ACCESS_SYNC = 15.0  # seconds between picking up access changes made with the CLI
SETTLE_MAX = 2.0  # the timers wait at most this long for the terminal's prompt


def heartbeat_channel(settings: Settings) -> ChatRef | None:
    """HEARTBEAT_CHANNEL as a chat, or None."""
    return chat_ref(settings.heartbeat_channel)


def chat_ref(value: str | None) -> ChatRef | None:
    """``platform:channel`` as a chat, or None when unset."""
    if not value:
        return None
    platform, _, channel = value.partition(":")
    return ChatRef(platform, channel)


def build_jobs(
    settings: Settings,
    db: Database,
    pool: TaskPool,
    tasks: TaskStore,
    adapters: dict[str, ChatAdapter],
    *,
    roster: Roster,
    tell_admins: Callable[[str], Awaitable[int]],
    threads: Threads,
    clock: Clock,
) -> JobService:
    """Jobs scheduled from chat, paused when their creator loses access."""
    jobs = JobService(
        JobStore(db),
        pool,
        tasks,
        adapters,
        allowed=roster.allows,
        tell_admins=tell_admins,
        limits=JobLimits(
            max_per_user=settings.max_jobs_per_user,
            misfire_grace=settings.schedule_misfire_grace,
            default_tz=settings.schedule_tz,
        ),
        clock=clock,
        threads=threads,
    )

    async def jobs_paused(user: str) -> int:
        return await jobs.pause_for(user, "their creator lost access")

    roster.on_lost_access(jobs_paused)
    return jobs


class SchedulerService:
    """Starts the heartbeat jobs on the scheduler; stops them before the database closes."""

    def __init__(
        self,
        scheduler: Scheduler,
        core: Core,
        *,
        settle: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._core = core
        self._settle = settle  # what the timers' start waits for (the terminal settled)
        self._settling = False
        self._jobs_start: asyncio.Task[None] | None = None
        self._timers_start: asyncio.Task[None] | None = None

    @property
    def jobs(self) -> JobService | None:
        """The scheduled jobs (health, tests)."""
        return self._core.jobs

    @property
    def jobs_started(self) -> bool:
        """True once the jobs caught up after startup and their timers run."""
        return (
            self._jobs_start is not None
            and self._jobs_start.done()
            and self._core.jobs is not None
            and not self._core.jobs.busy()
        )

    async def start(self) -> None:
        settings = self._core.settings

        async def heartbeat_tick() -> None:
            await self._core.failures.refresh()
            await self._core.heartbeat.tick()

        async def prune_seen() -> None:
            await self._core.seen.prune(self._core.clock.now())

        self._scheduler.every(settings.heartbeat_interval, heartbeat_tick, name="heartbeat")
        # Delivery ids are kept a week (retries and re-syncs come within minutes); older go.
        self._scheduler.every(6 * HOUR, prune_seen, name="prune-seen-events")
        if self._core.memory is not None:
            self._scheduler.every(24 * HOUR, self._core.memory.expire, name="memory-ttl")
        self._scheduler.every(ACCESS_SYNC, self._access_sync, name="access-sync")
        if self._core.jobs is not None:
            self._jobs_start = asyncio.create_task(self._start_jobs(), name="jobs:start")
        if settings.heartbeat_digest_cron:
            self._scheduler.cron(settings.heartbeat_digest_cron, self._digest, name="digest")
        # Not awaited: the timers' first runs are an interval away, and the prompt need not wait
        # for APScheduler's import.
        self._timers_start = asyncio.create_task(self._start_timers(), name="scheduler:start")

    async def _start_timers(self) -> None:
        if self._settle is not None:
            # APScheduler's import holds the GIL in its thread: after the prompt is drawn.
            self._settling = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settle(), SETTLE_MAX)
            self._settling = False
        try:
            await self._scheduler.start()
        except Exception:  # the app keeps running without its timers
            log.exception("could not start the scheduler")

    async def _start_jobs(self) -> None:
        # Catch-up runs post into chat: wait (bounded) until the platforms are connected.
        deadline = asyncio.get_running_loop().time() + 30
        adapters = self._core.adapters.values()
        while not all(getattr(a, "connected", True) for a in adapters):
            if asyncio.get_running_loop().time() > deadline:
                log.warning("starting scheduled jobs before every platform is connected")
                break
            await asyncio.sleep(0.05)
        assert self._core.jobs is not None
        try:
            await self._core.jobs.start()
        except Exception:  # the app keeps running; the jobs' timers did not all start
            log.exception("could not start the scheduled jobs")

    async def _access_sync(self) -> None:
        # The CLI (`hearth users`, `hearth pair`) writes from another process: pick it up.
        if self._core.roster is not None:
            await self._core.roster.load()
        if self._core.pairing is not None:
            await self._core.pairing.sweep()
        if self._core.jobs is not None:
            await self._core.jobs.sync()

    async def _digest(self) -> None:
        text = await self._core.heartbeat.digest()
        channel = heartbeat_channel(self._core.settings)
        adapter = self._core.adapters.get(channel.platform) if channel else None
        if adapter and channel:
            await adapter.post(channel, text)

    async def stop(self) -> None:
        if self._jobs_start is not None:
            self._jobs_start.cancel()
            await asyncio.gather(self._jobs_start, return_exceptions=True)
        if self._core.jobs is not None:
            await self._core.jobs.stop()
        if self._timers_start is not None:
            if self._settling:  # still waiting for the prompt: nothing started yet
                self._timers_start.cancel()
            # Else an import in a thread: it cannot be cancelled midway.
            await asyncio.gather(self._timers_start, return_exceptions=True)
        await self._scheduler.stop()
        await self._core.heartbeat.close()


def app_services(
    core: Core, *, settle: Callable[[], Awaitable[object]] | None = None
) -> list[Service]:
    """What the app starts after the database, in this order (and stops in reverse).

    ``settle``: what the timers wait for first (the terminal's prompt drawn, early lines
    handed over).
    """
    services: list[Service] = [
        core.outbox,  # restart notices, delivered once each platform is connected
        SchedulerService(Scheduler(clock=core.clock), core, settle=settle),
    ]
    if core.memory is not None:
        services.append(core.memory)
    if core.learner is not None:
        services.append(core.learner)  # suggested drafts end with hearth
    skill_runner = core.skills.runner if core.skills is not None else None
    if skill_runner is not None and skill_runner.pool is not None:
        # Skill children started ahead of requests; first, while nothing else runs yet.
        services.insert(0, skill_runner.pool)
    if core.settings.health_addr:
        from bot.health import HealthServer, make_health_check  # aiohttp: only when serving

        services.append(
            HealthServer(
                core.settings.health_addr,
                metrics=core.metrics,
                health=make_health_check(db=core.db, adapters=core.adapters),
            )
        )
    return services
