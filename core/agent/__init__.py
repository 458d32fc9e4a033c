"""The agent: plan with the local planner, execute with tools, verify, escalate, summarise."""

from core.agent.config import AgentConfig
from core.agent.executor import Executor, SubtaskResult
from core.agent.planner import Planner
from core.agent.runner import AgentRunner

__all__ = ["AgentConfig", "AgentRunner", "Executor", "Planner", "SubtaskResult"]
