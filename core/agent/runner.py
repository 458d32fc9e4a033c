"""AgentRunner: the TaskRunner behind every task — plan, execute, verify, escalate, summarise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from core.agent.config import AgentConfig
from core.agent.metered import Meter, MeteredLLM
from core.agent.parts import AgentParts, CloudFactory, Recall, Runbooks, ToolsFactory
from core.agent.recollect import TaskEnd
from core.agent.task_run import TaskRun, final_status, plural_commands
from core.budget import Budget
from core.channel_settings import ChannelSettings
from core.clock import SystemClock
from core.errors import TaskFailed
from core.llm.base import LLMClient, Usage
from core.metrics import Metrics
from core.ports import Clock
from core.tasks import TaskContext
from core.tools.base import ToolRunner
from core.usage import UsageRecorder

log = logging.getLogger(__name__)

Remember = Callable[[TaskContext, TaskEnd], None]  # schedules the task's memory note

__all__ = ["AgentRunner", "CloudFactory", "Recall", "Remember", "Runbooks", "ToolsFactory"]


class AgentRunner:
    """Implements core.tasks.TaskRunner: one task from goal to a streamed answer."""

    def __init__(
        self,
        planner_llm: LLMClient,
        executor_llm: LLMClient,
        *,
        cloud: CloudFactory | None,
        tools: ToolRunner | ToolsFactory,
        recorder: UsageRecorder,
        budget: Budget | None,
        channels: ChannelSettings | None,
        config: AgentConfig,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        recall: Recall | None = None,
        local_escalation: LLMClient | None = None,
        remember: Remember | None = None,
        runbooks: Runbooks | None = None,
    ) -> None:
        self._parts = AgentParts(
            planner_llm=planner_llm,
            executor_llm=executor_llm,
            cloud=cloud,
            tools=tools,
            recorder=recorder,
            budget=budget,
            config=config,
            clock=clock or SystemClock(),
            metrics=metrics or Metrics(),
            recall=recall,
            local_escalation=local_escalation,
            runbooks=runbooks,
        )
        self._channels = channels
        self._remember = remember

    async def run(self, task: TaskContext) -> str:
        """Plan, run every step (escalating when needed), stream the answer; return a summary."""
        thread = task.thread
        card = thread.card(task.goal)
        try:
            await card.start()  # first: the thread shows the task is taken before anything else
        except asyncio.CancelledError:
            card.close_soon(f"⏹ {(thread.stop_note or 'Stopped.').rstrip('.')}")
            raise
        local_only = task.local_only
        if not local_only and self._channels is not None:
            try:
                local_only = await self._channels.is_local_only(task.chat)
            except BaseException:
                await card.close("❌ Failed")  # the pool posts why as the last line
                raise

        async def on_usage(provider: str, model: str, usage: Usage, cost: float) -> None:
            who = "local" if cost == 0 else "Claude"
            card.add_usage(who, usage.prompt_tokens + usage.completion_tokens, cost)

        meter = Meter(
            self._parts.recorder,
            self._parts.budget,
            task.task_id,
            task.requester.qualified,
            on_usage,
            self._parts.config.cloud_max_tokens,
            channel=task.chat,
            purpose_prefix="scheduled:" if task.origin.startswith("job:") else "",
        )
        run = TaskRun(self._parts, task, card, meter, local_only)
        try:
            outcomes = await run.steps()
            await run.answer(outcomes)
            task.slot.free()  # what is left is posting: the next task may work meanwhile
        except asyncio.CancelledError:
            self._ended(run, "cancelled")
            note = thread.stop_note or "Stopped."
            await asyncio.shield(run.abort(f"⏹ {note}"))
            await card.close(f"⏹ {note.rstrip('.')}")
            raise
        except BaseException as exc:
            self._ended(run, "failed", error=f"{type(exc).__name__}: {exc}")
            await run.abort("⚠️ Response interrupted.")
            await card.close("❌ Failed")  # the pool posts why as the last line
            raise
        failed = sum(not o.ok for o in outcomes)
        self._ended(run, "failed" if failed == len(outcomes) else "done")
        escalated = sum(o.by.startswith("Claude") for o in outcomes)
        # The card's last edit is delivered by the thread's pacer (drained at shutdown): the
        # task's slot is not held for the pace between edits.
        card.close_soon(*final_status(outcomes))
        await run.post_budget_warnings()
        line = f"{len(outcomes) - failed}/{len(outcomes)} steps done"
        if escalated:
            line += f", {escalated} by Claude"
        denied = sum(o.denied for o in outcomes)
        if denied:
            line += f", {plural_commands(denied)} not approved"
        if failed == len(outcomes):
            raise TaskFailed(line)  # the thread already shows why; the task is stored as failed
        return line

    def _ended(self, run: TaskRun, status: str, *, error: str = "") -> None:
        # Every way a task ends leaves a memory note; cancelled ones by rules only.
        if self._remember is None:
            return
        llm = None
        if status != "cancelled":
            llm = MeteredLLM(self._parts.executor_llm, run.meter, purpose="memory")
        end = TaskEnd(
            status=status,
            outcomes=tuple(run.outcomes),
            memos=tuple(run.memos),
            error=error,
            llm=llm,
        )
        try:
            self._remember(run.task, end)
        except Exception:
            log.exception("could not schedule the memory note of %s", run.task.task_id)
