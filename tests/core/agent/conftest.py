"""Fixtures for agent tests: a runner wired with scripted models, fake tools and a real db."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.agent.config import AgentConfig
from core.agent.runner import AgentRunner, Recall, Remember
from core.budget import Budget
from core.channel_settings import ChannelSettings
from core.errors import TaskFailed
from core.events import ChatRef, User
from core.llm.base import LLMClient
from core.metrics import Metrics
from core.storage import Database
from core.storage.kv import KVStore
from core.storage.usage import UsageStore
from core.tasks import TaskContext
from core.thread import TaskThread
from core.usage import UsageRecorder
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeTools, ScriptedLLM, Turn, text

CHAT = ChatRef("fake", "C1", "T1")
ANA = User("fake", "U1", "ana")


def plan(*steps: str) -> Turn:
    """A planner turn answering with these subtasks."""
    return text(json.dumps({"subtasks": list(steps)}))


@dataclass
class Rig:
    """Everything a runner test needs to drive and inspect."""

    db: Database
    adapter: FakeAdapter
    clock: FakeClock
    metrics: Metrics
    store: UsageStore
    channels: ChannelSettings
    planner: ScriptedLLM
    local: ScriptedLLM
    cloud: ScriptedLLM
    tools: FakeTools
    config: AgentConfig = field(default_factory=AgentConfig)
    daily_usd: float | None = None
    user_daily_usd: float | None = None
    with_cloud: bool = True
    recall: Recall | None = None
    remember: Remember | None = None
    live: bool = True

    def runner(self) -> AgentRunner:
        """A runner over the rig's parts (built late so tests can tweak them first)."""
        cloud_factory: Callable[[], LLMClient] | None = (
            (lambda: self.cloud) if self.with_cloud else None
        )
        return AgentRunner(
            self.planner,
            self.local,
            cloud=cloud_factory,
            tools=self.tools,
            recorder=UsageRecorder(
                self.store, cloud_model="claude-opus-4-6", clock=self.clock, metrics=self.metrics
            ),
            budget=Budget(
                self.store,
                daily_usd=self.daily_usd,
                user_daily_usd=self.user_daily_usd,
                clock=self.clock,
            ),
            channels=self.channels,
            config=self.config,
            clock=self.clock,
            metrics=self.metrics,
            recall=self.recall,
            remember=self.remember,
        )

    def task(self, goal: str = "check the config", **kw: object) -> TaskContext:
        """A task in the rig's thread."""
        return TaskContext(
            task_id="t1",
            goal=goal,
            chat=CHAT,
            requester=ANA,
            thread=TaskThread(
                self.adapter, CHAT, self.clock, metrics=self.metrics, live=self.live
            ),
            **kw,
        )

    async def run(self, goal: str = "check the config", **kw: object) -> str:
        """Run one task to the end; a failed task returns its line prefixed with "failed: "."""
        task = self.task(goal, **kw)
        try:
            return await self.runner().run(task)
        except TaskFailed as failed:
            return f"failed: {failed}"
        finally:
            await task.thread.pacer.drain()  # the card's last edit (as shutdown drains it)

    def texts(self) -> list[str]:
        """Every message in the thread as it looks now."""
        return self.adapter.texts(CHAT)


@pytest.fixture
def rig(db: Database, clock: FakeClock, tmp_path: Path) -> Rig:
    """A rig with empty scripts: tests add turns."""
    return Rig(
        db=db,
        adapter=FakeAdapter(),
        clock=clock,
        metrics=Metrics(),
        store=UsageStore(db),
        channels=ChannelSettings(KVStore(db), clock=clock),
        planner=ScriptedLLM(provider="ollama", model="gemma3:4b"),
        local=ScriptedLLM(provider="ollama", model="qwen2.5:3b"),
        cloud=ScriptedLLM(provider="anthropic", model="claude-opus-4-6", num_ctx=200_000),
        tools=FakeTools({"read_file": "port = 8080", "list_dir": "app.toml\nREADME.md"}),
        config=AgentConfig(workspace=tmp_path),
    )
