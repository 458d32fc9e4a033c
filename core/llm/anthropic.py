"""AnthropicClient: Claude behind the LLM protocol, on ``anthropic.AsyncAnthropic`` streaming."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anthropic

from core.clock import SystemClock
from core.errors import LLMError, LLMUnavailable
from core.llm.base import Message, StreamEvent, TextDelta, ToolCall, ToolSpec, TurnEnd, Usage
from core.ports import Clock

log = logging.getLogger(__name__)

CLAUDE_CONTEXT = 200_000


def to_anthropic_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Our messages as Anthropic content blocks; consecutive same-role turns are merged."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        blocks: list[dict[str, Any]] = []
        if msg.role == "tool":
            role = "user"
            blocks = [
                {
                    "type": "tool_result",
                    "tool_use_id": r.call_id,
                    "content": r.output or "(no output)",
                    "is_error": r.is_error,
                }
                for r in msg.tool_results
            ]
        else:
            role = msg.role
            if msg.text.strip():
                blocks.append({"type": "text", "text": msg.text})
            blocks.extend(
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in msg.tool_calls
            )
        if not blocks:
            blocks = [{"type": "text", "text": "(empty)"}]
        if out and out[-1]["role"] == role:
            # The API requires alternating roles; e.g. steering text right after tool results.
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    if out and out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": [{"type": "text", "text": "(continue)"}]})
    return out


def to_anthropic_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Tool specs in Anthropic's format."""
    return [
        {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools
    ]


class AnthropicClient:
    """Streams Claude turns: text deltas, tool_use blocks assembled by the SDK, usage."""

    provider = "anthropic"

    def __init__(
        self,
        api_key: str,
        model: str,
        *,
        base_url: str | None = None,
        max_retries: int = 2,
        timeout: float = 120.0,
        max_tokens: int = 4096,
        clock: Clock | None = None,
    ) -> None:
        self.model = model
        self.num_ctx = CLAUDE_CONTEXT
        self.base_url = base_url or "https://api.anthropic.com"
        self._max_tokens = max_tokens
        self._timeout = timeout
        self._clock = clock or SystemClock()
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )

    async def aclose(self) -> None:
        """Close the underlying HTTP client."""
        await self._client.close()

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str = "",
        tools: Sequence[ToolSpec] = (),
        format: dict[str, Any] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Yield TextDelta events, then one TurnEnd; raise LLMError/LLMUnavailable on failure."""
        if format is not None:
            system = (
                f"{system}\n\nAnswer with one JSON object only, matching this JSON schema:\n"
                f"{json.dumps(format)}"
            ).strip()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self._max_tokens,
            "messages": to_anthropic_messages(messages),
        }
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = to_anthropic_tools(tools)
        started = self._clock.monotonic()
        try:
            async with self._client.messages.stream(**kwargs) as stream:
                async for event in stream:
                    if event.type == "text" and event.text:
                        yield TextDelta(event.text)
                final = await stream.get_final_message()
        except anthropic.APITimeoutError as exc:
            raise LLMError(f"Claude did not answer within {self._timeout:g}s") from exc
        except anthropic.APIConnectionError as exc:
            raise LLMUnavailable(
                f"the Anthropic API is not reachable at {self.base_url} — check the network "
                "or ANTHROPIC_BASE_URL"
            ) from exc
        except anthropic.AuthenticationError as exc:
            raise LLMUnavailable(
                "Anthropic rejected the API key — check ANTHROPIC_API_KEY"
            ) from exc
        except anthropic.NotFoundError as exc:
            raise LLMUnavailable(
                f"Anthropic does not know model '{self.model}' — check CLAUDE_MODEL"
            ) from exc
        except anthropic.APIStatusError as exc:
            raise LLMError(f"Claude failed: {_describe(exc)}") from exc
        except (anthropic.APIError, ValueError) as exc:
            raise LLMError(f"Claude returned something unreadable: {exc}") from exc
        text = "".join(b.text for b in final.content if b.type == "text")
        calls = tuple(
            ToolCall(b.id, b.name, dict(b.input) if isinstance(b.input, dict) else {})
            for b in final.content
            if b.type == "tool_use"
        )
        usage = Usage(
            prompt_tokens=int(final.usage.input_tokens or 0),
            completion_tokens=int(final.usage.output_tokens or 0),
            duration_s=self._clock.monotonic() - started,
        )
        if calls:
            reason = "tool_use"
        elif final.stop_reason == "max_tokens":
            reason = "max_tokens"
        else:
            reason = "end_turn"
        yield TurnEnd(reason, calls, usage, text)


def _describe(exc: anthropic.APIStatusError) -> str:
    """``overloaded_error: Overloaded (HTTP 529)`` from an SDK error body."""
    body = exc.body if isinstance(exc.body, dict) else {}
    err = body.get("error") if isinstance(body.get("error"), dict) else {}
    kind = err.get("type") or "error"
    message = err.get("message") or str(exc)
    where = "mid-stream" if exc.status_code == 200 else f"HTTP {exc.status_code}"
    return f"{kind}: {message} ({where})"
