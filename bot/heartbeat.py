"""The heartbeat (probes, model decider, reports), as hearth builds it from Settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.services import heartbeat_channel
from core.approvals.broker import ApprovalBroker
from core.heartbeat import Heartbeat, ModelDecider, OwnHealth, Prober, default_checks, load_checks
from core.llm.ollama import OllamaClient
from core.metrics import Metrics
from core.ports import ChatAdapter, Clock
from core.storage import Database
from core.storage.kv import KVStore
from core.storage.ticks import TickStore
from core.tools.sandbox import Sandbox
from core.usage import UsageRecorder

if TYPE_CHECKING:
    from bot.core_parts import FailureCounter
    from core.taskpool import TaskPool


def build_heartbeat(
    settings: Settings,
    db: Database,
    *,
    own_health: Callable[[], OwnHealth],
    sandbox: Sandbox,
    adapters: Mapping[str, ChatAdapter],
    broker: ApprovalBroker,
    metrics: Metrics,
    recorder: UsageRecorder,
    labelers: frozenset[str],
    clock: Clock,
) -> Heartbeat:
    """The heartbeat with HEARTBEAT_CHECKS (or the default checks) and its model decider."""
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
    return Heartbeat(
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
        channel=heartbeat_channel(settings),
        broker=broker,
        metrics=metrics,
        decide_mode=settings.heartbeat_decide,
        labelers=labelers,
        usage=recorder,
        redecide_every=settings.heartbeat_redecide_every,
        interval=settings.heartbeat_interval,
        kv=KVStore(db),
        sandbox=sandbox,
    )


def own_health_of(
    adapters: Mapping[str, ChatAdapter], pool: TaskPool, failures: FailureCounter
) -> Callable[[], OwnHealth]:
    """hearth's own health as the heartbeat sees it: connections, queue, recent failures."""

    def own_health() -> OwnHealth:
        return OwnHealth(
            adapters={n: bool(a.connected) for n, a in adapters.items()},
            queue_depth=pool.queue_depth(),
            failures_last_hour=failures.value,
        )

    return own_health
