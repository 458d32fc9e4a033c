"""Executor: one subtask's tool loop, hardened for small local models.

Each round: inject steering, let the watchdog fit the context, call the model, take native tool
calls (or recover them from text), pass every call through the guards (never-ending commands,
per-tool caps, identical-call dedup), run low-risk calls of the round concurrently, append
results with error hints. After too many failures (circuit breaker) or rounds, the model is
told to commit to a final answer without tools. The answer's confidence is parsed and clamped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.agent.confidence import (
    assess,
    failure_signals,
    is_refusal,
    parse_confidence,
)
from core.agent.config import AgentConfig
from core.agent.context import ContextWatchdog, message_chars
from core.agent.draft import DraftView
from core.agent.guards import CircuitBreaker, short_args
from core.agent.rounds import ToolRounds
from core.agent.step_prompts import COMMIT_NOW, EXECUTOR_SYSTEM, MEMO, first_prompt
from core.llm.base import LLMClient, Message, TextDelta, ToolSpec, TurnEnd
from core.llm.toolcalls import recover_tool_calls
from core.tools.base import ToolContext, ToolRunner

log = logging.getLogger(__name__)

PREVIEW_EVERY = 120  # characters of new answer text between two progress-card updates
PREVIEW_CHARS = 400  # the end of the answer a preview is made from

WRITE_TOOLS = frozenset({"write_file", "edit_file", "append_file"})
NOT_RUN = "Not run:"  # how a tool result starts when an approval was denied or expired

ActivityListener = Callable[[str], None]


class LiveSink(Protocol):
    """Where the model's text goes while it is written (the live answer)."""

    def delta(self, text: str) -> None:
        """More text of the current round."""

    def end_round(self, *, answer: bool) -> None:
        """The round ended: with the answer, or with tool calls (its text was narration)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubtaskResult:
    """What one executor attempt produced."""

    answer: str  # the final answer without the CONFIDENCE line
    confidence: float
    stated_confidence: float | None
    rounds: int
    tool_calls: int
    tool_failures: int
    failure_streak: int  # the longest run of failed tool calls in a row
    breaker_tripped: bool
    hit_round_limit: bool
    refused: bool
    signals: tuple[str, ...]  # hard-failure signals seen in tool output
    files_written: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: int
    peak_prompt_tokens: int
    compressions: int
    provider: str
    model: str
    denied: int = 0  # tool calls not run because their approval was denied or expired


class Executor:
    """One attempt at one subtask with one model; read ``tool_log`` after a timeout."""

    def __init__(
        self,
        llm: LLMClient,
        tools: ToolRunner,
        *,
        config: AgentConfig,
        on_activity: ActivityListener | None = None,
        memos: Sequence[str] = (),
        live: LiveSink | None = None,
        instructions: str = "",
    ) -> None:
        self._llm = llm
        self._live = live
        # A chosen runbook's instructions ride in the system prompt for every round.
        self._system = EXECUTOR_SYSTEM + (f"\n\n{instructions}" if instructions else "")
        self._tools = tools
        self._config = config
        self._on_activity = on_activity
        self.watchdog = ContextWatchdog(
            num_ctx=llm.num_ctx,
            compress_at=config.compress_at,
            keep_recent_rounds=config.keep_recent_rounds,
        )
        for memo in memos:
            self.watchdog.pin(memo)
        self.tool_log: list[str] = []  # "read_file(path="a") → ok" lines, for honest reports
        self.prompt_sizes: list[int] = []  # server prompt tokens per call (bench, tests)
        self.prompt_tokens = 0  # running totals, readable after a timeout
        self.completion_tokens = 0
        self.denied = 0

    def _activity(self, text: str) -> None:
        if self._on_activity is not None:
            self._on_activity(text)

    async def run(
        self,
        subtask: str,
        *,
        goal: str,
        ctx: ToolContext,
        steering: Callable[[], list[str]] = list,
        earlier: Sequence[str] = (),
        feedback: str | None = None,
        recalled: Sequence[str] = (),
    ) -> SubtaskResult:
        """Work on ``subtask`` until the model answers without tool calls (or is made to)."""
        cfg = self._config
        specs = list(self._tools.specs())
        names = {s.name for s in specs}
        tool_rounds = ToolRounds(self._tools, config=cfg, activity=self._activity)
        breaker = CircuitBreaker(cfg.breaker_failures)
        outputs: list[str] = []
        files: list[str] = []
        messages: list[Message] = [
            Message("user", first_prompt(goal, subtask, earlier, feedback, recalled))
        ]
        prompt_tokens = completion_tokens = peak = tool_calls = 0
        rounds = 0
        forced: str | None = None  # why the model must answer without tools now
        answer_text = ""
        hit_limit = False
        while True:
            for said in steering():
                messages.append(Message("user", f"user says: {said}"))
            if forced is None and rounds >= cfg.max_rounds:
                hit_limit = True
                forced = f"the step reached its limit of {cfg.max_rounds} rounds"
                messages.append(Message("user", COMMIT_NOW.format(why=forced)))
            # Tools stay declared even when the model must answer (the history holds tool
            # blocks, which Anthropic only accepts with tools declared); calls are ignored.
            offered: Sequence[ToolSpec] = specs
            system = self.watchdog.system_with_memos(self._system)
            messages = self.watchdog.fit(messages, system, offered)
            chars = message_chars(messages, system, offered)
            rounds += 1
            self._activity(f"thinking (round {rounds})")
            text, end = await self._call(messages, system, offered)
            prompt_tokens += end.usage.prompt_tokens
            completion_tokens += end.usage.completion_tokens
            self.prompt_tokens, self.completion_tokens = prompt_tokens, completion_tokens
            peak = max(peak, end.usage.prompt_tokens)
            self.prompt_sizes.append(end.usage.prompt_tokens)
            self._calibrate(end.usage.prompt_tokens, chars)
            for memo in MEMO.findall(text):
                self.watchdog.pin(memo)
            calls = list(end.tool_calls)
            recovered = False
            if not calls and not forced:
                calls = recover_tool_calls(text, names)
                recovered = bool(calls)
            if self._live is not None:
                self._live.end_round(answer=bool(forced or not calls))
            if forced or not calls:
                answer_text = text
                break
            if recovered:
                log.info("recovered %d tool call(s) from %s text", len(calls), self._llm.model)
            # A recovered call's JSON is not an answer: keep only the calls in the history.
            messages.append(Message("assistant", "" if recovered else text, tuple(calls)))
            results = await tool_rounds.run(calls, ctx)
            tool_calls += len(calls)
            for call, result in zip(calls, results, strict=True):
                counted = not result.output.startswith("(identical call")
                if counted:
                    breaker.record(result.is_error)
                outputs.append(result.output)
                status = "FAILED" if result.is_error else "ok"
                if result.is_error and result.output.startswith(NOT_RUN):
                    self.denied += 1
                    status = "NOT APPROVED"
                self.tool_log.append(f"{call.name}({short_args(call.arguments)}) → {status}")
                if call.name in WRITE_TOOLS and not result.is_error:
                    path = call.arguments.get("path")
                    if isinstance(path, str) and path not in files:
                        files.append(path)
            messages.append(Message("tool", tool_results=tuple(results)))
            if breaker.tripped and forced is None:
                forced = f"{breaker.failures} tool calls failed"
                messages.append(Message("user", COMMIT_NOW.format(why=forced)))
        answer, stated = parse_confidence(MEMO.sub("", answer_text))
        signals = tuple(failure_signals(outputs))
        confidence = assess(
            stated,
            answer=answer,
            signals=signals,
            default=cfg.default_confidence,
            clamp=cfg.failure_confidence,
        )
        return SubtaskResult(
            answer=answer,
            confidence=confidence,
            stated_confidence=stated,
            rounds=rounds,
            tool_calls=tool_calls,
            tool_failures=breaker.failures,
            failure_streak=breaker.max_streak,
            breaker_tripped=breaker.tripped,
            hit_round_limit=hit_limit,
            refused=is_refusal(answer),
            signals=signals,
            files_written=tuple(files),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            peak_prompt_tokens=peak,
            compressions=self.watchdog.compressions,
            provider=self._llm.provider,
            model=self._llm.model,
            denied=self.denied,
        )

    def _calibrate(self, prompt_tokens: int, chars: int) -> None:
        # Ollama may report fewer prompt tokens when its KV cache is reused; only trust
        # plausible ratios (1.5–8 characters per token).
        if chars > 0 and 1 / 8 <= prompt_tokens / chars <= 1 / 1.5:
            self.watchdog.observe(prompt_tokens, chars)

    async def _call(
        self, messages: Sequence[Message], system: str, tools: Sequence[ToolSpec]
    ) -> tuple[str, TurnEnd]:
        parts: list[str] = []
        end: TurnEnd | None = None
        written = shown = 0  # a running count: the work per chunk never grows with the answer
        draft = DraftView()
        async for event in self._llm.stream(messages, system=system, tools=tools):
            if isinstance(event, TextDelta):
                parts.append(event.text)
                if self._live is not None:
                    self._live.delta(event.text)
                    continue
                draft.feed(event.text)
                written += len(event.text)
                if written - shown >= PREVIEW_EVERY:
                    # Without a live answer the card shows it being written, so a slow local
                    # model never looks stuck; notes meant for hearth are never shown.
                    shown = written
                    self._activity(f"✍️ writing: …{_preview(draft.tail(PREVIEW_CHARS))}")
            elif isinstance(event, TurnEnd):
                end = event
        if end is None:
            end = TurnEnd(text="".join(parts))
        return end.text or "".join(parts), end


def _preview(text: str, width: int = 80) -> str:
    """The last ``width`` characters of ``text`` on one line."""
    return " ".join(text.split())[-width:]
