"""Agent benchmark: tokens sent per task with and without the context watchdog.

A scripted model with a fixed token rate (4 characters per token; 400 prompt tokens/s and
20 completion tokens/s, like a 3B model on a small GPU) runs a 30-round task: every round reads
one more file of ~1,600 characters. The naive loop (watchdog off) sends the whole history
every round and overflows ``num_ctx``; the watchdog compresses old rounds into a recap and
keeps every prompt under ``num_ctx``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.agent.config import AgentConfig
from core.agent.executor import Executor
from core.events import ChatRef, User
from core.llm.base import (
    Message,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    TurnEnd,
    Usage,
)
from core.tools.base import PreparedCall, ToolContext

CHARS_PER_TOKEN = 4
PROMPT_TOKENS_PER_S = 400.0
COMPLETION_TOKENS_PER_S = 20.0
NO_WATCHDOG = 1000.0  # compress_at so high the watchdog never fires


def _tokens(messages: Sequence[Message], system: str, tools: Sequence[ToolSpec]) -> int:
    chars = len(system) + sum(
        len(m.text)
        + sum(len(json.dumps(c.arguments)) + len(c.name) for c in m.tool_calls)
        + sum(len(r.output) for r in m.tool_results)
        for m in messages
    )
    chars += sum(len(json.dumps(t.parameters)) + len(t.description) for t in tools)
    return chars // CHARS_PER_TOKEN


@dataclass
class _Model:
    """Reads file N in round N, then answers; counts tokens like a server would."""

    rounds: int
    num_ctx: int
    provider: str = "scripted"
    model: str = "bench-3b"
    calls: int = 0

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str = "",
        tools: Sequence[ToolSpec] = (),
        format: dict[str, Any] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """One scripted turn with server-like token counts."""
        self.calls += 1
        prompt = _tokens(messages, system, tools)
        if self.calls <= self.rounds:
            call = ToolCall(f"c{self.calls}", "read_file", {"path": f"logs/part{self.calls}.txt"})
            yield TurnEnd("tool_use", (call,), Usage(prompt, 20), "")
            return
        answer = "All 30 parts read; no errors found.\nCONFIDENCE: 0.8"
        yield TextDelta(answer)
        yield TurnEnd("end_turn", (), Usage(prompt, len(answer) // CHARS_PER_TOKEN), answer)


class _Files:
    """A read-only tool runner returning ~1,600 characters per file."""

    def __init__(self, size: int) -> None:
        self._size = size

    def specs(self) -> Sequence[ToolSpec]:
        """Only read_file."""
        return [
            ToolSpec(
                "read_file",
                "Read a file",
                {"type": "object", "properties": {"path": {"type": "string"}}},
            )
        ]

    def is_read_only(self, name: str) -> bool:
        """Every tool here is read-only."""
        return True

    async def prepare(self, call: ToolCall) -> PreparedCall:
        """Every call is low risk and may run in parallel."""
        return PreparedCall(call, dict(call.arguments), parallel=True)

    async def run(self, call: ToolCall | PreparedCall, ctx: ToolContext) -> ToolResult:
        """A log excerpt of the configured size."""
        if isinstance(call, PreparedCall):
            call = call.call
        line = f"{call.arguments['path']}: 2026-01-01T00:00:00 INFO request served in 12ms\n"
        body = (line * (self._size // len(line) + 1))[: self._size]
        return ToolResult(call.id, call.name, body)


async def _one(rounds: int, num_ctx: int, size: int, compress_at: float) -> list[str]:
    model = _Model(rounds=rounds, num_ctx=num_ctx)
    config = AgentConfig(compress_at=compress_at, max_rounds=rounds + 5, read_only_cap=rounds + 5)
    ex = Executor(model, _Files(size), config=config)
    ctx = ToolContext(
        task_id="bench",
        chat=ChatRef("bench", "c"),
        requester=User("bench", "u"),
        workspace=Path("."),
    )
    result = await ex.run("read every log part", goal="check the logs", ctx=ctx)
    sizes = ex.prompt_sizes
    over = sum(s > num_ctx for s in sizes)
    seconds = result.prompt_tokens / PROMPT_TOKENS_PER_S + (
        result.completion_tokens / COMPLETION_TOKENS_PER_S
    )
    label = "naive loop" if compress_at >= NO_WATCHDOG else f"watchdog @ {compress_at:g}"
    return [
        label,
        str(len(sizes)),
        f"{num_ctx:,}",
        f"{sum(sizes):,}",
        f"{max(sizes):,}",
        str(over),
        str(result.compressions),
        f"{seconds:,.0f}",
    ]


def run(smoke: bool = False) -> tuple[list[str], list[list[str]]]:
    """Both loops on the same scripted task; returns (headers, rows)."""
    rounds, num_ctx, size = (8, 2048, 1600) if smoke else (30, 8192, 1600)
    headers = [
        "loop",
        "model calls",
        "num_ctx",
        "prompt tokens sent",
        "largest prompt",
        "prompts > num_ctx",
        "compressions",
        "model time s (simulated)",
    ]
    rows = [
        asyncio.run(_one(rounds, num_ctx, size, NO_WATCHDOG)),
        asyncio.run(_one(rounds, num_ctx, size, 0.7)),
    ]
    return headers, rows


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(*run()))
