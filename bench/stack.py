"""The real core and agent around bench adapters, as ``hearth run`` wires them.

Mirrors tests/support/harness.py without importing it (bench ships with hearth): database,
task pool, approval broker and dispatcher, with the real AgentRunner driven by a scripted
model and one trivial tool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import BenchAdapter, ModelRequest, Script, ScriptedModel, text_turn, tool_turn
from core.access import AccessPolicy
from core.agent.config import AgentConfig
from core.agent.runner import AgentRunner
from core.agent.summary import SUMMARY_SYSTEM
from core.approvals.broker import ApprovalBroker
from core.approvals.commands import approval_commands
from core.clock import SystemClock
from core.dispatch import Dispatcher
from core.events import ChatRef, IncomingMessage, MessageRef, User
from core.llm.base import StreamEvent, TextDelta, TurnEnd, Usage
from core.metrics import Metrics
from core.ports import Capabilities
from core.redact import RedactingAdapter, Redactor
from core.storage import MIGRATIONS, Database
from core.storage.approvals import ApprovalStore
from core.storage.seen import SeenEventStore
from core.storage.tasks import TaskStore
from core.storage.usage import UsageStore
from core.taskpool import TaskLimits, TaskPool
from core.tasks import TaskRunner
from core.tools.registry import ToolRegistry, tool
from core.usage import UsageRecorder


async def ping(target: str = "hearth") -> str:
    """Answer pong: the trivial tool of the throughput benchmark.

    Args:
        target: what to ping.
    """
    return f"pong from {target}"


def is_summary(request: ModelRequest) -> bool:
    """True for the agent's final-answer (summary) call."""
    return request.system == SUMMARY_SYSTEM


def agent_script(
    *, use_tool: bool, answer: str = "All good.", steps: int = 1, summary: Sequence[str] = ()
) -> Script:
    """Planner → ``steps`` steps; executor → (one ``ping`` call, then) an answer with
    confidence; with several steps the summary call answers ``summary``."""

    def script(request: ModelRequest) -> list[StreamEvent]:
        if request.format is not None:  # the planner asks for structured output
            goal = request.messages[-1].text.removeprefix("Goal: ").splitlines()[0]
            plan = [goal] if steps == 1 else [f"{goal} (part {i + 1})" for i in range(steps)]
            return text_turn(json.dumps({"subtasks": plan}))
        if is_summary(request):
            if not summary:
                return text_turn(answer)
            usage = Usage(100, len(summary))
            end = TurnEnd("end_turn", usage=usage, text="".join(summary))
            return [*(TextDelta(t) for t in summary), end]
        last = request.messages[-1]
        if use_tool and request.tools and last.role != "tool":
            return tool_turn("ping", {"target": "bench"})
        return text_turn(f"{answer}\nCONFIDENCE: 0.9")

    return script


def build_agent(
    db: Database,
    *,
    workspace: Path,
    use_tool: bool,
    metrics: Metrics,
    model: ScriptedModel | None = None,
) -> AgentRunner:
    """The real AgentRunner with a scripted model (planner and executor) and ``ping``."""

    model = model or ScriptedModel(agent_script(use_tool=use_tool))
    return AgentRunner(
        model,
        model,
        cloud=None,
        tools=ToolRegistry([tool(ping, read_only=True)]),
        recorder=UsageRecorder(UsageStore(db), cloud_model="claude-opus-4-6", metrics=metrics),
        budget=None,
        channels=None,
        config=AgentConfig(workspace=workspace, escalation_enabled=False, verification=False),
        metrics=metrics,
    )


@dataclass
class Stack:
    """A running core: dispatcher, pool, task store, database and counters."""

    dispatcher: Dispatcher
    pool: TaskPool
    tasks: TaskStore
    db: Database
    metrics: Metrics
    adapter: RedactingAdapter  # what the core sees: the bench adapter behind the wrapper
    bench: BenchAdapter

    async def finished(self) -> int:
        """How many tasks reached a final status in the database."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM tasks WHERE status IN ('done', 'failed', 'cancelled')"
        )
        return int(row[0]) if row else 0

    async def wait_finished(self, count: int, timeout: float = 120.0) -> None:
        """Wait until ``count`` tasks are final (polling the store, as an operator would)."""
        async with asyncio.timeout(timeout):
            while await self.finished() < count:
                await asyncio.sleep(0.002)


@contextlib.asynccontextmanager
async def core_stack(
    runner_factory: Callable[[Database, Metrics], TaskRunner],
    *,
    data_dir: Path,
    users: frozenset[str],
    max_concurrent: int,
    capabilities: Capabilities | None = None,
) -> AsyncIterator[Stack]:
    """Database, task pool, approval broker and dispatcher, like ``hearth run`` wires them.

    ``runner_factory(db, metrics)`` builds the TaskRunner. The adapter is wrapped in
    RedactingAdapter as the real wiring does, so redaction is part of what is measured.
    """

    metrics = Metrics()
    bench = BenchAdapter("bench", capabilities)
    adapter = RedactingAdapter(bench, Redactor(["bench-secret-token-value"]))
    adapters = {"bench": adapter}
    db = Database(data_dir / "hearth.db", MIGRATIONS)
    await db.start()
    pool = None
    try:
        broker = ApprovalBroker(
            adapters,
            ApprovalStore(db),
            approvers=users,
            timeout=60.0,
            metrics=metrics,
            clock=SystemClock(),
        )
        tasks = TaskStore(db)
        pool = TaskPool(
            runner_factory(db, metrics),
            tasks,
            limits=TaskLimits(max_concurrent=max_concurrent, per_user=max_concurrent),
            metrics=metrics,
        )
        dispatcher = Dispatcher(
            adapters,
            pool=pool,
            tasks=tasks,
            seen=SeenEventStore(db),
            access=AccessPolicy(allowed_users=users),
            broker=broker,
            commands=approval_commands(broker),
            reaction_handlers=[broker.resolve_reaction],
            metrics=metrics,
        )
        await dispatcher.recover()
        yield Stack(dispatcher, pool, tasks, db, metrics, adapter, bench)
    finally:
        if pool is not None:
            await pool.shutdown(grace=5.0)
        await db.close()


def mention(n: int, *, round_: int = 0, text: str = "check the disk") -> IncomingMessage:
    """A top-level mention of the bot by user ``n`` in its own thread, as an adapter emits it."""
    thread = f"{round_}.{n}"
    return IncomingMessage(
        ref=MessageRef(ChatRef("bench", "C-bench", thread), thread),
        author=User("bench", f"U{n}", f"user {n}"),
        text=text,
        mentions_bot=True,
        event_id=f"ev-{round_}-{n}",
    )


def bench_users(n: int) -> frozenset[str]:
    """The qualified ids ``mention`` uses for users 0..n-1."""
    return frozenset(f"bench:U{i}" for i in range(n))
