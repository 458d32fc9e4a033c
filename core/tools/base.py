"""What the agent needs from tools: a context per call and a runner port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from core.events import ChatRef, User
from core.llm.base import ToolCall, ToolResult, ToolSpec
from core.tools.risk.verdict import LOW, Risk


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolContext:
    """Who runs a tool call, for which task, where; approvals are asked in ``chat``."""

    task_id: str
    chat: ChatRef  # the task's thread: approval prompts go here
    requester: User
    workspace: Path
    unattended: bool = False  # scheduled work: nothing is ever auto-approved
    tell: Callable[[str], Awaitable[object]] | None = None  # posts in the task's thread


@dataclass(frozen=True, slots=True)
class PreparedCall:
    """A call validated and judged once: its arguments, its risk, and whether it may run
    alongside other calls. ``error`` says why it cannot run at all (unknown tool, bad args)."""

    call: ToolCall
    args: Mapping[str, Any] = field(default_factory=dict)
    risk: Risk = LOW
    parallel: bool = False
    error: str | None = None


class ToolRunner(Protocol):
    """The tools of one agent run, as the executor sees them."""

    def specs(self) -> Sequence[ToolSpec]:
        """Specs of every tool offered to the model."""
        ...

    def is_read_only(self, name: str) -> bool:
        """True for tools that change nothing (higher call caps, may run concurrently)."""
        ...

    async def prepare(self, call: ToolCall) -> PreparedCall:
        """Validate and judge ``call`` once; never raises."""
        ...

    async def run(self, call: ToolCall | PreparedCall, ctx: ToolContext) -> ToolResult:
        """Execute one call; errors, refusals and denials come back as error results."""
        ...
