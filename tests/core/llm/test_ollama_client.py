"""OllamaClient against the loopback FakeOllama, through the unmodified ollama client."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import httpx
import pytest

from core.errors import LLMError, LLMUnavailable
from core.llm.base import Message, TextDelta, ToolCall, ToolResult, ToolSpec
from core.llm.ollama import OllamaClient, tls
from tests.fakes.llm import collect
from tests.fakes.ollama import FakeOllama

READ = ToolSpec(
    "read_file",
    "Read a file",
    {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOllama]:
    async with FakeOllama(loaded=["qwen2.5:3b"]) as server:
        yield server


async def test_streams_text_with_server_token_counts(fake: FakeOllama) -> None:
    fake.queue_text("Hello there, the port is 8080.", prompt_tokens=26, completion_tokens=9)
    client = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=8192)
    deltas, end = await collect(client.stream([Message("user", "hi")], system="be brief"))
    assert len(deltas) > 1
    assert "".join(deltas) == end.text == "Hello there, the port is 8080."
    assert (end.usage.prompt_tokens, end.usage.completion_tokens) == (26, 9)
    assert end.stop_reason == "end_turn"
    body = fake.requests[0]
    assert body["options"]["num_ctx"] == 8192
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert body["stream"] is True
    await client.aclose()


async def test_native_tool_calls_and_history_format(fake: FakeOllama) -> None:
    fake.queue_tool_calls([("read_file", {"path": "app.toml"})])
    client = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=4096)
    history = [
        Message("user", "what port?"),
        Message("assistant", "", (ToolCall("c1", "list_dir", {"path": "."}),)),
        Message("tool", tool_results=(ToolResult("c1", "list_dir", "app.toml"),)),
    ]
    _, end = await collect(client.stream(history, tools=[READ]))
    assert end.stop_reason == "tool_use"
    assert [(c.name, c.arguments) for c in end.tool_calls] == [("read_file", {"path": "app.toml"})]
    sent = fake.requests[0]
    assert sent["tools"][0]["function"]["name"] == "read_file"
    assert sent["messages"][-1] == {"role": "tool", "content": "app.toml", "tool_name": "list_dir"}
    assert sent["messages"][-2]["tool_calls"][0]["function"]["name"] == "list_dir"


async def test_format_passes_the_json_schema(fake: FakeOllama) -> None:
    schema = {"type": "object", "properties": {"subtasks": {"type": "array"}}}
    fake.queue_json({"subtasks": ["a"]})
    client = OllamaClient(fake.url, "gemma3:4b", num_ctx=4096, keep_alive="10m")
    _, end = await collect(client.stream([Message("user", "plan")], format=schema))
    assert end.text == '{"subtasks": ["a"]}'
    assert fake.requests[0]["format"] == schema
    assert fake.requests[0]["keep_alive"] == "10m"


async def test_model_not_pulled_names_the_fix(fake: FakeOllama) -> None:
    client = OllamaClient(fake.url, "llama9:70b", num_ctx=4096)
    with pytest.raises(
        LLMUnavailable, match=r"model 'llama9:70b' is not pulled — run `ollama pull llama9:70b`"
    ):
        await collect(client.stream([Message("user", "hi")]))


async def test_unreachable_names_host_and_fix() -> None:
    client = OllamaClient("http://127.0.0.1:9", "qwen2.5:3b", num_ctx=4096)
    with pytest.raises(LLMUnavailable) as err:
        await collect(client.stream([Message("user", "hi")]))
    assert str(err.value) == (
        "Ollama is not reachable at http://127.0.0.1:9 — start it with `ollama serve` "
        "or set OLLAMA_HOST"
    )
    with pytest.raises(LLMUnavailable):
        await client.list_models()


async def test_mid_stream_error_is_an_llm_error(fake: FakeOllama) -> None:
    fake.queue_stream_error("model runner has unexpectedly stopped", after_text="partial answer")
    client = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=4096)
    seen: list[str] = []
    with pytest.raises(LLMError, match="unexpectedly stopped"):
        async for event in client.stream([Message("user", "hi")]):
            if isinstance(event, TextDelta):
                seen.append(event.text)
    assert "".join(seen) == "partial answer"


async def test_http_error_is_an_llm_error(fake: FakeOllama) -> None:
    fake.queue_error(500, "out of memory")
    client = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=4096)
    with pytest.raises(LLMError, match="500: out of memory"):
        await collect(client.stream([Message("user", "hi")]))


async def test_hang_becomes_a_timeout_error(fake: FakeOllama) -> None:
    fake.queue_hang()
    client = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=4096, timeout=0.2)
    with pytest.raises(LLMError, match=r"did not answer within 0.2s"):
        await collect(client.stream([Message("user", "hi")]))


async def test_models_loaded_and_embeddings(fake: FakeOllama) -> None:
    client = OllamaClient(fake.url, "nomic-embed-text", num_ctx=2048)
    assert await client.list_models() == ["qwen2.5:3b", "gemma3:4b", "nomic-embed-text"]
    assert await client.loaded_models() == ["qwen2.5:3b"]
    vectors = await client.embed(["alpha", "beta", "alpha"])
    assert len(vectors) == 3 and len(vectors[0]) == fake.embed_dim
    assert vectors[0] == vectors[2] != vectors[1]
    assert fake.embed_requests[0]["model"] == "nomic-embed-text"


async def test_fallback_answer_when_queue_empty(fake: FakeOllama) -> None:
    fake.fallback_text = "fallback!"
    client = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=4096)
    _, end = await collect(client.stream([Message("user", "hi")]))
    assert end.text == "fallback!"
    assert end.usage.prompt_tokens > 0


async def test_model_without_native_tools_gets_them_as_text(fake: FakeOllama) -> None:
    fake.no_tool_models = {"gemma3:4b"}
    fake.queue_text('{"name": "read_file", "arguments": {"path": "a.txt"}}')
    fake.queue_text("done")
    client = OllamaClient(fake.url, "gemma3:4b", num_ctx=4096)
    _, end = await collect(client.stream([Message("user", "read a.txt")], tools=[READ]))
    assert end.text.startswith('{"name": "read_file"')  # the executor recovers it from text
    refused, retried = fake.requests
    assert refused["tools"] and not retried.get("tools")
    assert '"name": "read_file"' in retried["messages"][0]["content"]  # described in system
    history = [
        Message("user", "read a.txt"),
        Message("assistant", "", (ToolCall("c1", "read_file", {"path": "a.txt"}),)),
        Message("tool", tool_results=(ToolResult("c1", "read_file", "hello"),)),
    ]
    await collect(client.stream(history, tools=[READ]))
    third = fake.requests[2]
    assert not third.get("tools")  # remembered: no second refused request
    assert (
        third["messages"][2]["content"] == '{"name": "read_file", "arguments": {"path": "a.txt"}}'
    )
    assert third["messages"][3] == {"role": "user", "content": "Tool read_file returned:\nhello"}


async def test_fake_answers_non_streaming_requests_too(fake: FakeOllama) -> None:
    import ollama

    raw = ollama.AsyncClient(host=fake.url)
    fake.queue_tool_calls([("read_file", {"path": "x"})], prompt_tokens=5, completion_tokens=2)
    resp = await raw.chat(model="qwen2.5:3b", messages=[{"role": "user", "content": "hi"}])
    assert resp.done and resp.prompt_eval_count == 5 and resp.eval_count == 2
    assert resp.message.tool_calls[0].function.arguments == {"path": "x"}
    async with httpx.AsyncClient(base_url=fake.url) as http:
        assert (await http.get("/api/version")).json() == {"version": fake.version}
    assert fake.paths[0] == "POST /api/chat"


async def test_streamed_chats_reuse_one_connection(fake: FakeOllama) -> None:
    """Each answer is read to the end of its body, so its connection goes back to the pool."""
    client = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=2048)
    for i in range(4):
        fake.queue_text(f"answer {i}")
        _, end = await collect(client.stream([Message("user", "hi")]))
        assert end.text == f"answer {i}"
    assert len(fake.requests) == 4
    assert len(fake.connections) == 1
    await client.aclose()


async def test_a_text_is_embedded_once_for_every_client_of_the_same_model(
    fake: FakeOllama,
) -> None:
    """Memory recall and the skill learner embed a task's goal; the server sees it once."""
    memory = OllamaClient(fake.url, "nomic-embed-text", num_ctx=2048)
    learner = OllamaClient(fake.url, "nomic-embed-text", num_ctx=2048)
    [a] = await memory.embed(["how full is the disk"])
    [b, c] = await learner.embed(["how full is the disk", "a new goal"])
    assert a == b and a != c
    assert [r["input"] for r in fake.embed_requests] == [
        ["how full is the disk"],
        ["a new goal"],
    ]
    other = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=2048)
    await other.embed(["how full is the disk"])  # another model: its own vectors
    assert len(fake.embed_requests) == 3
    for client in (memory, learner, other):
        await client.aclose()


async def test_a_dropped_connection_is_not_reported_as_a_timeout() -> None:
    """A server that hangs up without answering: an LLMError saying so, not "did not answer"."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = OllamaClient(f"http://127.0.0.1:{port}", "qwen2.5:3b", num_ctx=4096, timeout=30)
    try:
        with pytest.raises(LLMError, match="closed the connection") as err:
            await collect(client.stream([Message("user", "hi")]))
        assert not isinstance(err.value, LLMUnavailable)
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


def test_the_shared_tls_settings_verify_certificates() -> None:
    """Every client shares one TLS context (the CA bundle is loaded once): a verifying one."""
    context = tls()
    assert context is tls()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0
