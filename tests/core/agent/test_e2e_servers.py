"""End to end: mention → dispatcher → AgentRunner with the real Ollama and Anthropic SDKs talking
to loopback fakes, the real tools on a temporary workspace; asserts on the thread's messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.agent.config import AgentConfig
from core.agent.runner import AgentRunner
from core.agent_commands import agent_commands
from core.budget import Budget
from core.channel_settings import ChannelSettings
from core.events import ChatRef, IncomingMessage, MessageRef, User
from core.llm.anthropic import AnthropicClient
from core.llm.ollama import OllamaClient
from core.metrics import Metrics
from core.storage import MIGRATIONS, Database
from core.storage.kv import KVStore
from core.storage.usage import UsageStore
from core.tools.builtin import build_tools
from core.usage import UsageRecorder, UsageReporter
from tests.fakes.adapter import FakeAdapter
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.support.harness import core_harness

ANA = User("fake", "ana", "Ana")
FINAL = ("✅ Done:", "❌ Failed:", "⚠️ Finished with problems:", "⚠️ Done,")


def mention(text: str, msg_id: str) -> IncomingMessage:
    chat = ChatRef("fake", "C1", msg_id)
    return IncomingMessage(
        ref=MessageRef(chat, msg_id), author=ANA, text=text, mentions_bot=True, event_id=msg_id
    )


@dataclass
class World:
    ollama: FakeOllama
    anthropic: FakeAnthropic
    adapter: FakeAdapter
    usage: UsageStore
    channels: ChannelSettings
    workspace: Path


def late_runner(world: World, metrics: Metrics, local_big: str | None = None, **config: object):
    """A factory the harness calls with its broker (the real tools need it for approvals)."""

    def build(broker: object) -> AgentRunner:
        w = world
        tools = build_tools(workspace=w.workspace, broker=broker, secrets=())  # type: ignore[arg-type]
        return AgentRunner(
            OllamaClient(w.ollama.url, "gemma3:4b", num_ctx=4096),
            OllamaClient(w.ollama.url, "qwen2.5:3b", num_ctx=8192),
            cloud=lambda: AnthropicClient(
                "sk-test", "claude-opus-4-6", base_url=w.anthropic.url, max_retries=0
            ),
            tools=tools,
            recorder=UsageRecorder(w.usage, cloud_model="claude-opus-4-6", metrics=metrics),
            budget=Budget(w.usage, daily_usd=5.0, user_daily_usd=None),
            channels=w.channels,
            config=AgentConfig(workspace=w.workspace, **config),  # type: ignore[arg-type]
            metrics=metrics,
            local_escalation=(
                OllamaClient(w.ollama.url, local_big, num_ctx=8192) if local_big else None
            ),
        )

    return build


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "app.toml").write_text("[server]\nport = 8080\n")
    db = Database(tmp_path / "usage.db", MIGRATIONS)
    await db.start()
    try:
        async with FakeOllama() as ollama, FakeAnthropic() as anthropic:
            yield World(
                ollama,
                anthropic,
                FakeAdapter(),
                UsageStore(db),
                ChannelSettings(KVStore(db)),
                workspace,
            )
    finally:
        await db.close()


async def finished(adapter: FakeAdapter, h: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            done = any(t.startswith(FINAL) for t in adapter.texts())
            if done and h.pool.active() == []:  # type: ignore[attr-defined]
                return
            await asyncio.sleep(0.005)


async def test_local_model_reads_a_file_and_answers(world: World, tmp_path: Path) -> None:
    world.ollama.queue_json({"subtasks": ["Read app.toml and report the port"]})
    world.ollama.queue_tool_calls([("read_file", {"path": "app.toml"})])
    world.ollama.queue_text("The app listens on port 8080.\nCONFIDENCE: 0.9")
    metrics = Metrics()
    async with core_harness(
        {"fake": world.adapter},
        late_runner(world, metrics, verification=False),
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({"fake:ana"}),
    ) as h:
        await h.dispatcher.handle(mention("what port does the app use?", "100"))
        await finished(world.adapter, h)
    card, answer = world.adapter.texts()
    assert card.startswith("✅ Done: what port does the app use?")
    assert answer == "The app listens on port 8080."
    # the model got the real file content back as a tool message
    tool_msg = world.ollama.requests[2]["messages"][-1]
    assert tool_msg["role"] == "tool" and "port = 8080" in tool_msg["content"]
    assert world.ollama.requests[0]["format"]["required"] == ["subtasks"]
    assert world.anthropic.requests == []
    rows = await world.usage.rows()
    assert [r.purpose for r in rows] == ["plan", "execute", "execute"]
    assert all(r.prompt_tokens > 0 for r in rows)


async def test_escalation_to_claude_with_tool_use(world: World, tmp_path: Path) -> None:
    world.ollama.queue_json({"subtasks": ["Find the port"]})
    world.ollama.queue_text("I am not sure.\nCONFIDENCE: 0.2")
    world.anthropic.queue_tool_use(
        [("read_file", {"path": "app.toml"})], input_tokens=900, output_tokens=40
    )
    world.anthropic.queue_text(
        "Port 8080 (from app.toml).\nCONFIDENCE: 0.95", input_tokens=1100, output_tokens=20
    )
    metrics = Metrics()
    async with core_harness(
        {"fake": world.adapter},
        late_runner(world, metrics),
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({"fake:ana"}),
    ) as h:
        await h.dispatcher.handle(mention("what port?", "200"))
        await finished(world.adapter, h)
    texts = world.adapter.texts()
    # The local answer streamed live, then was marked replaced; Claude's streams below it.
    assert texts[1].startswith("↪️ Replaced: escalated to Claude (confidence 0.20 < 0.60)")
    assert not any("I am not sure" in t for t in texts)
    assert texts[2] == "↗ Escalating step 1 to Claude (claude-opus-4-6): confidence 0.20 < 0.60"
    assert "— Claude: 2,060 tokens, $0.0115" in texts[0]
    assert texts[-1] == "Port 8080 (from app.toml)."
    second = world.anthropic.requests[1]["messages"]
    assert second[-1]["content"][0]["type"] == "tool_result"
    assert "port = 8080" in second[-1]["content"][0]["content"]
    cloud = [r for r in await world.usage.rows() if r.provider == "anthropic"]
    assert sum(r.cost_usd for r in cloud) == pytest.approx(0.0115)
    assert metrics.get("hearth_escalations_total", trigger="low_confidence") == 1


async def test_claude_overloaded_mid_stream_is_an_honest_failure(
    world: World, tmp_path: Path
) -> None:
    world.ollama.queue_json({"subtasks": ["Find the port"]})
    world.ollama.queue_text("No idea.\nCONFIDENCE: 0.1")
    world.anthropic.queue_stream_error("overloaded_error", "Overloaded", after_text="The po")
    async with core_harness(
        {"fake": world.adapter},
        late_runner(world, Metrics()),
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({"fake:ana"}),
    ) as h:
        await h.dispatcher.handle(mention("what port?", "300"))
        await finished(world.adapter, h)
    texts = world.adapter.texts()
    assert texts[0].startswith("❌ Failed:")
    assert any("overloaded_error: Overloaded (mid-stream)" in t for t in texts)
    assert "The po" not in texts[-1]  # a half answer is never shown as the answer


async def test_local_only_command_then_task_stays_local(world: World, tmp_path: Path) -> None:
    world.ollama.queue_json({"subtasks": ["Find the port"]})
    world.ollama.queue_text("No idea.\nCONFIDENCE: 0.1")
    cmds = agent_commands(UsageReporter(world.usage), world.channels)
    async with core_harness(
        {"fake": world.adapter},
        late_runner(world, Metrics()),
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({"fake:ana"}),
        commands=cmds,
    ) as h:
        await h.dispatcher.handle(mention("local-only on", "400"))
        await h.dispatcher.handle(mention("what port?", "401"))
        await finished(world.adapter, h)
        await h.dispatcher.handle(mention("usage", "402"))
        async with asyncio.timeout(2):
            while not any(t.startswith("**LLM usage**") for t in world.adapter.texts()):
                await asyncio.sleep(0.005)
    texts = world.adapter.texts()
    assert texts[0] == "local-only is on: tasks in this channel never call Claude."
    assert world.anthropic.requests == []
    assert any("this channel is local-only" in t for t in texts)
    report = next(t for t in texts if t.startswith("**LLM usage**"))
    assert "· ollama: 2 calls" in report and "anthropic" not in report


async def test_a_bigger_local_model_is_tried_before_claude_and_stops_there(
    world: World, tmp_path: Path
) -> None:
    world.ollama.models.append("qwen2.5:14b")
    world.ollama.queue_json({"subtasks": ["Find the port"]})
    world.ollama.queue_text("I am not sure.\nCONFIDENCE: 0.2")
    world.ollama.queue_text("Port 8080.\nCONFIDENCE: 0.9")
    async with core_harness(
        {"fake": world.adapter},
        late_runner(world, Metrics(), local_big="qwen2.5:14b", verification=False),
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({"fake:ana"}),
    ) as h:
        await h.dispatcher.handle(mention("what port?", "500"))
        await finished(world.adapter, h)
    models = [r["model"] for r in world.ollama.requests]
    assert models[:3] == ["gemma3:4b", "qwen2.5:3b", "qwen2.5:14b"]
    assert world.anthropic.requests == []  # the local success stops there
    texts = world.adapter.texts()
    assert texts[0].startswith("✅ Done") and "↗ local (qwen2.5:14b)" in texts[0]
    # The unsure local answer streamed live, then was marked replaced above the retry.
    assert texts[1].startswith("↪️ Replaced: retried on qwen2.5:14b")
    assert texts[2] == "↗ Retrying step 1 on qwen2.5:14b (local): confidence 0.20 < 0.60"
    assert texts[-1] == "Port 8080."
    (row,) = await world.usage.escalations()
    assert (row.model, row.outcome, row.cost_usd) == ("qwen2.5:14b", "done", 0)


async def test_claude_comes_after_the_bigger_local_model_fails(
    world: World, tmp_path: Path
) -> None:
    world.ollama.models.append("qwen2.5:14b")
    world.ollama.queue_json({"subtasks": ["Find the port"]})
    world.ollama.queue_text("I am not sure.\nCONFIDENCE: 0.2")
    world.ollama.queue_text("Still not sure.\nCONFIDENCE: 0.3")
    world.anthropic.queue_text("Port 8080.\nCONFIDENCE: 0.95", input_tokens=900, output_tokens=20)
    async with core_harness(
        {"fake": world.adapter},
        late_runner(world, Metrics(), local_big="qwen2.5:14b", verification=False),
        db_path=tmp_path / "h.db",
        allowed_users=frozenset({"fake:ana"}),
    ) as h:
        await h.dispatcher.handle(mention("what port?", "600"))
        await finished(world.adapter, h)
    models = [r["model"] for r in world.ollama.requests]
    assert models[:3] == ["gemma3:4b", "qwen2.5:3b", "qwen2.5:14b"]
    assert len(world.anthropic.requests) == 1
    texts = world.adapter.texts()
    order = [t for t in texts if t.startswith(("↗", "✗", "✓"))]
    assert order[0].startswith("↗ Retrying step 1 on qwen2.5:14b (local)")
    assert order[1].startswith("✗ qwen2.5:14b could not finish step 1 either")
    assert order[2].startswith("↗ Escalating step 1 to Claude")
    assert texts[-1] == "Port 8080."
    assert [(r.model, r.outcome) for r in await world.usage.escalations()] == [
        ("qwen2.5:14b", "failed"),
        ("claude-opus-4-6", "done"),
    ]
