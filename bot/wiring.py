"""The composition root: the only place that constructs concrete objects. It builds, never decides
more than which adapters are enabled."""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TextIO

import httpx

from adapters.console import ConsoleAdapter
from bot.app import App, Service
from bot.config import Settings
from bot.health import HealthServer, make_health_check
from bot.logging import setup_logging
from core.access import AccessPolicy
from core.agent.config import AgentConfig
from core.agent.recollect import TaskMemory
from core.agent.runner import AgentRunner
from core.agent_commands import agent_commands
from core.approvals.broker import ApprovalBroker
from core.approvals.commands import approval_commands
from core.budget import Budget
from core.channel_settings import ChannelPolicy, ChannelSettings, budget_cap_usd
from core.clock import SystemClock
from core.dispatch import Dispatcher
from core.events import ChatRef
from core.heartbeat import Heartbeat, ModelDecider, OwnHealth, Prober, default_checks, load_checks
from core.heartbeat.digest import Digest, build_digest
from core.heartbeat.export import export_ticks, parse_since
from core.heartbeat_commands import heartbeat_command
from core.llm.base import LLMClient
from core.llm.ollama import OllamaClient
from core.memory import MemoryStore
from core.memory.commands import memory_commands
from core.metrics import Metrics
from core.outbox import Outbox
from core.ports import ChatAdapter, Clock
from core.redact import RedactingAdapter, Redactor
from core.schedule.approvals import TimedApprovals
from core.schedule.commands import job_commands
from core.schedule.service import JobLimits, JobService
from core.scheduler import Scheduler
from core.skills.commands import skill_commands
from core.skills.factory import SkillFactory
from core.skills.learning import Learner
from core.skills.library import SkillLibrary
from core.skills.review import SkillReview
from core.skills.runbooks import RunbookShelf
from core.skills.runner import SkillRunner
from core.skills.shortcut import SkillShortcut
from core.skills.tools import SkillTools
from core.skills.validate import DEFAULT_ALLOWED
from core.storage import MIGRATIONS, Database
from core.storage.access import AccessStore
from core.storage.approval_history import ApprovalHistory
from core.storage.approvals import ApprovalStore
from core.storage.audit import export_approvals
from core.storage.jobs import JobStore
from core.storage.kv import KVStore
from core.storage.pairing import PairingStore
from core.storage.processes import ProcessStore
from core.storage.seen import SeenEventStore
from core.storage.skills import SkillStore
from core.storage.tasks import TaskStore
from core.storage.ticks import TickStore
from core.storage.traces import TraceStore
from core.storage.usage import UsageStore
from core.taskpool import TaskLimits, TaskPool
from core.tasks import TaskContext
from core.team.approvals_view import approvals_command
from core.team.commands import access_commands, settings_command
from core.team.gate import Gate
from core.team.notify import AdminNotifier
from core.team.pairing import Pairing
from core.team.roster import Roster, task_stopper
from core.thread import Threads
from core.tools.builtin import build_tools
from core.tools.environment import scrubbed_env
from core.tools.netrisk import Resolver, system_resolve
from core.tools.registry import ToolRegistry
from core.tools.sandbox import Sandbox, default_hidden
from core.usage import UsageRecorder, UsageReporter

log = logging.getLogger(__name__)

HOUR = 3600.0
ACCESS_SYNC = 15.0  # seconds between picking up access changes made with the CLI


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


def _platform_adapters(settings: Settings) -> dict[str, ChatAdapter]:
    adapters: dict[str, ChatAdapter] = {}
    inviters = settings.allowed_users | settings.admins
    if settings.slack:
        from adapters.slack import SlackAdapter

        s = settings.slack
        adapters["slack"] = SlackAdapter(
            bot_token=s.bot_token,
            app_token=s.app_token,
            signing_secret=s.signing_secret,
            api_url=s.api_url,
            http_addr=s.http_addr,
        )
    if settings.discord:
        from adapters.discord import DiscordAdapter

        adapters["discord"] = DiscordAdapter(
            token=settings.discord.token,
            api_url=settings.discord.api_url,
            gateway_url=settings.discord.gateway_url,
        )
    if settings.matrix:
        from adapters.matrix import MatrixAdapter

        m = settings.matrix
        adapters["matrix"] = MatrixAdapter(
            homeserver=m.homeserver,
            user_id=m.user_id,
            access_token=m.access_token,
            password=m.password,
            store_dir=settings.data_dir / "matrix",
            allowed_inviters=frozenset(u for u in inviters if u.startswith("matrix:")),
            device_id=m.device_id,
            trust=m.trust,  # type: ignore[arg-type]
            accept_direct_invites=settings.pairing,
        )
    return adapters


