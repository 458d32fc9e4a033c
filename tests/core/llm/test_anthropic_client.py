"""AnthropicClient against the loopback FakeAnthropic (real SSE), unmodified anthropic SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.errors import LLMError, LLMUnavailable
from core.llm.anthropic import AnthropicClient, to_anthropic_messages
from core.llm.base import Message, ToolCall, ToolResult, ToolSpec
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.llm import collect

READ = ToolSpec("read_file", "Read a file", {"type": "object", "properties": {"path": {}}})


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


async def test_streams_text_and_usage(fake: FakeAnthropic) -> None:
    fake.queue_text("Hello from Claude", input_tokens=25, output_tokens=15)
    client = AnthropicClient("sk-test", "claude-opus-4-6", base_url=fake.url)
    deltas, end = await collect(client.stream([Message("user", "hi")], system="sys"))
    assert len(deltas) > 1 and "".join(deltas) == "Hello from Claude" == end.text
    assert (end.usage.prompt_tokens, end.usage.completion_tokens) == (25, 15)
    assert client.num_ctx == 200_000 and client.provider == "anthropic"
    body = fake.requests[0]
    assert body["stream"] is True and body["system"] == "sys"
    assert body["model"] == "claude-opus-4-6"
    assert fake.headers[0]["authorization"] == "Bearer sk-test"
    await client.aclose()


async def test_tool_use_assembled_from_input_json_deltas(fake: FakeAnthropic) -> None:
    fake.queue_tool_use(
        [("read_file", {"path": "deep/dir/app.toml", "lines": [1, 20]})], text="Reading."
    )
    client = AnthropicClient("sk-test", "claude-opus-4-6", base_url=fake.url)
    _, end = await collect(client.stream([Message("user", "hi")], tools=[READ]))
    assert end.stop_reason == "tool_use"
    (call,) = end.tool_calls
    assert call.name == "read_file"
    assert call.arguments == {"path": "deep/dir/app.toml", "lines": [1, 20]}
    assert call.id.startswith("toolu_")
    assert fake.requests[0]["tools"][0]["input_schema"] == READ.parameters


async def test_overloaded_mid_stream_is_an_llm_error(fake: FakeAnthropic) -> None:
    fake.queue_stream_error("overloaded_error", "Overloaded", after_text="Partial")
    client = AnthropicClient("sk-test", "claude-opus-4-6", base_url=fake.url)
    with pytest.raises(LLMError, match=r"overloaded_error: Overloaded \(mid-stream\)"):
        await collect(client.stream([Message("user", "hi")]))


async def test_529_is_retried_by_the_sdk_then_succeeds(fake: FakeAnthropic) -> None:
    fake.queue_error(529, "overloaded_error", "Overloaded")
    fake.queue_text("second time lucky")
    client = AnthropicClient("sk-test", "claude-opus-4-6", base_url=fake.url, max_retries=2)
    _, end = await collect(client.stream([Message("user", "hi")]))
    assert end.text == "second time lucky"
    assert len(fake.requests) == 2


async def test_retries_exhausted_is_a_clear_error(fake: FakeAnthropic) -> None:
    for _ in range(2):
        fake.queue_error(429, "rate_limit_error", "slow down")
    client = AnthropicClient("sk-test", "claude-opus-4-6", base_url=fake.url, max_retries=1)
    with pytest.raises(LLMError, match=r"rate_limit_error: slow down \(HTTP 429\)"):
        await collect(client.stream([Message("user", "hi")]))


async def test_bad_key_and_unreachable_are_unavailable(fake: FakeAnthropic) -> None:
    fake.queue_error(401, "authentication_error", "invalid x-api-key")
    client = AnthropicClient("sk-bad", "claude-opus-4-6", base_url=fake.url)
    with pytest.raises(LLMUnavailable, match="ANTHROPIC_API_KEY"):
        await collect(client.stream([Message("user", "hi")]))
    gone = AnthropicClient("sk", "claude-opus-4-6", base_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(LLMUnavailable, match=r"not reachable at http://127\.0\.0\.1:9"):
        await collect(gone.stream([Message("user", "hi")]))


def test_history_alternates_and_carries_tool_blocks() -> None:
    msgs = to_anthropic_messages(
        [
            Message("user", "go"),
            Message("assistant", "", (ToolCall("toolu_1", "read_file", {"path": "a"}),)),
            Message("tool", tool_results=(ToolResult("toolu_1", "read_file", "x", True),)),
            Message("user", "user says: hurry"),
        ]
    )
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
    assert msgs[1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a"}}
    ]
    assert msgs[2]["content"][0]["type"] == "tool_result"
    assert msgs[2]["content"][0]["is_error"] is True
    assert msgs[2]["content"][1] == {"type": "text", "text": "user says: hurry"}
