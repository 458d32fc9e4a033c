"""What the agent needs from tools: a context per call and a runner port."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.events import ChatRef, User
from core.llm.base import ToolCall, ToolResult, ToolSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolContext:
    """Who runs a tool call, for which task, where; approvals are asked in ``chat``."""

    task_id: str
    chat: ChatRef  # the task's thread: approval prompts go here
    requester: User
    workspace: Path
    unattended: bool = False  # scheduled work: nothing is ever auto-approved


class ToolRunner(Protocol):
    """The tools of one agent run, as the executor sees them."""

    def specs(self) -> Sequence[ToolSpec]:
        """Specs of every tool offered to the model."""
        ...

    def is_read_only(self, name: str) -> bool:
        """True for tools that change nothing (higher call caps, may run concurrently)."""
        ...

    def is_low_risk(self, call: ToolCall) -> bool:
        """True when this exact call needs no approval (may run concurrently with others)."""
        ...

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Execute one call; errors, refusals and denials come back as error results."""
        ...
