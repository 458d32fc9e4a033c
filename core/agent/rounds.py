"""ToolRounds: the tool calls of each round of one step, guarded, then run.

Repeats are skipped (in the round, and earlier in the step: the earlier result is shown),
blocked and over-cap calls are refused before they run, and consecutive low-risk calls run
together; anything else runs alone, in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from core.agent.config import AgentConfig
from core.agent.guards import CallDedup, ToolCaps, call_key, refusal_result
from core.agent.hints import with_hint
from core.llm.base import ToolCall, ToolResult
from core.tools.base import PreparedCall, ToolContext, ToolRunner

log = logging.getLogger(__name__)


@dataclass
class _RoundPlan:
    """The calls of one round with what to do for each."""

    calls: list[ToolCall]
    results: dict[int, ToolResult] = field(default_factory=dict)  # decided without running
    runnable: list[int] = field(default_factory=list)
    prepared: dict[int, PreparedCall] = field(default_factory=dict)  # judged once, run as is


class ToolRounds:
    """Runs the rounds of one step; its caps and its memory of calls last for the step."""

    def __init__(
        self, tools: ToolRunner, *, config: AgentConfig, activity: Callable[[str], None]
    ) -> None:
        self._tools = tools
        self._caps = ToolCaps(config.tool_cap, config.read_only_cap)
        self._dedup = CallDedup()
        self._max_result_chars = config.max_result_chars
        self._activity = activity

    async def run(self, calls: list[ToolCall], ctx: ToolContext) -> list[ToolResult]:
        """One result per call, in the calls' order."""
        plan = await self._plan(calls)
        # Consecutive low-risk calls run together; anything else runs alone, in order, so a
        # write is never reordered around the reads that follow it.
        batch: list[int] = []
        for i in plan.runnable:
            if plan.prepared[i].parallel:
                batch.append(i)
                continue
            await self._run_batch(batch, plan, ctx)
            batch = []
            await self._run_batch([i], plan, ctx)
        await self._run_batch(batch, plan, ctx)
        return [plan.results[i] for i in range(len(calls))]

    async def _plan(self, calls: list[ToolCall]) -> _RoundPlan:
        plan = _RoundPlan(calls)
        keys_this_round: set[str] = set()
        for i, call in enumerate(calls):
            key = call_key(call)
            if key in keys_this_round:
                plan.results[i] = ToolResult(
                    call.id, call.name, "(identical call already made in this round; skipped)"
                )
                continue
            keys_this_round.add(key)
            earlier = self._dedup.earlier(call)
            if earlier is not None:
                plan.results[i] = ToolResult(
                    call.id,
                    call.name,
                    "(identical call already made earlier in this step; not run again. "
                    f"Its result was:)\n{earlier.output}",
                    earlier.is_error,
                )
                continue
            prepared = await self._tools.prepare(call)
            if prepared.error is None and prepared.risk.blocked:
                # Refused before it counts against a cap: never-ending and destructive commands.
                why = "; ".join(prepared.risk.reasons)
                plan.results[i] = refusal_result(call, f"refused: {why}")
                continue
            plan.prepared[i] = prepared
            why = self._caps.admit(call.name, read_only=self._tools.is_read_only(call.name))
            if why is not None:
                plan.results[i] = refusal_result(call, why)
                continue
            plan.runnable.append(i)
        return plan

    async def _run_batch(self, batch: list[int], plan: _RoundPlan, ctx: ToolContext) -> None:
        if not batch:
            return
        self._activity(", ".join(f"{plan.calls[i].name}" for i in batch))
        outs = await asyncio.gather(*(self._run_one(plan.prepared[i], ctx) for i in batch))
        for i, result in zip(batch, outs, strict=True):
            self._dedup.remember(plan.calls[i], result)
            plan.results[i] = result

    async def _run_one(self, prepared: PreparedCall, ctx: ToolContext) -> ToolResult:
        call = prepared.call
        try:
            result = await self._tools.run(prepared, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken tool must not end the task
            log.exception("tool %s raised", call.name)
            result = ToolResult(call.id, call.name, f"error: the tool crashed: {exc}", True)
        output = result.output
        limit = self._max_result_chars
        if len(output) > limit:
            output = output[:limit] + f"\n…[{len(output) - limit} more chars not shown]"
        if result.is_error:
            output = with_hint(output)
        return ToolResult(call.id, call.name, output, result.is_error)
