"""AgentParts: what every task of one AgentRunner works with (models, tools, stores, settings).

TaskRun gets these instead of the runner itself, so the runner imports TaskRun and nothing
imports the runner back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from core.agent.config import AgentConfig
from core.budget import Budget
from core.llm.base import LLMClient
from core.metrics import Metrics
from core.ports import Clock
from core.tasks import TaskContext
from core.tools.base import ToolRunner
from core.usage import UsageRecorder

CloudFactory = Callable[[], LLMClient]
ToolsFactory = Callable[[TaskContext], ToolRunner]
Recall = Callable[[TaskContext], Awaitable[list[str]]]


class Runbooks(Protocol):
    """Runbook skills as the agent sees them: an index for the planner, text when chosen."""

    async def index(self) -> list[tuple[str, str]]:
        """(name, description) of every runbook that may be chosen."""
        ...

    async def instructions(self, name: str) -> str:
        """The full instructions of a chosen runbook, ready for the executor's prompt."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentParts:
    """The runner's collaborators, shared by all of its tasks (never per-task state)."""

    planner_llm: LLMClient
    executor_llm: LLMClient
    cloud: CloudFactory | None  # None: no ANTHROPIC_API_KEY
    tools: ToolRunner | ToolsFactory
    recorder: UsageRecorder
    budget: Budget | None
    config: AgentConfig
    clock: Clock
    metrics: Metrics
    recall: Recall | None = None
    local_escalation: LLMClient | None = None  # ESCALATION_LOCAL_MODEL, tried before Claude
    runbooks: Runbooks | None = None

    def tools_for(self, task: TaskContext) -> ToolRunner:
        """The task's tools: the shared registry, or one made for the task."""
        if hasattr(self.tools, "specs"):
            return self.tools  # type: ignore[return-value]
        return self.tools(task)  # type: ignore[operator]
