"""Core: the parts build_core assembles, shared by the app and the one-shot commands, and the
failure count the heartbeat reads from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from core.agent.recollect import TaskMemory
    from core.approvals.broker import ApprovalBroker
    from core.dispatch import Dispatcher
    from core.heartbeat import Heartbeat
    from core.metrics import Metrics
    from core.outbox import Outbox
    from core.ports import ChatAdapter, Clock
    from core.schedule.service import JobService
    from core.skills.learning import Learner
    from core.skills.library import SkillLibrary
    from core.storage import Database
    from core.storage.seen import SeenEventStore
    from core.storage.tasks import TaskStore
    from core.taskpool import TaskPool
    from core.team.pairing import Pairing
    from core.team.roster import Roster
    from core.thread import Threads
    from core.tools.sandbox import Sandbox
    from core.usage import UsageReporter

HOUR = 3600.0


class FailureCounter:
    """Task failures in the last hour, refreshed by the heartbeat's scheduler job."""

    def __init__(self, tasks: TaskStore, clock: Clock) -> None:
        self._tasks = tasks
        self._clock = clock
        self.value = 0

    async def refresh(self) -> None:
        """Re-count failed tasks of the last hour."""
        self.value = await self._tasks.failures_since(self._clock.now() - HOUR)


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

    def recoveries(self) -> list[Callable[[], Awaitable[int]]]:
        """What the app puts right at start, in order, before anything runs."""
        steps: list[Callable[[], Awaitable[int]]] = [self.sandbox.recover]
        if self.skills is not None:
            steps.append(self.skills.load)
        return [*steps, self.dispatcher.recover, self.broker.recover, self._load_roster]

    async def _load_roster(self) -> int:
        return len(await self.roster.load()) if self.roster is not None else 0
