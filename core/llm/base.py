"""The one LLM protocol: every provider streams TextDelta events, then exactly one TurnEnd."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model sees it."""

    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of the arguments object


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One complete tool call from the model."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The outcome of a tool call, fed back to the model."""

    call_id: str
    name: str
    output: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of the conversation sent to a model."""

    role: Literal["user", "assistant", "tool"]
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts and latency of one model call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of streamed answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """The end of one model turn, with complete tool calls and token usage."""

    stop_reason: Literal["end_turn", "tool_use", "max_tokens", "error"] = "end_turn"
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    text: str = ""  # the whole text of the turn (the concatenated deltas)


StreamEvent = TextDelta | TurnEnd


class LLMClient(Protocol):
    """One model provider (Ollama, Anthropic, or a scripted fake in tests)."""

    provider: str  # "ollama" | "anthropic" | "scripted"
    model: str
    num_ctx: int  # context window in tokens

    def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str = "",
        tools: Sequence[ToolSpec] = (),
        format: dict[str, Any] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Yield TextDelta events, then exactly one TurnEnd; raise LLMError on failure.

        ``format`` is a JSON schema for structured output (Ollama ``format``); clients that
        cannot enforce it ask for JSON in the prompt instead.
        """
        ...
