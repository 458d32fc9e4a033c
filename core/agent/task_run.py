"""TaskRun: the state and steps of one agent task while it runs (plan, attempts, escalation)."""

from __future__ import annotations

import asyncio
import logging

from core.agent.escalation import (
    Attempt,
    Trigger,
    cloud_blocked_reason,
    local_error_trigger,
    timeout_trigger,
    trigger_for,
    verifier_trigger,
)
from core.agent.executor import Executor
from core.agent.live import LiveAnswer
from core.agent.local_escalation import bigger_local
from core.agent.metered import Meter, MeteredLLM
from core.agent.parts import AgentParts
from core.agent.planner import Planner
from core.agent.summary import StepOutcome, Summarizer, plain_answer
from core.agent.verifier import Verifier
from core.errors import BudgetExceeded, LLMError, PlatformError
from core.llm.base import LLMClient
from core.llm.prices import cost_usd
from core.progress import ProgressCard, StepState
from core.storage.usage import EscalationRow
from core.tasks import TaskContext
from core.tools.base import ToolContext

log = logging.getLogger(__name__)


def plural_commands(n: int) -> str:
    return f"{n} command was" if n == 1 else f"{n} commands were"


def _short(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def final_status(outcomes: list[StepOutcome]) -> tuple[str, str]:
    """The card's honest status and detail line: what happened, not just that it ended.

    Why a task failed is its last message (the answer says it), so the card does not repeat it.
    """
    failed = [o for o in outcomes if not o.ok]
    denied = sum(o.denied for o in outcomes)
    if outcomes and len(failed) == len(outcomes):
        return "❌ Failed", ""
    if failed:
        return "⚠️ Finished with problems", f"⚠️ {len(failed)} of {len(outcomes)} steps failed."
    if denied:
        return f"⚠️ Done, {plural_commands(denied)} not approved", ""
    return "✅ Done", ""


class TaskRun:
    """The state of one task while it runs (kept off AgentRunner so tasks never share it)."""

    def __init__(
        self,
        parts: AgentParts,
        task: TaskContext,
        card: ProgressCard,
        meter: Meter,
        local_only: bool,
    ) -> None:
        self.parts = parts
        self.task = task
        self.card = card
        self.meter = meter
        self.local_only = local_only
        self.tools = parts.tools_for(task)
        self.ctx = ToolContext(
            task_id=task.task_id,
            chat=task.chat,
            requester=task.requester,
            workspace=parts.config.workspace,
            unattended=task.origin.startswith("job:"),
            tell=task.thread.say,
        )
        self.memos: list[str] = []
        self.memories: list[str] = []  # recalled memory, quoted, for planner and executor
        self.outcomes: list[StepOutcome] = []  # so far: a cancelled task's note uses them
        self.live_mode = False  # the answer streams as the model writes it (one-step plans)
        self.live: LiveAnswer | None = None  # the current attempt's live answer
        self.cloud_labels: dict[int, str] = {}  # step -> "Claude: tokens, $" for the card
        self.instructions = ""  # the chosen runbook's text, for every executor attempt

    async def say(self, text: str) -> None:
        """Post a short note in the task's thread (escalations, retries, budget)."""
        await self.task.thread.say(text)

    async def retire(self, note: str) -> None:
        """The answer shown for the last attempt is not kept: say so where it stands."""
        live, self.live = self.live, None
        if live is not None:
            await live.replace(note)

    async def abort(self, tail: str) -> None:
        """End a live answer cut short by a stop or an error."""
        live, self.live = self.live, None
        if live is not None:
            try:
                await live.abort(tail)
            except PlatformError as exc:
                log.warning("could not end the answer in %s: %s", self.task.chat.key, exc)

    async def answer(self, outcomes: list[StepOutcome]) -> None:
        """Seal the live answer, or stream the answer (a summary for several steps)."""
        live, self.live = self.live, None
        if live is not None and len(outcomes) == 1 and outcomes[0].ok:
            self.task.slot.free()  # the answer is written: only its delivery is left
            await live.finish(plain_answer(outcomes))
            return
        if live is not None:
            await live.replace("↪️ Replaced: this answer was not kept; see below.")
        summarizer = Summarizer(MeteredLLM(self.parts.executor_llm, self.meter, purpose="summary"))
        async with self.task.thread.stream() as out:
            await summarizer.write(self.task.goal, outcomes, out)

    async def steps(self) -> list[StepOutcome]:
        """Plan, then run each step in order."""
        memories: list[str] = []
        if self.parts.recall is not None:
            try:
                memories = self.memories = await self.parts.recall(self.task)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("memory recall failed; planning without it")
        runbooks = await self.parts.runbooks.index() if self.parts.runbooks is not None else []
        planner = Planner(
            MeteredLLM(self.parts.planner_llm, self.meter, purpose="plan"),
            max_steps=self.parts.config.max_subtasks,
            runbooks=runbooks,
        )
        self.card.set_activity("planning")
        plan = await planner.plan(self.task.goal, memories=memories)
        if planner.runbook is not None and self.parts.runbooks is not None:
            self.instructions = await self.parts.runbooks.instructions(planner.runbook)
        self.card.set_plan(plan)
        # Multi-step plans stream their summary; a one-step plan streams the step itself.
        self.live_mode = self.task.thread.live and len(plan) == 1
        outcomes = self.outcomes
        for i, subtask in enumerate(plan):
            self.card.step(i, StepState.RUNNING, "local")
            outcome = await self.step(i, subtask, plan, outcomes)
            outcomes.append(outcome)
            label = "local"
            if outcome.by.startswith("Claude"):
                label = self.cloud_labels.get(i, "Claude")
            elif outcome.by.startswith("↗"):
                label = outcome.by  # the bigger local model finished it
            state = StepState.DONE if outcome.ok else StepState.FAILED
            if outcome.ok and outcome.denied:
                state = StepState.WARNED  # an action it needed was not approved
            self.card.step(i, state, label)
        return outcomes

    def _earlier(self, outcomes: list[StepOutcome]) -> list[str]:
        return [f"{o.subtask}: {' '.join(o.answer.split())[:300]}" for o in outcomes if o.ok]

    async def attempt(
        self,
        llm: LLMClient,
        subtask: str,
        outcomes: list[StepOutcome],
        *,
        feedback: str | None = None,
    ) -> Attempt:
        """One executor run under SUBTASK_TIMEOUT; model failures become triggers."""
        cfg = self.parts.config
        await self.retire("↪️ Replaced: this answer was not kept; a new one follows below.")
        self.live = LiveAnswer(self.task.thread) if self.live_mode else None
        ex = Executor(
            llm,
            self.tools,
            config=cfg,
            on_activity=self.card.set_activity,
            memos=self.memos,
            live=self.live,
            instructions=self.instructions,
        )
        try:
            async with asyncio.timeout(cfg.subtask_timeout):
                result = await ex.run(
                    subtask,
                    goal=self.task.goal,
                    ctx=self.ctx,
                    steering=self.task.take_steering,
                    earlier=self._earlier(outcomes),
                    feedback=feedback,
                    recalled=self.memories,
                )
        except TimeoutError:
            return Attempt(None, timeout_trigger(cfg.subtask_timeout), ex)
        except LLMError as exc:
            return Attempt(None, local_error_trigger(str(exc)), ex)
        finally:
            self.memos = list(ex.watchdog.memos)
        return Attempt(result, trigger_for(result, cfg), ex)

    async def step(
        self, i: int, subtask: str, plan: list[str], outcomes: list[StepOutcome]
    ) -> StepOutcome:
        """Run one step locally; verify; retry once on FAIL; escalate when a trigger fires."""
        cfg = self.parts.config
        local = MeteredLLM(self.parts.executor_llm, self.meter, purpose="execute")
        att = await self.attempt(local, subtask, outcomes)
        if att.result is not None and att.trigger is None and cfg.verification:
            att = await self._verified(i, subtask, att, local, outcomes)
        if att.trigger is None and att.result is not None:
            return att.finished(subtask, f"local ({local.model})")
        assert att.trigger is not None
        if self.parts.local_escalation is not None and cfg.escalation_enabled:
            bigger = await bigger_local(
                self, self.parts.local_escalation, i, subtask, att.trigger, earlier=outcomes
            )
            if bigger is not None:
                return bigger
        return await self.escalate(i, subtask, att, outcomes)

    async def _verified(
        self, i: int, subtask: str, att: Attempt, local: LLMClient, outcomes: list[StepOutcome]
    ) -> Attempt:
        assert att.result is not None
        if not att.result.files_written:
            return att
        verifier = Verifier(
            MeteredLLM(self.parts.executor_llm, self.meter, purpose="verify"), self.tools
        )
        self.card.set_activity("verifying the files written")
        verdict = await verifier.verify(
            subtask, att.result.answer, att.result.files_written, self.ctx
        )
        if verdict.passed:
            return att
        await self.retire(
            f"↪️ Replaced: the verifier rejected this answer ({_short(verdict.reason)}); "
            "a new one follows below."
        )
        await self.say(
            f"🔁 Step {i + 1}: the verifier rejected the result ({verdict.reason}); "
            "retrying once with that feedback."
        )
        retry = await self.attempt(local, subtask, outcomes, feedback=verdict.reason)
        if retry.result is None or retry.trigger is not None or not retry.result.files_written:
            return retry
        again = await verifier.verify(
            subtask, retry.result.answer, retry.result.files_written, self.ctx
        )
        if again.passed:
            return retry
        return Attempt(retry.result, verifier_trigger(again.reason), retry.executor)

    def _tried(self, att: Attempt, model: str) -> str:
        res = att.result
        rounds = f"{res.rounds} rounds, " if res else ""
        tools = att.executor.tool_log[-6:]
        if res is None and not tools:  # e.g. the model server is down: nothing was tried
            return f"{model}, which gave no answer, so nothing ran"
        tool_text = "; ".join(tools) if tools else "no tool calls"
        return f"{model}: {rounds}{tool_text}"

    async def escalate(
        self, i: int, subtask: str, local_att: Attempt, outcomes: list[StepOutcome]
    ) -> StepOutcome:
        """Re-run the step with Claude when allowed; otherwise fail honestly."""
        trigger = local_att.trigger
        assert trigger is not None
        cfg = self.parts.config
        self.parts.metrics.inc("hearth_escalations_total", trigger=trigger.name)
        local_model = self.parts.executor_llm.model
        tried = self._tried(local_att, f"local model {local_model}")
        blocked = cloud_blocked_reason(
            cfg, has_cloud=self.parts.cloud is not None, local_only=self.local_only
        )
        if blocked is not None:
            await self.retire(f"↪️ Replaced: not kept ({_short(trigger.detail)}).")
            await self.record_escalation(trigger, "-", "disabled", 0, 0, 0.0)
            failure = (
                f"could not be completed by the local model ({trigger.detail}), and {blocked}. "
                f"Tried: {tried}."
            )
            # Not said here as well: the answer explains every failed step, once.
            return StepOutcome(subtask=subtask, ok=False, answer="", by="local", failure=failure)
        assert self.parts.cloud is not None
        cloud = MeteredLLM(self.parts.cloud(), self.meter, purpose="escalate")
        self.card.step(i, StepState.RUNNING, "Claude")
        await self.retire(
            f"↪️ Replaced: escalated to Claude ({_short(trigger.detail)}); "
            "the new answer follows below."
        )
        await self.say(f"↗ Escalating step {i + 1} to Claude ({cloud.model}): {trigger.detail}")
        try:
            att = await self.attempt(cloud, subtask, outcomes)
        except BudgetExceeded as exc:
            await self.record_escalation(trigger, cloud.model, "blocked", 0, 0, 0.0)
            failure = (
                f"could not be completed by the local model ({trigger.detail}), and Claude was "
                f"not called: {exc}. Tried: {tried}."
            )
            await self.say(f"💸 Step {i + 1}: not calling Claude — {exc}")
            return StepOutcome(subtask=subtask, ok=False, answer="", by="local", failure=failure)
        ex = att.executor
        tokens = ex.prompt_tokens + ex.completion_tokens
        cost = cost_usd(cloud.provider, cloud.model, ex.prompt_tokens, ex.completion_tokens)
        if att.result is not None and att.trigger is None:
            await self.record_escalation(
                trigger, cloud.model, "done", ex.prompt_tokens, ex.completion_tokens, cost
            )
            done = f"Claude: {tokens:,} tokens, ${cost:.4f}"
            if self.live is not None and self.live.started:
                # The answer is already standing in the thread: a note now would come after it.
                self.cloud_labels[i] = done
            else:
                await self.say(f"✓ Claude finished step {i + 1}: {tokens:,} tokens, ${cost:.4f}")
            return att.finished(subtask, f"Claude ({cloud.model})")
        why = att.trigger.detail if att.trigger else "no result"
        await self.record_escalation(
            trigger, cloud.model, "failed", ex.prompt_tokens, ex.completion_tokens, cost
        )
        failure = (
            f"could not be completed: the local model failed ({trigger.detail}) and Claude "
            f"failed too ({why}). Tried: {tried}; then {self._tried(att, 'Claude')}."
        )
        await self.say(
            f"✗ Claude could not finish step {i + 1} either ({why}): {tokens:,} tokens, "
            f"${cost:.4f}"
        )
        return StepOutcome(subtask=subtask, ok=False, answer="", by="Claude", failure=failure)

    async def record_escalation(
        self, trigger: Trigger, model: str, outcome: str, p: int, c: int, cost: float
    ) -> None:
        await self.parts.recorder.record_escalation(
            EscalationRow(
                at=self.parts.clock.now(),
                task_id=self.task.task_id,
                user=self.task.requester.qualified,
                trigger=trigger.name,
                detail=trigger.detail,
                model=model,
                outcome=outcome,
                prompt_tokens=p,
                completion_tokens=c,
                cost_usd=cost,
            )
        )

    async def post_budget_warnings(self) -> None:
        """Tell the thread when spend crossed 50/75/90 % of a cap."""
        if self.parts.budget is None:
            return
        for warning in await self.parts.budget.warnings(self.task.requester.qualified):
            await self.say(warning)
