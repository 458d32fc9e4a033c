"""ScriptedLLM (replays scripted model turns, records what it was sent) and FakeTools."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import LLMError
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
from core.tools.risk import LOW, Risk, classify

HANG = object()  # a scripted turn that never answers (for timeouts)


async def collect(stream: AsyncIterator[StreamEvent]) -> tuple[list[str], TurnEnd]:
    """Drain one model stream: the text deltas in order, and its single TurnEnd."""
    deltas: list[str] = []
    end: TurnEnd | None = None
    async for event in stream:
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            end = event
    assert end is not None, "the stream ended without a TurnEnd"
    return deltas, end


def estimate_tokens(messages: Sequence[Message], system: str, tools: Sequence[ToolSpec]) -> int:
    """About four characters per token, like a server-side count would roughly be."""
    chars = len(system)
    for m in messages:
        chars += len(m.text) + 8
        chars += sum(len(c.name) + len(json.dumps(c.arguments)) for c in m.tool_calls)
        chars += sum(len(r.output) + len(r.name) for r in m.tool_results)
    chars += sum(len(t.name) + len(t.description) + len(json.dumps(t.parameters)) for t in tools)
    return max(1, chars // 4)


@dataclass(frozen=True, slots=True)
class Turn:
    """One scripted model turn: text and/or tool calls, optional token counts."""

    text: str = ""
    calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    chunks: int = 3


def text(
    body: str, *, prompt_tokens: int | None = None, completion_tokens: int | None = None
) -> Turn:
    """A turn that answers with ``body``."""
    return Turn(body, (), prompt_tokens, completion_tokens)


def calls(*items: tuple[str, dict[str, Any]], say: str = "") -> Turn:
    """A turn with native tool calls."""
    return Turn(say, tuple((n, dict(a)) for n, a in items))


@dataclass
class Seen:
    """What one stream() call was given."""

    messages: list[Message]
    system: str
    tools: list[ToolSpec]
    format: dict[str, Any] | None
    prompt_tokens: int


ScriptItem = Turn | BaseException | object | Callable[[Seen], Turn]


class ScriptedLLM:
    """Implements core.llm.base.LLMClient by replaying scripted turns in order.

    A script item is a ``Turn``, an exception instance (raised), ``HANG`` (never answers), or a
    callable receiving the ``Seen`` request and returning a Turn. When the script runs out the
    ``fallback`` text is answered, or LLMError raised when there is none.
    """

    def __init__(
        self,
        *script: ScriptItem,
        provider: str = "scripted",
        model: str = "scripted-model",
        num_ctx: int = 16384,
        fallback: str | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.num_ctx = num_ctx
        self.script: list[ScriptItem] = list(script)
        self.fallback = fallback
        self.seen: list[Seen] = []

    def add(self, *items: ScriptItem) -> None:
        """Append more scripted turns."""
        self.script.extend(items)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str = "",
        tools: Sequence[ToolSpec] = (),
        format: dict[str, Any] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Replay the next scripted turn."""
        seen = Seen(
            list(messages), system, list(tools), format, estimate_tokens(messages, system, tools)
        )
        self.seen.append(seen)
        if self.script:
            item = self.script.pop(0)
        elif self.fallback is not None:
            item = Turn(self.fallback)
        else:
            raise LLMError(f"{self.model}: script exhausted")
        if item is HANG:
            await asyncio.Event().wait()
        if isinstance(item, BaseException):
            raise item
        if callable(item) and not isinstance(item, Turn):
            item = item(seen)
        assert isinstance(item, Turn), f"bad script item {item!r}"
        body = item.text
        if body:
            size = max(1, -(-len(body) // max(1, item.chunks)))
            for i in range(0, len(body), size):
                yield TextDelta(body[i : i + size])
        tool_calls = tuple(
            ToolCall(f"{self.model}-call-{len(self.seen)}-{i}", n, a)
            for i, (n, a) in enumerate(item.calls)
        )
        usage = Usage(
            prompt_tokens=item.prompt_tokens
            if item.prompt_tokens is not None
            else seen.prompt_tokens,
            completion_tokens=(
                item.completion_tokens
                if item.completion_tokens is not None
                else max(1, len(body) // 4 + 8 * len(tool_calls))
            ),
            duration_s=0.01,
        )
        yield TurnEnd("tool_use" if tool_calls else "end_turn", tool_calls, usage, body)

    @property
    def calls_made(self) -> int:
        """How many times stream() was called."""
        return len(self.seen)


Handler = str | BaseException | Callable[[dict[str, Any]], Any]

DEFAULT_READ_ONLY = frozenset({"read_file", "list_dir"})


class FakeTools:
    """A recording ToolRunner; each tool's answer is a string, an exception or a function.

    A function may return a string, a ToolResult, or an awaitable of either; exceptions from it
    become error results, as the real registry does.
    """

    def __init__(
        self,
        tools: Mapping[str, Handler] | None = None,
        *,
        read_only: Iterable[str] = DEFAULT_READ_ONLY,
        high_risk: Iterable[str] = (),
    ) -> None:
        self.tools: dict[str, Handler] = dict(
            tools if tools is not None else {"read_file": "", "list_dir": ""}
        )
        self.read_only = set(read_only)
        self.high_risk = set(high_risk)
        self.calls: list[ToolCall] = []
        self.contexts: list[ToolContext] = []
        self.running = 0
        self.max_running = 0

    def specs(self) -> Sequence[ToolSpec]:
        """One spec per scripted tool."""
        return [
            ToolSpec(
                name,
                f"The {name} tool.",
                {"type": "object", "properties": {"path": {"type": "string"}}},
            )
            for name in self.tools
        ]

    def is_read_only(self, name: str) -> bool:
        """Read-only per the constructor."""
        return name in self.read_only

    async def prepare(self, call: ToolCall) -> PreparedCall:
        """A shell-like ``command`` argument is judged by the real classifier; read-only tools
        run in parallel unless listed as high risk."""
        command = call.arguments.get("command")
        risk = classify(command) if isinstance(command, str) else LOW
        if call.name in self.high_risk:
            risk = Risk("high", ("listed as high risk",))
        parallel = call.name in self.read_only and risk.level == "low"
        return PreparedCall(call, dict(call.arguments), risk, parallel)

    async def run(self, call: ToolCall | PreparedCall, ctx: ToolContext) -> ToolResult:
        """Record the call and answer from the script."""
        if isinstance(call, PreparedCall):
            call = call.call
        self.calls.append(call)
        self.contexts.append(ctx)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            handler = self.tools.get(call.name)
            if handler is None:
                return ToolResult(call.id, call.name, f"unknown tool {call.name}", is_error=True)
            try:
                if isinstance(handler, BaseException):
                    raise handler
                out: Any = handler(call.arguments) if callable(handler) else handler
                if inspect.isawaitable(out):
                    out = await out
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                return ToolResult(call.id, call.name, f"error: {exc}", is_error=True)
            if isinstance(out, ToolResult):
                return ToolResult(call.id, call.name, out.output, out.is_error)
            return ToolResult(call.id, call.name, str(out))
        finally:
            self.running -= 1

    def names_called(self) -> list[str]:
        """Tool names in call order."""
        return [c.name for c in self.calls]
