"""The composition root: the only place that constructs concrete objects. It builds, never decides
more than which adapters are enabled."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from adapters.console import ConsoleAdapter
from bot.agent import build_runner, cloud_factory
from bot.app import App, Service
from bot.config import Settings
from bot.heartbeat import build_heartbeat
from bot.logging import setup_logging
from bot.memory_store import memory_store_for
from bot.platforms import platform_adapters
from bot.sandboxing import build_sandbox
from bot.services import FailureCounter, SchedulerService, chat_ref
from bot.skill_library import build_learner, build_skills
from core.access import AccessPolicy
from core.agent.recollect import TaskMemory
from core.agent_commands import agent_commands
from core.approvals.broker import ApprovalBroker
from core.approvals.commands import approval_commands
from core.budget import Budget
from core.channel_settings import ChannelPolicy, ChannelSettings, budget_cap_usd
from core.clock import SystemClock
from core.dispatch import Dispatcher
from core.events import ChatRef
from core.heartbeat import Heartbeat, OwnHealth
from core.heartbeat_commands import heartbeat_command
from core.llm.ollama import import_sdk
from core.memory.commands import memory_commands
from core.metrics import Metrics
from core.outbox import Outbox
from core.ports import ChatAdapter, Clock
from core.redact import RedactingAdapter, Redactor
from core.schedule.approvals import TimedApprovals
from core.schedule.commands import job_commands
from core.schedule.service import JobLimits, JobService
from core.scheduler import Scheduler
from core.skills import matching
from core.skills.commands import skill_commands
from core.skills.library import SkillLibrary
from core.skills.shortcut import SkillShortcut
from core.skills.tools import SkillTools
from core.storage import MIGRATIONS, Database
from core.storage.access import AccessStore
from core.storage.approval_history import ApprovalHistory
from core.storage.approvals import ApprovalStore
from core.storage.jobs import JobStore
from core.storage.kv import KVStore
from core.storage.outbox import OutboxStore
from core.storage.pairing import PairingStore
from core.storage.processes import ProcessStore
from core.storage.seen import SeenEventStore
from core.storage.tasks import TaskStore
from core.storage.usage import UsageStore
from core.taskpool import TaskLimits, TaskPool
from core.tasks import TaskContext
from core.team.approvals_view import approvals_command
from core.team.commands import access_commands, settings_command
from core.team.gate import Gate
from core.team.notify import AdminNotifier
from core.team.pairing import Pairing
from core.team.roster import Roster, task_stopper
from core.thread import ANSWER_HOLD, Threads
from core.tools import risk
from core.tools.builtin import build_tools
from core.tools.netrisk import Resolver, system_resolve
from core.tools.registry import ToolRegistry
from core.tools.risk import bashparse
from core.tools.sandbox import Sandbox
from core.usage import UsageRecorder, UsageReporter

if TYPE_CHECKING:
    import httpx

    from core.skills.learning import Learner

log = logging.getLogger(__name__)


def configure_logging(settings: Settings, *, console: bool) -> None:
    """Logs to stderr; in the terminal chat, to a file so they don't mix with the conversation."""
    redactor = Redactor(settings.secrets)
    if console:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        stream: TextIO = (settings.data_dir / "hearth.log").open("a", encoding="utf-8")
    else:
        stream = sys.stderr
    setup_logging(
        level=settings.log_level, fmt=settings.log_format, redactor=redactor, stream=stream
    )


def build_roster(
    settings: Settings, db: Database, clock: Clock, extra_admins: frozenset[str] = frozenset()
) -> Roster:
    """Who may use hearth: the configured lists and the stored grants."""
    return Roster(
        AccessStore(db),
        allowed_users=settings.allowed_users,
        admins=settings.admins | extra_admins,
        approvers=settings.effective_approvers | extra_admins,
        clock=clock,
    )


@dataclass
class Core:
    """Everything the app and the one-shot commands share."""

    settings: Settings
    clock: Clock
    metrics: Metrics
    db: Database
    adapters: dict[str, ChatAdapter]
    broker: ApprovalBroker
    pool: TaskPool
    tasks: TaskStore
    heartbeat: Heartbeat
    usage: UsageReporter
    dispatcher: Dispatcher
    failures: FailureCounter
    seen: SeenEventStore
    sandbox: Sandbox
    memory: TaskMemory | None = None
    roster: Roster | None = None
    pairing: Pairing | None = None
    jobs: JobService | None = None
    threads: Threads | None = None
    outbox: Outbox | None = None
    skills: SkillLibrary | None = None
    learner: Learner | None = None
    warmups: list[Callable[[], object]] = field(default_factory=list)