def _heartbeat_channel(settings: Settings) -> ChatRef | None:
    return _chat(settings.heartbeat_channel)


def _chat(value: str | None) -> ChatRef | None:
    if not value:
        return None
    platform, _, channel = value.partition(":")
    return ChatRef(platform, channel)


def _roster(
    settings: Settings, db: Database, clock: Clock, extra_admins: frozenset[str] = frozenset()
) -> Roster:
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
    failures: _FailureCounter
    seen: SeenEventStore
    sandbox: Sandbox
    memory: TaskMemory | None = None
    roster: Roster | None = None
    pairing: Pairing | None = None
    jobs: JobService | None = None
    threads: Threads | None = None
    outbox: Outbox | None = None
    skills: SkillLibrary | None = None


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
    metrics = metrics or Metrics()
    db = Database(settings.db_path, MIGRATIONS)
    tasks = TaskStore(db)
    admins = settings.admins | extra_admins
    roster = _roster(settings, db, clock, extra_admins)
    threads = Threads(
        adapters, clock=clock, metrics=metrics, live=settings.stream_answers == "live"
    )
    outbox = Outbox(adapters, clock=clock)
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
        adapters, kv, admins=admins, admin_channel=_chat(settings.admin_channel), clock=clock
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

    # Built once (pydantic models and JSON schemas are costly); the task comes with each call.
    builtin_tools = build_tools(
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
            registry = with_skills[key] = builtin_tools.extended(extra)
        return learner.recording(task.task_id, registry) if learner else registry

    cloud: Callable[[], LLMClient] | None = None
    if settings.anthropic_api_key:
        key, model, url = (
            settings.anthropic_api_key,
            settings.claude_model,
            settings.anthropic_base_url,
        )

        @functools.cache
        def cloud() -> LLMClient:
            # Built on the first escalation: the SDK is a heavy import most runs never need.
            from core.llm.anthropic import AnthropicClient

            return AnthropicClient(key, model, base_url=url)

    budget = Budget(
        usage_store,
        daily_usd=settings.daily_budget_usd,
        user_daily_usd=settings.user_daily_budget_usd,
        clock=clock,
        channel_cap=channel_cap,
    )
    runner = AgentRunner(
        OllamaClient(
            settings.ollama_host,
            settings.planner_model,
            num_ctx=settings.planner_num_ctx,
            clock=clock,
        ),
        OllamaClient(
            settings.ollama_host,
            settings.executor_model,
            num_ctx=settings.executor_num_ctx,
            clock=clock,
        ),
        cloud=cloud,
        tools=tools_for,
        recorder=recorder,
        budget=budget,
        channels=channels,
        config=AgentConfig(
            workspace=settings.workspace,
            escalation_enabled=settings.escalation_enabled,
            escalation_threshold=settings.escalation_threshold,
            failure_limit=settings.escalation_failure_limit,
            subtask_timeout=settings.subtask_timeout,
            verification=settings.verification_enabled,
            compress_at=settings.context_compress_at,
        ),
        clock=clock,
        metrics=metrics,
        local_escalation=(
            OllamaClient(
                settings.ollama_host,
                settings.escalation_local_model,
                num_ctx=settings.executor_num_ctx,
                clock=clock,
            )
            if settings.escalation_local_model
            else None
        ),
        recall=task_memory.recall,
        remember=task_memory.remember,
        runbooks=RunbookShelf(skills, settings.workspace),
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

    failures = _FailureCounter(tasks, clock)

    def own_health() -> OwnHealth:
        return OwnHealth(
            adapters={n: bool(a.connected) for n, a in adapters.items()},
            queue_depth=pool.queue_depth(),
            failures_last_hour=failures.value,
        )

    checks = (
        load_checks(
            settings.heartbeat_checks,
            ollama_host=settings.ollama_host,
            models=(settings.planner_model, settings.executor_model),
        )
        if settings.heartbeat_checks
        else default_checks(
            ollama_host=settings.ollama_host,
            models=(settings.planner_model, settings.executor_model),
            data_dir=str(settings.data_dir),
        )
    )
    heartbeat = Heartbeat(
        prober=Prober(
            checks,
            workspace=settings.workspace,
            own_health=own_health,
            clock=clock,
            sandbox=sandbox,
        ),
        decider=ModelDecider(
            OllamaClient(
                settings.ollama_host,
                settings.executor_model,
                num_ctx=settings.executor_num_ctx,
                timeout=120,
                clock=clock,
            ),
            clock=clock,
        ),
        store=TickStore(db),
        clock=clock,
        workspace=settings.workspace,
        adapters=adapters,
        channel=_heartbeat_channel(settings),
        broker=broker,
        metrics=metrics,
        decide_mode=settings.heartbeat_decide,
        labelers=settings.allowed_users | admins,
        usage=recorder,
        redecide_every=settings.heartbeat_redecide_every,
        interval=settings.heartbeat_interval,
        kv=KVStore(db),
        sandbox=sandbox,
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
    )


def build_skills(
    settings: Settings, db: Database, sandbox: Sandbox | None, clock: Clock | None = None
) -> SkillLibrary:
    """The skill library: built-ins, $HEARTH_DATA_DIR/skills, SKILLS_DIRS; sandboxed runner."""
    runner = None
    if sandbox is not None:
        runner = SkillRunner(
            sandbox,
            workspace=settings.workspace,
            env=scrubbed_env(settings.child_env, settings.secrets),
            defaults={"ollama_host": settings.ollama_host},
        )
    return SkillLibrary(
        SkillStore(db),
        runner=runner,
        data_dir=settings.data_dir / "skills",
        extra_dirs=settings.skills_dirs,
        clock=clock,
        promote_after=settings.skill_promotion_threshold,
    )


def build_learner(
    settings: Settings,
    db: Database,
    skills: SkillLibrary,
    broker: ApprovalBroker,
    cloud: Callable[[], LLMClient] | None,
    recorder: UsageRecorder,
    budget: Budget,
    channels: ChannelSettings,
    clock: Clock,
) -> Learner | None:
    """The skill factory: traces, generation (cloud or local), checks, review."""
    if skills.runner is None:
        return None
    factory = SkillFactory(
        local=OllamaClient(
            settings.ollama_host,
            settings.executor_model,
            num_ctx=settings.executor_num_ctx,
            clock=clock,
        ),
        cloud=cloud,
        escalation_enabled=settings.escalation_enabled,
        recorder=recorder,
        budget=budget,
        runner=skills.runner,
        allowed_imports=settings.skill_allowed_imports or DEFAULT_ALLOWED,
        allow_subprocess=settings.skill_allow_subprocess,
    )
    embedder = OllamaClient(settings.ollama_host, settings.embed_model, num_ctx=2048, timeout=10)
    return Learner(
        factory,
        SkillReview(
            skills,
            SkillStore(db),
            broker,
            promote_after=settings.skill_promotion_threshold,
            clock=clock,
            secrets=settings.secrets,
        ),
        TraceStore(db),
        suggest_after=settings.skill_suggest_after,
        embed=embedder.embed,
        local_only=channels.is_local_only,
        library=skills,
        clock=clock,
    )


def build_sandbox(settings: Settings, ledger: ProcessStore | None = None) -> Sandbox:
    """The one Sandbox; it hides the data dir, .env files, HOME's credentials, SANDBOX_HIDE."""
    settings.workspace.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox(
        settings.tool_sandbox,
        workspace=settings.workspace,
        hide=[
            settings.data_dir,
            *settings.env_files,
            *default_hidden(settings.home),
            *settings.sandbox_hide,
        ],
        network=settings.sandbox_network,
        ledger=ledger,
    )
    if sandbox.confines:
        log.info("%s", sandbox.describe())
    else:
        log.warning("%s", sandbox.describe())
    return sandbox


def memory_store_for(settings: Settings, *, clock: Clock | None = None) -> MemoryStore:
    """The memory store under $HEARTH_DATA_DIR/memory, embedding with EMBED_MODEL."""
    return MemoryStore(
        settings.memory_dir,
        embedder=OllamaClient(
            settings.ollama_host, settings.embed_model, num_ctx=2048, timeout=30, clock=clock
        ),
        embed_model=settings.embed_model,
        redactor=Redactor(settings.secrets),
        max_entries=settings.memory_max_entries,
        ttl_days=settings.memory_ttl_days,
        clock=clock,
    )


class _FailureCounter:
    """Task failures in the last hour, refreshed by the heartbeat's scheduler job."""

    def __init__(self, tasks: TaskStore, clock: Clock) -> None:
        self._tasks = tasks
        self._clock = clock
        self.value = 0

    async def refresh(self) -> None:
        """Re-count failed tasks of the last hour."""
        self.value = await self._tasks.failures_since(self._clock.now() - HOUR)


class _SchedulerService:
    """Starts the heartbeat jobs on the scheduler; stops them before the database closes."""

    def __init__(self, scheduler: Scheduler, core: Core) -> None:
        self._scheduler = scheduler
        self._core = core
        self._jobs_start: asyncio.Task[None] | None = None

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
        await self._scheduler.start()

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
        channel = _heartbeat_channel(self._core.settings)
        adapter = self._core.adapters.get(channel.platform) if channel else None
        if adapter and channel:
            await adapter.post(channel, text)

    async def stop(self) -> None:
        if self._jobs_start is not None:
            self._jobs_start.cancel()
            await asyncio.gather(self._jobs_start, return_exceptions=True)
        if self._core.jobs is not None:
            await self._core.jobs.stop()
        await self._scheduler.stop()
        await self._core.heartbeat.close()


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
    raw: dict[str, ChatAdapter] = _platform_adapters(settings) if platforms else {}
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
        _SchedulerService(Scheduler(clock=core.clock), core),
    ]
    if core.memory is not None:
        services.append(core.memory)
    skill_runner = core.skills.runner if core.skills is not None else None
    if skill_runner is not None and skill_runner.pool is not None:
        # Skill children started ahead of requests; first, while nothing else runs yet.
        services.insert(0, skill_runner.pool)
    if settings.health_addr:
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
        threads=core.threads,
        clock=core.clock,
    )


