"""OllamaClient: the local model behind the LLM protocol, on ``ollama.AsyncClient``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
import ssl
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from core.clock import SystemClock
from core.errors import LLMError, LLMUnavailable
from core.llm.base import Message, StreamEvent, TextDelta, ToolCall, ToolSpec, TurnEnd, Usage
from core.ports import Clock

if TYPE_CHECKING:
    import ollama

log = logging.getLogger(__name__)

YIELD_EVERY = 64  # streamed chunks between two turns given to the rest of the event loop


def to_ollama_messages(
    messages: Sequence[Message], system: str, *, native_tools: bool = True
) -> list[dict[str, Any]]:
    """Our messages in Ollama's chat format.

    With native tools, calls ride in ``tool_calls`` and results are ``role: tool`` messages;
    without (models whose template has no tools), both are written as plain text.
    """
    out: list[dict[str, Any]] = []
    if system:
        out.append({"role": "system", "content": system})
    for msg in messages:
        if msg.role == "tool":
            for r in msg.tool_results:
                if native_tools:
                    out.append({"role": "tool", "content": r.output, "tool_name": r.name})
                else:
                    status = "failed" if r.is_error else "returned"
                    out.append({"role": "user", "content": f"Tool {r.name} {status}:\n{r.output}"})
            continue
        entry: dict[str, Any] = {"role": msg.role, "content": msg.text}
        if msg.tool_calls and native_tools:
            entry["tool_calls"] = [
                {"function": {"name": c.name, "arguments": c.arguments}} for c in msg.tool_calls
            ]
        elif msg.tool_calls:
            written = "\n".join(
                json.dumps({"name": c.name, "arguments": c.arguments}) for c in msg.tool_calls
            )
            entry["content"] = f"{msg.text}\n{written}".strip()
        out.append(entry)
    return out


def text_tools_prompt(tools: Sequence[ToolSpec]) -> str:
    """System-prompt text that offers tools to a model without native tool support."""
    listing = "\n".join(
        json.dumps({"name": t.name, "description": t.description, "parameters": t.parameters})
        for t in tools
    )
    return (
        "You can use these tools. To call one, reply with ONLY a JSON object on one line: "
        '{"name": "<tool>", "arguments": {...}} and nothing else; the result comes back in '
        f"the next message.\nTools:\n{listing}"
    )


class _NoNativeTools(Exception):
    """The model's template has no tool support (Ollama answered 400)."""