def build_core(
    settings: Settings,
    adapters: dict[str, ChatAdapter],
    *,
    extra_admins: frozenset[str] = frozenset(),
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    resolve: Resolver = system_resolve,
) -> Core:
    """Construct the core around ``adapters`` (already wrapped for redaction).

    ``http_transport`` and ``resolve`` stand in for the network in tests.
    """
    clock = clock or SystemClock()
    bashparse.cache_in(settings.data_dir / "cache")  # the shell parser's tables, built once
    metrics = metrics or Metrics()
    db = Database(settings.db_path, MIGRATIONS)
    tasks = TaskStore(db)
    admins = settings.admins | extra_admins
    roster = build_roster(settings, db, clock, extra_admins)
    outbox = Outbox(adapters, store=OutboxStore(db), clock=clock)
    threads = Threads(
        adapters,
        clock=clock,
        metrics=metrics,
        live=settings.stream_answers == "live",
        hold=ANSWER_HOLD,
        outbox=outbox,  # final edits shutdown could not send are shown after the restart
    )
    broker = ApprovalBroker(
        adapters,
        ApprovalStore(db),
        approvers=roster.approvers,
        timeout=settings.approval_timeout,
        clock=clock,
        metrics=metrics,
        secrets=settings.secrets,
        threads=threads,
        outbox=outbox,
    )
    usage_store = UsageStore(db)
    recorder = UsageRecorder(
        usage_store, cloud_model=settings.claude_model, clock=clock, metrics=metrics
    )
    kv = KVStore(db)
    channels = ChannelSettings(kv, clock=clock)
    memory_store = memory_store_for(settings, clock=clock)
    task_memory = TaskMemory(memory_store)
    policy = ChannelPolicy(kv, clock=clock)
    notifier = AdminNotifier(
        adapters, kv, admins=admins, admin_channel=chat_ref(settings.admin_channel), clock=clock
    )
    pairing = (
        Pairing(PairingStore(db), roster, notifier, adapters, clock=clock)
        if settings.pairing
        else None
    )

    sandbox = build_sandbox(settings, ProcessStore(KVStore(db), clock))
    skills = build_skills(settings, db, sandbox, clock)

    async def channel_cap(chat: ChatRef) -> float | None:
        return budget_cap_usd(await policy.budget_share(chat), settings.daily_budget_usd)

    # Built once, for the first task (pydantic models and JSON schemas are costly, and the
    # prompt need not wait for them); the task comes with each call.
    @functools.cache
    def builtin_tools() -> ToolRegistry:
        return build_tools(
            workspace=settings.workspace,
            broker=broker,
            secrets=settings.secrets,
            base_env=settings.child_env,
            shell_timeout=settings.subtask_timeout,
            http_transport=http_transport,
            resolve=resolve,
            sandbox=sandbox,
            # A scheduled run's approvals wait SCHEDULE_APPROVAL_TIMEOUT (nobody may be watching).
            unattended_broker=TimedApprovals(broker, settings.schedule_approval_timeout),
        )

    offered_skills = SkillTools(skills)
    with_skills: dict[tuple[int, ...], ToolRegistry] = {}

    def tools_for(task: TaskContext):
        extra = offered_skills.current()
        key = tuple(map(id, extra))  # SkillTools keeps each tool alive while it is offered
        registry = with_skills.get(key)
        if registry is None:  # a skill never shadows a built-in tool
            with_skills.clear()
            registry = with_skills[key] = builtin_tools().extended(extra)
        return learner.recording(task.task_id, registry) if learner else registry

    cloud = cloud_factory(settings)
    budget = Budget(
        usage_store,
        daily_usd=settings.daily_budget_usd,
        user_daily_usd=settings.user_daily_budget_usd,
        clock=clock,
        channel_cap=channel_cap,
    )
    runner = build_runner(
        settings,
        cloud=cloud,
        tools=tools_for,
        recorder=recorder,
        budget=budget,
        channels=channels,
        clock=clock,
        metrics=metrics,
        memory=task_memory,
        skills=skills,
    )
    learner = build_learner(settings, db, skills, broker, cloud, recorder, budget, channels, clock)
    pool = TaskPool(
        SkillShortcut(
            skills,
            runner,
            threshold=settings.skill_match_threshold,
            metrics=metrics,
            learner=learner,
        ),
        tasks,
        limits=TaskLimits(settings.max_concurrent_tasks, settings.max_tasks_per_user),
        clock=clock,
        metrics=metrics,
    )
    roster.on_lost_access(task_stopper(pool))
    jobs = JobService(
        JobStore(db),
        pool,
        tasks,
        adapters,
        allowed=roster.allows,
        tell_admins=notifier.tell_admins,
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

    gate = Gate(roster, pairing=pairing, notifier=notifier, policy=policy)

    async def timezone_of(chat: ChatRef) -> str:
        return await policy.timezone(chat, settings.schedule_tz)

    failures = FailureCounter(tasks, clock)

    def own_health() -> OwnHealth:
        return OwnHealth(
            adapters={n: bool(a.connected) for n, a in adapters.items()},
            queue_depth=pool.queue_depth(),
            failures_last_hour=failures.value,
        )

    heartbeat = build_heartbeat(
        settings,
        db,
        own_health=own_health,
        sandbox=sandbox,
        adapters=adapters,
        broker=broker,
        metrics=metrics,
        recorder=recorder,
        labelers=settings.allowed_users | admins,
        clock=clock,
    )
    reporter = UsageReporter(usage_store, clock=clock)
    seen = SeenEventStore(db)
    dispatcher = Dispatcher(
        adapters,
        pool=pool,
        tasks=tasks,
        seen=seen,
        access=AccessPolicy(allowed_users=settings.allowed_users, admins=admins),
        broker=broker,
        commands=[
            *approval_commands(broker),
            *agent_commands(reporter, channels),
            heartbeat_command(heartbeat),
            *memory_commands(memory_store),
            *access_commands(roster, pairing),
            settings_command(
                channels,
                policy,
                daily_budget_usd=settings.daily_budget_usd,
                default_tz=settings.schedule_tz,
            ),
            *job_commands(jobs, timezone_of, may_start=gate.may_start, clock=clock),
            approvals_command(ApprovalHistory(db), clock=clock),
            *skill_commands(skills),
        ],
        reaction_handlers=[broker.resolve_reaction, heartbeat.on_reaction],
        threads=threads,
        outbox=outbox,
        clock=clock,
        metrics=metrics,
        gate=gate,
    )
    return Core(
        settings,
        clock,
        metrics,
        db,
        adapters,
        broker,
        pool,
        tasks,
        heartbeat,
        reporter,
        dispatcher,
        failures,
        seen,
        sandbox,
        roster=roster,
        pairing=pairing,
        jobs=jobs,
        memory=task_memory,
        threads=threads,
        outbox=outbox,
        skills=skills,
        learner=learner,
        # What the first task needs, prepared in a thread once the app is up.
        warmups=[builtin_tools, import_sdk, bashparse.load, matching.warm, risk.warm],
    )


def build_app(
    settings: Settings,
    *,
    console: bool,
    platforms: bool = True,
    clock: Clock | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    resolve: Resolver = system_resolve,
) -> App:
    """The whole process: platforms (or the terminal chat), core, scheduler, health server."""
    users = settings.admins | settings.allowed_users
    if settings.platforms and not any(u.split(":")[0] in settings.platforms for u in users):
        log.warning(
            "no ADMINS or ALLOWED_USERS on %s: everyone there will be refused",
            ", ".join(settings.platforms),
        )
    redactor = Redactor(settings.secrets)
    raw: dict[str, ChatAdapter] = platform_adapters(settings) if platforms else {}
    extra_admins: frozenset[str] = frozenset()
    if console:
        term = ConsoleAdapter(
            history=settings.data_dir / "chat_history", files_dir=settings.data_dir / "files"
        )
        raw["console"] = term
        # The person at the terminal runs the process: they own it, so they are its admin.
        extra_admins = frozenset({term.user.qualified})
    adapters: dict[str, ChatAdapter] = {n: RedactingAdapter(a, redactor) for n, a in raw.items()}
    core = build_core(
        settings,
        adapters,
        extra_admins=extra_admins,
        clock=clock,
        http_transport=http_transport,
        resolve=resolve,
    )
    if console:
        term.watch_tasks(lambda: {t.chat.key for t in core.pool.active()})
    services: list[Service] = [
        core.outbox,  # restart notices, delivered once each platform is connected
        SchedulerService(
            Scheduler(clock=core.clock), core, settle=term.shown if console else None
        ),
    ]
    if core.memory is not None:
        services.append(core.memory)
    if core.learner is not None:
        services.append(core.learner)  # suggested drafts end with hearth
    skill_runner = core.skills.runner if core.skills is not None else None
    if skill_runner is not None and skill_runner.pool is not None:
        # Skill children started ahead of requests; first, while nothing else runs yet.
        services.insert(0, skill_runner.pool)
    if settings.health_addr:
        from bot.health import HealthServer, make_health_check  # aiohttp: only when serving

        services.append(
            HealthServer(
                settings.health_addr,
                metrics=core.metrics,
                health=make_health_check(db=core.db, adapters=adapters),
            )
        )
    return App(
        db=core.db,
        adapters=adapters,
        dispatcher=core.dispatcher,
        pool=core.pool,
        services=services,
        recoveries=[
            core.sandbox.recover,
            core.skills.load,
            core.dispatcher.recover,
            core.broker.recover,
            _loader(core),
        ],
        finite=frozenset({"console"}) if console else frozenset(),
        warmups=core.warmups,
        settle=term.shown if console else None,
        threads=core.threads,
        clock=core.clock,
    )


def _loader(core: Core) -> Callable[[], Awaitable[int]]:
    async def load() -> int:
        return len(await core.roster.load()) if core.roster is not None else 0

    return load


__all__ = [
    "Core",
    "build_app",
    "build_core",
    "build_roster",
    "configure_logging",
]