def _loader(core: Core) -> Callable[[], Awaitable[int]]:
    async def load() -> int:
        return len(await core.roster.load()) if core.roster is not None else 0

    return load


async def heartbeat_once(settings: Settings) -> tuple[str, str]:
    """`hearth heartbeat --once`: one tick with no platform; returns (report, severity)."""
    core = build_core(settings, {})
    await core.db.start()
    try:
        result = await core.heartbeat.tick(trigger="cli")
        await core.heartbeat.drain(timeout=5)
        return result.report, result.severity
    finally:
        await core.heartbeat.close()
        await core.db.close()


async def heartbeat_digest(settings: Settings, *, since: str) -> Digest:
    """`hearth heartbeat --digest`: the digest text and PNG from stored ticks, nothing posted."""
    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        now = SystemClock().now()
        hours = max(1 / 60, (now - parse_since(since, now=now)) / 3600)
        return await build_digest(
            TickStore(db), now=now, hours=hours, interval=settings.heartbeat_interval
        )
    finally:
        await db.close()


async def skills_cli(
    settings: Settings, action: str, name: str | None, version: int | None = None
) -> tuple[str, bool]:
    """`hearth skills list|show|enable|disable|history|rollback`: (text to print, success)."""
    from core.skills.report import parse_status, terminal_history, terminal_list, terminal_show

    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        library = build_skills(settings, db, None)
        await library.load()
        if action == "list":
            return await terminal_list(library), True
        assert name is not None
        if action == "show":
            text = await terminal_show(library, name)
            return (text, True) if text else (f"no skill named {name!r}", False)
        if action == "history":
            text = await terminal_history(library, name)
            return (text, True) if text else (f"no skill named {name!r}", False)
        if action == "rollback":
            assert version is not None
            skill = await library.rollback(name, version)
            if skill is None:
                return f"{name!r} has no generated version {version}", False
            return f"{name}: now v{skill.version}", True
        status = parse_status(action)
        if not await library.set_status(name, status):
            return f"no skill named {name!r} (see `hearth skills list`)", False
        return f"{name}: {status.value}", True
    finally:
        await db.close()


