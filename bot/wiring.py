"""The composition root: the only place that constructs concrete objects. It builds, never decides
more than which adapters are enabled."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.agent import build_budget, build_runner, cloud_factory
from bot.app import App
from bot.chat_commands import chat_commands
from bot.config import Settings
from bot.core_parts import Core, FailureCounter
from bot.heartbeat import build_heartbeat, own_health_of
from bot.logging import configure_logging
from bot.memory_store import memory_store_for
from bot.platforms import platform_adapters, terminal_adapter
from bot.sandboxing import build_sandbox
from bot.services import app_services, build_jobs
from bot.skill_library import build_learner, build_skills
from bot.team import build_roster, build_team
from bot.toolbox import Toolbox
from core.access import AccessPolicy
from core.agent.recollect import TaskMemory
from core.approvals.broker import ApprovalBroker
from core.channel_settings import ChannelPolicy, ChannelSettings
from core.clock import SystemClock
from core.dispatch import Dispatcher
from core.llm.ollama import import_sdk
from core.metrics import Metrics
from core.outbox import Outbox
from core.ports import ChatAdapter, Clock
from core.redact import RedactingAdapter, Redactor
from core.skills import matching
from core.skills.shortcut import SkillShortcut
from core.storage import MIGRATIONS, Database
from core.storage.approvals import ApprovalStore
from core.storage.kv import KVStore
from core.storage.outbox import OutboxStore
from core.storage.processes import ProcessStore
from core.storage.seen import SeenEventStore
from core.storage.tasks import TaskStore
from core.storage.usage import UsageStore
from core.taskpool import TaskLimits, TaskPool
from core.team.roster import task_stopper
from core.thread import ANSWER_HOLD, Threads
from core.tools import risk
from core.tools.netrisk import Resolver, system_resolve
from core.tools.risk import bashparse
from core.usage import UsageRecorder, UsageReporter

if TYPE_CHECKING:
    import httpx

    from adapters.console import ConsoleAdapter

log = logging.getLogger(__name__)


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
    team = build_team(
        settings, db, kv, adapters, roster=roster, policy=policy, admins=admins, clock=clock
    )

    sandbox = build_sandbox(settings, ProcessStore(KVStore(db), clock))
    skills = build_skills(settings, db, sandbox, clock)

    toolbox = Toolbox(
        settings,
        broker=broker,
        sandbox=sandbox,
        skills=skills,
        http_transport=http_transport,
        resolve=resolve,
    )
    cloud = cloud_factory(settings)
    budget = build_budget(settings, usage_store, policy, clock)
    runner = build_runner(
        settings,
        cloud=cloud,
        tools=toolbox.for_task,
        recorder=recorder,
        budget=budget,
        channels=channels,
        clock=clock,
        metrics=metrics,
        memory=task_memory,
        skills=skills,
    )
    learner = build_learner(settings, db, skills, broker, cloud, recorder, budget, channels, clock)
    toolbox.learner = learner
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
    jobs = build_jobs(
        settings,
        db,
        pool,
        tasks,
        adapters,
        roster=roster,
        tell_admins=team.notifier.tell_admins,
        threads=threads,
        clock=clock,
    )
    failures = FailureCounter(tasks, clock)
    heartbeat = build_heartbeat(
        settings,
        db,
        own_health=own_health_of(adapters, pool, failures),
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
        commands=chat_commands(
            settings,
            db,
            broker=broker,
            reporter=reporter,
            channels=channels,
            policy=policy,
            heartbeat=heartbeat,
            memory=memory_store,
            roster=roster,
            pairing=team.pairing,
            jobs=jobs,
            gate=team.gate,
            skills=skills,
            clock=clock,
        ),
        reaction_handlers=[broker.resolve_reaction, heartbeat.on_reaction],
        threads=threads,
        outbox=outbox,
        clock=clock,
        metrics=metrics,
        gate=team.gate,
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
        pairing=team.pairing,
        jobs=jobs,
        memory=task_memory,
        threads=threads,
        outbox=outbox,
        skills=skills,
        learner=learner,
        # What the first task needs, prepared in a thread once the app is up.
        warmups=[toolbox.builtin, import_sdk, bashparse.load, matching.warm, risk.warm],
    )


def build_app(
    settings: Settings,
    *,
    console: bool,
    platforms: bool = True,
    terminal: ConsoleAdapter | None = None,
    clock: Clock | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    resolve: Resolver = system_resolve,
) -> App:
    """The whole process: platforms (or the terminal chat), core, scheduler, health server.

    ``terminal``: the terminal chat, already showing its prompt (built here when None).
    """
    users = settings.admins | settings.allowed_users
    if settings.platforms and not any(u.split(":")[0] in settings.platforms for u in users):
        log.warning(
            "no ADMINS or ALLOWED_USERS on %s: everyone there will be refused",
            ", ".join(settings.platforms),
        )
    redactor = Redactor(settings.secrets)
    raw: dict[str, ChatAdapter] = platform_adapters(settings) if platforms else {}
    extra_admins: frozenset[str] = frozenset()
    term = (terminal or terminal_adapter(settings)) if console else None
    if term is not None:
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
    if term is not None:
        term.watch_tasks(lambda: {t.chat.key for t in core.pool.active()})
    settle = term.settled if term is not None else None
    return App(
        db=core.db,
        adapters=adapters,
        dispatcher=core.dispatcher,
        pool=core.pool,
        services=app_services(core, settle=settle),
        recoveries=core.recoveries(),
        finite=frozenset({"console"}) if term is not None else frozenset(),
        warmups=core.warmups,
        settle=settle,
        threads=core.threads,
        clock=core.clock,
    )


__all__ = [
    "Core",
    "build_app",
    "build_core",
    "build_roster",
    "configure_logging",
]