def to_ollama_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Tool specs in the OpenAI-style function format Ollama expects."""
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


EMBED_CACHE = 256  # recent embeddings kept (texts of a few tasks)
_EMBEDDED: OrderedDict[tuple[str, str, str], tuple[float, ...]] = OrderedDict()


# Clients with an open HTTP session: its aiohttp session must be closed on its own event loop
# (a leaked one logs "Unclosed client session" when collected).
_OPEN: weakref.WeakSet[OllamaClient] = weakref.WeakSet()


async def close_clients() -> None:
    """Close the HTTP session of every client that opened one (at the end of a run)."""
    for client in list(_OPEN):
        await client.aclose()


@functools.cache
def tls() -> ssl.SSLContext:
    """The TLS settings of every client, made once: each one loads the whole CA bundle."""
    import httpx

    return httpx.create_ssl_context()  # what httpx uses by default: verified, env-aware


def import_sdk() -> None:
    """Import the Ollama SDK now (e.g. in a thread once the app is up), not on the first call."""
    import httpx_aiohttp  # noqa: F401
    import ollama  # noqa: F401


class OllamaClient:
    """Streams chat turns from Ollama: text deltas, native tool calls, server token counts."""

    provider = "ollama"

    def __init__(
        self,
        host: str,
        model: str,
        *,
        num_ctx: int,
        timeout: float = 300.0,
        keep_alive: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.host = host
        self.model = model
        self.num_ctx = num_ctx
        self._keep_alive = keep_alive
        self._timeout = timeout
        self._clock = clock or SystemClock()
        self._http: ollama.AsyncClient | None = None
        self._ids = itertools.count(1)
        self._native_tools = True

    @property
    def _client(self) -> ollama.AsyncClient:
        # Built on first use: the SDK is a heavy import.
        if self._http is None:
            import ollama
            from httpx_aiohttp import AiohttpTransport

            # The SDK's httpx on aiohttp's C HTTP parser: about half the CPU per call of
            # httpx's own pure-Python transport (h11, httpcore, anyio).
            self._http = ollama.AsyncClient(
                host=self.host, timeout=self._timeout, transport=AiohttpTransport(verify=tls())
            )
            _OPEN.add(self)
        return self._http

    async def aclose(self) -> None:
        """Close the underlying HTTP client (a later call opens a new one)."""
        http, self._http = self._http, None
        _OPEN.discard(self)
        if http is not None:
            await http.close()

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str = "",
        tools: Sequence[ToolSpec] = (),
        format: dict[str, Any] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Yield TextDelta events, then one TurnEnd; raise LLMError/LLMUnavailable on failure.

        A model without native tool support gets the tools described in the system prompt
        instead (once detected, for the rest of this client's life); the executor then
        recovers the calls from the text.
        """
        if tools and self._native_tools:
            try:
                async for event in self._stream_once(messages, system, tools, format, True):
                    yield event
                return
            except _NoNativeTools:
                # Nothing was yielded yet: the server refused before streaming.
                log.warning("%s has no native tool support; offering tools as text", self.model)
                self._native_tools = False
        async for event in self._stream_once(messages, system, tools, format, False):
            yield event

    async def _stream_once(
        self,
        messages: Sequence[Message],
        system: str,
        tools: Sequence[ToolSpec],
        format: dict[str, Any] | None,
        native: bool,
    ) -> AsyncIterator[StreamEvent]:
        started = self._clock.monotonic()
        text_parts: list[str] = []
        calls: list[ToolCall] = []
        kwargs: dict[str, Any] = {"options": {"num_ctx": self.num_ctx}}
        if tools and native:
            kwargs["tools"] = to_ollama_tools(tools)
        elif tools:
            system = f"{system}\n\n{text_tools_prompt(tools)}".strip()
        if format is not None:
            kwargs["format"] = format
        if self._keep_alive is not None:
            kwargs["keep_alive"] = self._keep_alive
        with self._errors(tools_offered=bool(tools) and native):
            parts = await self._client.chat(
                model=self.model,
                messages=to_ollama_messages(messages, system, native_tools=native),
                stream=True,
                **kwargs,
            )
            final: TurnEnd | None = None
            # Read to the end of the body, past the final part: a response left unread is
            # closed with its connection, and the next call would pay for a new one.
            async with contextlib.aclosing(parts):
                async for count, part in _numbered(parts):
                    if count % YIELD_EVERY == 0:
                        # Chunks already received are handed out without waiting: let the
                        # other chats run now and then while a long answer pours in.
                        await asyncio.sleep(0)
                    msg = part.message
                    if msg.content:
                        text_parts.append(msg.content)
                        yield TextDelta(msg.content)
                    for call in msg.tool_calls or ():
                        calls.append(self._tool_call(call.function.name, call.function.arguments))
                    if part.done and final is None:
                        usage = Usage(
                            prompt_tokens=int(part.prompt_eval_count or 0),
                            completion_tokens=int(part.eval_count or 0),
                            duration_s=self._clock.monotonic() - started,
                        )
                        if calls:
                            reason = "tool_use"
                        elif part.done_reason == "length":
                            reason = "max_tokens"
                        else:
                            reason = "end_turn"
                        final = TurnEnd(reason, tuple(calls), usage, "".join(text_parts))
            if final is not None:
                yield final
                return
        raise LLMError(f"Ollama ended the stream for '{self.model}' without a final message")

    def _tool_call(self, name: str, arguments: Any) -> ToolCall:
        args = dict(arguments) if isinstance(arguments, dict) else {}
        return ToolCall(f"call_{next(self._ids)}", name, args)

    async def list_models(self) -> list[str]:
        """Models pulled on the server (``/api/tags``)."""
        with self._errors():
            resp = await self._client.list()
        return [m.model for m in resp.models if m.model]

    async def loaded_models(self) -> list[str]:
        """Models currently loaded in memory (``/api/ps``)."""
        with self._errors():
            resp = await self._client.ps()
        return [m.model or m.name or "" for m in resp.models if m.model or m.name]

    async def model_sizes(self) -> dict[str, int]:
        """Pulled models and their size in bytes (``/api/tags``)."""
        with self._errors():
            resp = await self._client.list()
        return {m.model: int(m.size or 0) for m in resp.models if m.model}

    async def loaded_sizes(self) -> dict[str, tuple[int, int]]:
        """Loaded models -> (size, size in VRAM) in bytes (``/api/ps``)."""
        with self._errors():
            resp = await self._client.ps()
        return {
            (m.model or m.name or ""): (int(m.size or 0), int(m.size_vram or 0))
            for m in resp.models
            if m.model or m.name
        }

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embeddings of ``texts`` with this client's model (``/api/embed``).

        Recent ones are remembered for every client of the same server and model: a task's
        goal is embedded for memory recall and again for the skill learner.
        """
        keys = [(self.host, self.model, t) for t in texts]
        missing = list(dict.fromkeys(k[2] for k in keys if k not in _EMBEDDED))
        if missing:
            with self._errors():
                resp = await self._client.embed(model=self.model, input=missing)
            if len(resp.embeddings) != len(missing):
                raise LLMError(
                    f"Ollama returned {len(resp.embeddings)} embeddings for {len(missing)} texts"
                )
            for text, vector in zip(missing, resp.embeddings, strict=True):
                _EMBEDDED[(self.host, self.model, text)] = tuple(vector)
                _EMBEDDED.move_to_end((self.host, self.model, text))
            while len(_EMBEDDED) > EMBED_CACHE:
                _EMBEDDED.popitem(last=False)
        return [list(_EMBEDDED[k]) for k in keys]

    def _errors(self, *, tools_offered: bool = False) -> _OllamaErrors:
        return _OllamaErrors(self.host, self.model, self._timeout, tools_offered)


class _OllamaErrors:
    """Translates ollama/httpx exceptions into core.errors with a fix the user can apply."""

    def __init__(self, host: str, model: str, timeout: float, tools_offered: bool) -> None:
        self._host = host
        self._model = model
        self._timeout = timeout
        self._tools_offered = tools_offered

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> bool:
        if exc is None:
            return False
        import aiohttp
        import httpx
        import ollama

        # The aiohttp transport reports a refused connection as httpx.ConnectTimeout and a
        # dropped one as a timeout too: its aiohttp cause tells them apart.
        cause = exc.__cause__
        refused = isinstance(cause, aiohttp.ClientConnectorError)
        if isinstance(cause, aiohttp.ServerDisconnectedError):
            why = f"Ollama closed the connection while answering ({self._model})"
            raise LLMError(why) from exc

        if isinstance(exc, ollama.ResponseError):
            if (
                exc.status_code == 400
                and self._tools_offered
                and "does not support tools" in str(exc.error)
            ):
                raise _NoNativeTools(str(exc.error)) from exc
            if exc.status_code == 404:
                raise LLMUnavailable(
                    f"model '{self._model}' is not pulled — run `ollama pull {self._model}`"
                ) from exc
            if exc.status_code == -1:
                raise LLMError(f"Ollama failed while answering: {exc.error}") from exc
            raise LLMError(f"Ollama answered HTTP {exc.status_code}: {exc.error}") from exc
        if refused or isinstance(exc, ConnectionError | httpx.ConnectError):
            raise LLMUnavailable(
                f"Ollama is not reachable at {self._host} — start it with `ollama serve` "
                "or set OLLAMA_HOST"
            ) from exc
        if isinstance(exc, httpx.TimeoutException):
            raise LLMError(
                f"Ollama did not answer within {self._timeout:g}s ({self._model})"
            ) from exc
        if isinstance(exc, httpx.HTTPError | ValueError):
            raise LLMError(f"Ollama returned something unreadable: {exc}") from exc
        return False


async def _numbered(parts: AsyncIterator[Any]) -> AsyncIterator[tuple[int, Any]]:
    """``enumerate`` for an async iterator, from 1."""
    count = 0
    async for part in parts:
        count += 1
        yield count, part