async def usage_report(settings: Settings) -> str:
    """`hearth usage`: today / 7 days / all time, per provider and per user."""
    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        return await UsageReporter(UsageStore(db)).report()
    finally:
        await db.close()


async def export(
    settings: Settings, what: str, out: TextIO, *, labeled: bool, since: str | None
) -> int:
    """`hearth export ticks|tasks|approvals` as JSONL; returns the number of lines."""
    import json

    since_ts = parse_since(since, now=SystemClock().now()) if since else None
    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        since_ts = parse_since(since, now=SystemClock().now()) if since else None
        if what == "ticks":
            return await export_ticks(TickStore(db), out, labeled_only=labeled, since=since_ts)
        if what == "approvals":
            return await export_approvals(db, out, since=since_ts)
        count = 0
        for record in await TaskStore(db).recent(limit=1_000_000):
            if since_ts is not None and record.created_at < since_ts:
                continue
            out.write(
                json.dumps(
                    {
                        "id": record.id,
                        "requester": record.requester,
                        "chat": record.chat.key,
                        "goal": record.goal,
                        "status": record.status,
                        "result": record.result,
                        "created_at": record.created_at,
                        "started_at": record.started_at,
                        "finished_at": record.finished_at,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            count += 1
        return count
    finally:
        await db.close()


async def access_cli(settings: Settings, command: str, action: str, *args: str) -> str:
    """`hearth pair …` and `hearth users …` against the database; returns what to print.

    A running hearth picks the change up within ACCESS_SYNC seconds: it reloads the roster
    (stopping the tasks of anyone revoked) and tells paired users the outcome.
    """
    from core.team.subjects import parse_subject

    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        clock = SystemClock()
        roster = _roster(settings, db, clock)
        await roster.load()
        if command == "pair":
            pairing = Pairing(
                PairingStore(db),
                roster,
                AdminNotifier({}, KVStore(db), admins=frozenset()),
                {},
                clock=clock,
            )
            if action == "list":
                codes = await pairing.pending()
                return "\n".join(f"{c.code}  {c.user}  {c.display_name}" for c in codes) or (
                    "no pairing requests are waiting"
                )
            if action == "approve":
                return await pairing.approve(args[0], role=args[1], actor="cli")
            return await pairing.reject(args[0], actor="cli")
        if action == "list":
            return (
                "\n".join(
                    f"{m.user}  {m.role}  {m.source}  {m.status}  {m.display_name}".rstrip()
                    for m in roster.members()
                )
                or "nobody is allowed yet"
            )
        subject = parse_subject(args[0], platform="")
        if action == "allow":
            return await roster.allow(subject, role=args[1], actor="cli")
        return await roster.revoke(subject, actor="cli")
    finally:
        await db.close()


async def jobs_cli(settings: Settings, action: str, job_id: str | None) -> tuple[bool, str]:
    """`hearth jobs list|pause|resume|remove`; a running hearth follows within ACCESS_SYNC."""
    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        store = JobStore(db)
        if action == "list":
            lines = []
            for job in await store.live():
                runs = await store.runs(job.id, limit=1)
                last = runs[0].status if runs else "not run yet"
                lines.append(
                    f"{job.id}  {job.status}  {job.channel.platform}:{job.channel.channel_id}  "
                    f"{job.creator}  {job.describe} ({job.tz})  last: {last}  {job.task}"
                )
            return True, "\n".join(lines) or "no scheduled jobs"
        job = await store.get(job_id or "")
        if job is None or job.status not in ("active", "paused"):
            return False, f"no live job {job_id!r} (see `hearth jobs list`)"
        status = {"pause": "paused", "resume": "active", "remove": "removed"}[action]
        await store.set_status(job.id, status, "from the command line")
        return True, f"job {job.id} is {status}"
    finally:
        await db.close()


__all__ = [
    "Core",
    "access_cli",
    "build_app",
    "build_core",
    "build_sandbox",
    "configure_logging",
    "export",
    "heartbeat_once",
    "jobs_cli",
    "memory_store_for",
    "skills_cli",
    "usage_report",
]
