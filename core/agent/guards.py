"""Executor guards: per-tool caps, identical-call dedup, circuit breaker.

Never-ending commands are a risk rule (core.tools.risk.endless): the tool registry judges them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core.llm.base import ToolCall, ToolResult


def call_key(call: ToolCall) -> str:
    """Identity of a call for dedup: name plus canonical JSON of its arguments."""
    return f"{call.name}:{json.dumps(call.arguments, sort_keys=True, default=str)}"


@dataclass
class ToolCaps:
    """Per-tool-name call caps for one subtask; read-only tools get the higher cap."""

    tool_cap: int
    read_only_cap: int
    counts: Counter[str] = field(default_factory=Counter)

    def admit(self, name: str, *, read_only: bool) -> str | None:
        """Count the call, or return why it is refused (cap reached)."""
        cap = self.read_only_cap if read_only else self.tool_cap
        if self.counts[name] >= cap:
            return (
                f"refused: `{name}` was already called {cap} times in this step (the cap); "
                "use what you have and give your answer"
            )
        self.counts[name] += 1
        return None


@dataclass
class CallDedup:
    """Remembers results of calls already made so an identical call is not run again."""

    seen: dict[str, ToolResult] = field(default_factory=dict)

    def earlier(self, call: ToolCall) -> ToolResult | None:
        """The result of an identical earlier call, if any."""
        return self.seen.get(call_key(call))

    def remember(self, call: ToolCall, result: ToolResult) -> None:
        """Store the result of a call that really ran."""
        self.seen[call_key(call)] = result


@dataclass
class CircuitBreaker:
    """Counts tool failures; after ``limit`` cumulative failures the model must commit."""

    limit: int
    failures: int = 0
    streak: int = 0
    max_streak: int = 0

    def record(self, failed: bool) -> None:
        """Count one tool result."""
        if failed:
            self.failures += 1
            self.streak += 1
            self.max_streak = max(self.max_streak, self.streak)
        else:
            self.streak = 0

    @property
    def tripped(self) -> bool:
        """True once the cumulative failures reach the limit."""
        return self.failures >= self.limit


def refusal_result(call: ToolCall, why: str) -> ToolResult:
    """An error result for a call the executor refused to run."""
    return ToolResult(call.id, call.name, why, is_error=True)


def short_args(arguments: dict[str, Any], limit: int = 60) -> str:
    """Arguments as a short one-liner for progress lines and recaps."""
    text = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in arguments.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"
