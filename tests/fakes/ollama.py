"""FakeOllama: a loopback aiohttp server speaking Ollama's wire format, scripted per test.

The unmodified ``ollama.AsyncClient(host=fake.url)`` talks to it. Served endpoints:

- ``POST /api/chat``: NDJSON streaming (``stream`` defaults to true, as in Ollama) or one JSON
  object for ``"stream": false``; tool calls arrive as one complete chunk with ``content: ""``;
  the final ``done: true`` line carries ``prompt_eval_count`` / ``eval_count`` and durations in
  nanoseconds. A request for a model not in ``fake.models`` gets Ollama's 404
  ``{"error": "model \\"x\\" not found, try pulling it first"}``.
- ``GET /api/tags`` (``fake.models``), ``GET /api/ps`` (``fake.loaded``),
  ``POST /api/embed`` (deterministic bag-of-words vectors; ``fake.embed_error`` makes it
  fail), ``GET /api/version``.

Script answers with ``queue_text``, ``queue_tool_calls``, ``queue_json``, ``queue_error``,
``queue_stream_error`` and ``queue_hang``; when the queue is empty the fallback answer
(``fake.fallback_text``) is served. Every /api/chat body is recorded in ``fake.requests``.

    async with FakeOllama() as fake:
        fake.queue_text("Hello world", prompt_tokens=26, completion_tokens=3)
        client = ollama.AsyncClient(host=fake.url)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

DEFAULT_MODELS = ("qwen2.5:3b", "gemma3:4b", "nomic-embed-text")
CREATED_AT = "2026-01-01T00:00:00.000000000Z"


@dataclass
class ScriptedReply:
    """One scripted answer to a /api/chat request."""

    kind: str  # text | tools | error | stream_error | hang
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    message: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    done_reason: str = "stop"
    chunk_delay: float = 0.0
    chunks: list[str] | None = None  # the exact streamed pieces of ``text`` (default: 4)


def _is_memory_note(body: Mapping[str, Any]) -> bool:
    """A task-end memory note (core/agent/recollect.py's system prompt)."""
    messages = body.get("messages") or []
    first = messages[0] if messages else {}
    return first.get("role") == "system" and str(first.get("content", "")).startswith(
        "You write a short memory note"
    )


def _split_chunks(text: str, parts: int = 4) -> list[str]:
    """Split ``text`` into up to ``parts`` pieces on word boundaries (never empty pieces)."""
    if not text:
        return []
    words = text.split(" ")
    if len(words) <= 1:
        size = max(1, math.ceil(len(text) / parts))
        return [text[i : i + size] for i in range(0, len(text), size)]
    per = max(1, math.ceil(len(words) / parts))
    pieces = []
    for i in range(0, len(words), per):
        piece = " ".join(words[i : i + per])
        if i + per < len(words):
            piece += " "
        pieces.append(piece)
    return pieces


def estimate_prompt_tokens(body: Mapping[str, Any]) -> int:
    """A rough prompt size: about four characters per token over messages and tools."""
    chars = sum(len(json.dumps(m, ensure_ascii=False)) for m in body.get("messages") or [])
    chars += len(json.dumps(body.get("tools") or [], ensure_ascii=False))
    return max(1, chars // 4)


def _word_vector(word: str, dim: int) -> list[float]:
    digest = hashlib.sha256(word.encode("utf-8")).digest()
    return [(digest[i % len(digest)] / 255.0) - 0.5 for i in range(dim)]


def embedding(text: str, dim: int) -> list[float]:
    """A deterministic unit vector: the sum of one pseudo-random vector per word.

    Same text, same vector; texts sharing words lie closer together, so nearest-neighbour
    recall behaves like a (very small) real embedding model.
    """
    words = re.findall(r"\w+", text.lower()) or [text]
    raw = [0.0] * dim
    for word in words:
        for i, x in enumerate(_word_vector(word, dim)):
            raw[i] += x
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


class FakeOllama(LoopbackServer):
    """A scripted Ollama server on 127.0.0.1 (random port)."""

    def __init__(
        self,
        *,
        models: Iterable[str] = DEFAULT_MODELS,
        loaded: Iterable[str] = (),
        fallback_text: str = "OK.",
        embed_dim: int = 8,
        version: str = "0.12.0",
    ) -> None:
        super().__init__()
        self.models: list[str] = list(models)
        self.loaded: list[str] = list(loaded)
        self.fallback_text = fallback_text
        self.fallback: ScriptedReply | None = None  # overrides fallback_text when set
        # Answers every chat the queue does not (benchmarks): the request body in, a reply out.
        self.responder: Callable[[Mapping[str, Any]], ScriptedReply] | None = None
        self.embed_dim = embed_dim
        self.no_tool_models: set[str] = set()  # answer 400 "does not support tools" for these
        self.version = version
        self.requests: list[dict[str, Any]] = []  # /api/chat bodies, in arrival order
        self.embed_requests: list[dict[str, Any]] = []
        self.embed_error: tuple[int, str] | None = None  # (status, message) while set
        self.paths: list[str] = []  # "METHOD /path" of every request
        self.connections: set[object] = set()  # client (host, port) pairs that sent a chat
        self.replies: list[ScriptedReply] = []
        # The memory note a task writes when it ends runs in the background, so it must not
        # take the next task's scripted reply: notes have a queue of their own.
        self.note_replies: list[ScriptedReply] = []
        self.sizes: dict[str, int] = {}  # model -> bytes in /api/tags and /api/ps (default 2 GB)
        self.vram: dict[str, int] = {}  # loaded model -> size_vram in /api/ps (default its size)

    # -- lifecycle ---------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        """The endpoints this fake answers."""
        app.router.add_post("/api/chat", self._chat)
        app.router.add_get("/api/tags", self._tags)
        app.router.add_get("/api/ps", self._ps)
        app.router.add_post("/api/embed", self._embed)
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/", self._root)

    # -- scripting ---------------------------------------------------------------------------

    def queue_text(
        self,
        text: str,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        done_reason: str = "stop",
        chunk_delay: float = 0.0,
    ) -> None:
        """Answer the next chat with ``text``, streamed as several NDJSON chunks."""
        self.replies.append(
            ScriptedReply(
                "text",
                text=text,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                done_reason=done_reason,
                chunk_delay=chunk_delay,
            )
        )

    def queue_tool_calls(
        self,
        calls: Sequence[tuple[str, dict[str, Any]]],
        *,
        text: str = "",
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
    ) -> None:
        """Answer the next chat with native tool calls (optionally after some text)."""
        self.replies.append(
            ScriptedReply(
                "tools",
                text=text,
                tool_calls=[(name, dict(args)) for name, args in calls],
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
        )

    def queue_json(
        self,
        obj: Any,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
    ) -> None:
        """Answer the next chat (typically a ``format=`` request) with ``obj`` as JSON text."""
        self.queue_text(
            json.dumps(obj), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )

    def queue_error(self, status: int, message: str) -> None:
        """Answer the next chat with an HTTP error ``{"error": message}``."""
        self.replies.append(ScriptedReply("error", status=status, message=message))

    def queue_stream_error(self, message: str, *, after_text: str = "") -> None:
        """Start streaming (``after_text`` first), then send a mid-stream ``{"error": ...}``."""
        self.replies.append(ScriptedReply("stream_error", text=after_text, message=message))

    def queue_hang(self) -> None:
        """Never answer the next chat (until the server stops): for client timeouts."""
        self.replies.append(ScriptedReply("hang"))

    # -- handlers ----------------------------------------------------------------------------

    def _knows(self, model: str) -> bool:
        names = set(self.models)
        names |= {m.removesuffix(":latest") for m in self.models}
        return model in names or f"{model}:latest" in names

    def queue_note(self, text: str) -> None:
        """Answer the next task-end memory note with ``text`` (otherwise: the fallback)."""
        self.note_replies.append(ScriptedReply("text", text=text))

    def _next_reply(self, body: Mapping[str, Any]) -> ScriptedReply:
        if _is_memory_note(body):
            if self.note_replies:
                return self.note_replies.pop(0)
            return ScriptedReply("text", text=self.fallback_text)
        if self.replies:
            return self.replies.pop(0)
        if self.responder is not None:
            return self.responder(body)
        return self.fallback or ScriptedReply("text", text=self.fallback_text)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.paths.append("POST /api/chat")
        self.connections.add(request.transport and request.transport.get_extra_info("peername"))
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"error": "invalid JSON body"}, status=400)
        self.requests.append(body)
        model = str(body.get("model", ""))
        if not model:
            return web.json_response({"error": "model is required"}, status=400)
        if not self._knows(model):
            return web.json_response(
                {"error": f'model "{model}" not found, try pulling it first'}, status=404
            )
        if body.get("tools") and model in self.no_tool_models:
            return web.json_response(
                {"error": f"registry.ollama.ai/library/{model} does not support tools"},
                status=400,
            )
        reply = self._next_reply(body)
        if reply.kind == "error":
            return web.json_response({"error": reply.message}, status=reply.status)
        if reply.kind == "hang":
            await self._closing.wait()
            return web.json_response({"error": "server shutting down"}, status=503)
        prompt_tokens = reply.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = estimate_prompt_tokens(body)
        completion_tokens = reply.completion_tokens
        if completion_tokens is None:
            completion_tokens = max(1, len(reply.text) // 4 + 2 * len(reply.tool_calls))
        tool_calls = [
            {"function": {"name": name, "arguments": args}} for name, args in reply.tool_calls
        ]
        final = {
            "model": model,
            "created_at": CREATED_AT,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": reply.done_reason,
            "total_duration": 1_200_000_000,
            "load_duration": 1_000_000,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": 200_000_000,
            "eval_count": completion_tokens,
            "eval_duration": 900_000_000,
        }
        if body.get("stream", True) is False:
            if reply.kind == "stream_error":
                return web.json_response({"error": reply.message}, status=500)
            final["message"] = {"role": "assistant", "content": reply.text}
            if tool_calls:
                final["message"]["tool_calls"] = tool_calls
            return web.json_response(final)
        return await self._stream(request, model, reply, tool_calls, final)

    async def _stream(
        self,
        request: web.Request,
        model: str,
        reply: ScriptedReply,
        tool_calls: list[dict[str, Any]],
        final: dict[str, Any],
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await resp.prepare(request)

        async def line(obj: Mapping[str, Any]) -> None:
            await resp.write(json.dumps(obj).encode("utf-8") + b"\n")

        pieces = reply.chunks if reply.chunks is not None else _split_chunks(reply.text)
        for piece in pieces:
            await line(
                {
                    "model": model,
                    "created_at": CREATED_AT,
                    "message": {"role": "assistant", "content": piece},
                    "done": False,
                }
            )
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
        if reply.kind == "stream_error":
            await line({"error": reply.message})
            await resp.write_eof()
            return resp
        if tool_calls:
            await line(
                {
                    "model": model,
                    "created_at": CREATED_AT,
                    "message": {"role": "assistant", "content": "", "tool_calls": tool_calls},
                    "done": False,
                }
            )
        await line(final)
        await resp.write_eof()
        return resp

    async def _tags(self, request: web.Request) -> web.Response:
        self.paths.append("GET /api/tags")
        entries = [self._model_entry(m) for m in self.models]
        for entry in entries:
            entry["size"] = self.sizes.get(entry["name"], entry["size"])
        return web.json_response({"models": entries})

    async def _ps(self, request: web.Request) -> web.Response:
        self.paths.append("GET /api/ps")
        models = []
        for name in self.loaded:
            entry = self._model_entry(name)
            entry["size"] = self.sizes.get(name, entry["size"])
            entry.update(
                {
                    "expires_at": "2099-01-01T00:00:00Z",
                    "size_vram": self.vram.get(name, entry["size"]),
                    "context_length": 16384,
                }
            )
            models.append(entry)
        return web.json_response({"models": models})

    async def _embed(self, request: web.Request) -> web.Response:
        self.paths.append("POST /api/embed")
        body = await request.json()
        self.embed_requests.append(body)
        if self.embed_error is not None:
            status, message = self.embed_error
            return web.json_response({"error": message}, status=status)
        model = str(body.get("model", ""))
        if not self._knows(model):
            return web.json_response(
                {"error": f'model "{model}" not found, try pulling it first'}, status=404
            )
        inputs = body.get("input", "")
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        return web.json_response(
            {
                "model": model,
                "embeddings": [embedding(t, self.embed_dim) for t in texts],
                "total_duration": 10_000_000,
                "load_duration": 1_000_000,
                "prompt_eval_count": sum(max(1, len(t) // 4) for t in texts),
            }
        )

    async def _version(self, request: web.Request) -> web.Response:
        self.paths.append("GET /api/version")
        return web.json_response({"version": self.version})

    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    @staticmethod
    def _model_entry(name: str) -> dict[str, Any]:
        digest = hashlib.sha256(name.encode()).hexdigest()
        return {
            "name": name,
            "model": name,
            "modified_at": "2026-01-01T00:00:00Z",
            "size": 2_000_000_000,
            "digest": digest,
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": name.split(":")[0],
                "families": [name.split(":")[0]],
                "parameter_size": "3B",
                "quantization_level": "Q4_K_M",
            },
        }
