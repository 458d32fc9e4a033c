"""FakeAnthropic: a loopback aiohttp server speaking the Messages API SSE stream, scripted.

The unmodified ``anthropic.AsyncAnthropic(api_key=..., base_url=fake.url)`` talks to it.
``POST /v1/messages`` with ``"stream": true`` answers with the real event sequence:
``message_start``, ``content_block_start``/``content_block_delta``/``content_block_stop``
(``text_delta`` for text, ``input_json_delta`` fragments for tool use), a ``ping``,
``message_delta`` with cumulative usage and ``message_stop``. Errors are sent either as an HTTP
status with ``{"type": "error", "error": {...}}`` (with ``retry-after-ms`` so SDK retries are
fast) or as an ``event: error`` in the middle of the stream.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer


@dataclass
class AnthropicReply:
    """One scripted answer to /v1/messages."""

    kind: str  # text | tools | error | stream_error | hang
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    error_type: str = ""
    message: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None


def _pieces(text: str, parts: int = 3) -> list[str]:
    if not text:
        return []
    size = max(1, math.ceil(len(text) / parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


class FakeAnthropic(LoopbackServer):
    """A scripted Anthropic Messages API on 127.0.0.1 (random port)."""

    def __init__(self, *, fallback_text: str = "Done.") -> None:
        super().__init__()
        self.fallback_text = fallback_text
        self.requests: list[dict[str, Any]] = []  # /v1/messages bodies
        self.headers: list[dict[str, str]] = []
        self.replies: list[AnthropicReply] = []
        self._ids = 0

    def routes(self, app: web.Application) -> None:
        """The endpoints this fake answers."""
        app.router.add_post("/v1/messages", self._messages)

    # -- scripting ---------------------------------------------------------------------------

    def queue_text(
        self, text: str, *, input_tokens: int | None = None, output_tokens: int | None = None
    ) -> None:
        """Answer the next request with streamed text (stop_reason end_turn)."""
        self.replies.append(
            AnthropicReply(
                "text", text=text, input_tokens=input_tokens, output_tokens=output_tokens
            )
        )

    def queue_tool_use(
        self,
        calls: Sequence[tuple[str, dict[str, Any]]],
        *,
        text: str = "",
        input_tokens: int | None = None,
        output_tokens: int | None = None,
    ) -> None:
        """Answer with optional text then tool_use blocks whose input arrives in fragments."""
        self.replies.append(
            AnthropicReply(
                "tools",
                text=text,
                tool_calls=[(n, dict(a)) for n, a in calls],
                input_tokens=input_tokens,
                output_tokens=output_tokens,
            )
        )

    def queue_error(
        self, status: int = 529, error_type: str = "overloaded_error", message: str = "Overloaded"
    ) -> None:
        """Answer the next request with an HTTP error (the SDK may retry it)."""
        self.replies.append(
            AnthropicReply("error", status=status, error_type=error_type, message=message)
        )

    def queue_stream_error(
        self,
        error_type: str = "overloaded_error",
        message: str = "Overloaded",
        *,
        after_text: str = "",
    ) -> None:
        """Start a stream (with ``after_text``), then send ``event: error``."""
        self.replies.append(
            AnthropicReply("stream_error", text=after_text, error_type=error_type, message=message)
        )

    def queue_hang(self) -> None:
        """Never answer the next request (until the server stops)."""
        self.replies.append(AnthropicReply("hang"))

    # -- handler -----------------------------------------------------------------------------

    def _next(self) -> AnthropicReply:
        if self.replies:
            return self.replies.pop(0)
        return AnthropicReply("text", text=self.fallback_text)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        auth = request.headers.get("x-api-key") or request.headers.get("authorization")
        if not auth:
            return self._error(401, "authentication_error", "missing API key")
        reply = self._next()
        if reply.kind == "error":
            return self._error(reply.status, reply.error_type, reply.message)
        if reply.kind == "hang":
            await self._closing.wait()
            return self._error(529, "overloaded_error", "shutting down")
        self._ids += 1
        msg_id = f"msg_fake{self._ids:04d}"
        in_tok = reply.input_tokens
        if in_tok is None:
            in_tok = max(1, len(json.dumps(body.get("messages", []))) // 4)
        out_tok = reply.output_tokens
        if out_tok is None:
            out_tok = max(1, len(reply.text) // 4 + 10 * len(reply.tool_calls))
        if not body.get("stream"):
            return web.json_response(self._whole(body, msg_id, reply, in_tok, out_tok))
        return await self._stream(request, body, msg_id, reply, in_tok, out_tok)

    @staticmethod
    def _error(status: int, error_type: str, message: str) -> web.Response:
        return web.json_response(
            {"type": "error", "error": {"type": error_type, "message": message}},
            status=status,
            headers={"retry-after-ms": "5", "request-id": "req_fake"},
        )

    def _whole(
        self, body: Mapping[str, Any], msg_id: str, reply: AnthropicReply, i: int, o: int
    ) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for n, (name, args) in enumerate(reply.tool_calls):
            content.append(
                {"type": "tool_use", "id": f"toolu_{msg_id}_{n}", "name": name, "input": args}
            )
        return {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": body.get("model", ""),
            "content": content,
            "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": i, "output_tokens": o},
        }

    async def _stream(
        self,
        request: web.Request,
        body: Mapping[str, Any],
        msg_id: str,
        reply: AnthropicReply,
        in_tok: int,
        out_tok: int,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "request-id": "req_fake"}
        )
        await resp.prepare(request)

        async def send(name: str, data: Mapping[str, Any]) -> None:
            await resp.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

        await send(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "model": body.get("model", ""),
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": in_tok,
                        "output_tokens": 1,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                    },
                },
            },
        )
        index = 0
        if reply.text:
            await send(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            await send("ping", {"type": "ping"})
            for piece in _pieces(reply.text):
                await send(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
            if reply.kind == "stream_error":
                await send(
                    "error",
                    {
                        "type": "error",
                        "error": {"type": reply.error_type, "message": reply.message},
                    },
                )
                await resp.write_eof()
                return resp
            await send("content_block_stop", {"type": "content_block_stop", "index": 0})
            index = 1
        elif reply.kind == "stream_error":
            await send(
                "error",
                {"type": "error", "error": {"type": reply.error_type, "message": reply.message}},
            )
            await resp.write_eof()
            return resp
        for n, (name, args) in enumerate(reply.tool_calls):
            i = index + n
            await send(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": i,
                    "content_block": {
                        "type": "tool_use",
                        "id": f"toolu_{msg_id}_{n}",
                        "name": name,
                        "input": {},
                    },
                },
            )
            raw = json.dumps(args)
            for frag in ["", *_pieces(raw, 3)]:
                await send(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": i,
                        "delta": {"type": "input_json_delta", "partial_json": frag},
                    },
                )
            await send("content_block_stop", {"type": "content_block_stop", "index": i})
        await send(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
                    "stop_sequence": None,
                },
                "usage": {"output_tokens": out_tok},
            },
        )
        await send("message_stop", {"type": "message_stop"})
        await resp.write_eof()
        return resp
