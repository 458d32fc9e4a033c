"""A real core (database, dispatcher, task pool, approval broker) for end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from core.access import AccessPolicy
from core.approvals.broker import ApprovalBroker
from core.approvals.commands import approval_commands
from core.clock import SystemClock
from core.commands import Command
from core.dispatch import Dispatcher
from core.metrics import Metrics
from core.ports import ChatAdapter, Clock
from core.storage import MIGRATIONS, Database
from core.storage.approvals import ApprovalStore
from core.storage.seen import SeenEventStore
from core.storage.tasks import TaskStore
from core.taskpool import TaskLimits, TaskPool
from core.tasks import TaskContext, TaskRunner


class StreamingRunner:
    """A TaskRunner that streams fixed chunks into the task's thread through the renderer."""

    def __init__(
        self, chunks: Sequence[str], *, clock: Clock | None = None, metrics: Metrics | None = None
    ) -> None:
        self.chunks = list(chunks)
        self.clock = clock
        self.metrics = metrics
        self.seen: list[TaskContext] = []

    async def run(self, task: TaskContext) -> str:
        """Stream the chunks, yielding between them so edits interleave realistically."""
        self.seen.append(task)
        async with task.thread.stream() as out:
            for chunk in self.chunks:
                out.append(chunk)
                await (self.clock or SystemClock()).sleep(0)
        return "".join(self.chunks)


class ApprovalRunner:
    """A TaskRunner that asks for approval of ``command`` and reports the outcome."""

    def __init__(self, broker: ApprovalBroker, command: str, cwd: str = "/workspace") -> None:
        self.broker = broker
        self.command = command
        self.cwd = cwd
        self.outcomes: list[object] = []

    async def run(self, task: TaskContext) -> str:
        """Request approval, then post what was decided."""
        outcome = await self.broker.request(
            chat=task.chat,
            command=self.command,
            cwd=self.cwd,
            task_id=task.task_id,
            requester=task.requester,
        )
        self.outcomes.append(outcome)
        verdict = "approved" if outcome.approved else f"not run ({outcome.reason or 'denied'})"
        await task.thread.say(f"`{self.command}`: {verdict}")
        return verdict


@dataclass
class Harness:
    """What an end-to-end test gets."""

    db: Database
    dispatcher: Dispatcher
    pool: TaskPool
    tasks: TaskStore
    broker: ApprovalBroker
    approvals: ApprovalStore
    metrics: Metrics


@asynccontextmanager
async def core_harness(
    adapters: Mapping[str, ChatAdapter],
    runner: TaskRunner | None = None,
    *,
    db_path: Path | str,
    allowed_users: frozenset[str] = frozenset(),
    admins: frozenset[str] = frozenset(),
    approvers: frozenset[str] = frozenset(),
    approval_timeout: float = 1800.0,
    limits: TaskLimits | None = None,
    commands: Sequence[Command] = (),
    clock: Clock | None = None,
) -> AsyncIterator[Harness]:
    """Build the real core around ``adapters``; ``runner`` defaults to a short streamed answer.

    ``runner`` may also be a callable taking the broker (for runners that need approvals).
    """
    clock = clock or SystemClock()
    metrics = Metrics()
    db = Database(db_path, MIGRATIONS)
    await db.start()
    pool: TaskPool | None = None
    try:
        approvals = ApprovalStore(db)
        broker = ApprovalBroker(
            adapters,
            approvals,
            approvers=approvers or admins,
            timeout=approval_timeout,
            clock=clock,
            metrics=metrics,
        )
        if callable(runner) and not hasattr(runner, "run"):
            runner = runner(broker)
        tasks = TaskStore(db)
        pool = TaskPool(
            runner or StreamingRunner(["Hello", " from", " hearth."]),
            tasks,
            limits=limits or TaskLimits(),
            clock=clock,
            metrics=metrics,
        )
        dispatcher = Dispatcher(
            adapters,
            pool=pool,
            tasks=tasks,
            seen=SeenEventStore(db),
            access=AccessPolicy(allowed_users=allowed_users, admins=admins),
            broker=broker,
            commands=[*approval_commands(broker), *commands],
            reaction_handlers=[broker.resolve_reaction],
            clock=clock,
            metrics=metrics,
        )
        await dispatcher.recover()
        await broker.recover()
        yield Harness(db, dispatcher, pool, tasks, broker, approvals, metrics)
    finally:
        if pool is not None:
            await pool.shutdown(grace=0.5)
        await db.close()
