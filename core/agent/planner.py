"""Planner: the local planner model splits a goal into ordered subtasks (structured output)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from core.errors import LLMError
from core.llm.base import LLMClient, Message, TextDelta, TurnEnd
from core.memory.quote import prompt_block

log = logging.getLogger(__name__)

PLANNER_SYSTEM = """You are hearth's planner. Split the user's goal into a short ordered list of \
concrete steps that an assistant with shell and file tools can carry out one after another. \
Simple goals need exactly one step (the goal itself). Never more than {max_steps} steps. \
Answer with JSON only: {{"subtasks": ["step 1", "step 2"]}}."""


RUNBOOKS_PROMPT = """

Runbooks (tested instructions) are available for some kinds of goal:
{index}
If one of them fits the goal, add "runbook": "<its name>" to your JSON; its full instructions \
are then given to the assistant. Otherwise leave "runbook" out."""


def plan_schema(max_steps: int, runbooks: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON schema the planner's answer must follow (Ollama structured output)."""
    schema = _steps_schema(max_steps)
    if runbooks:
        schema["properties"]["runbook"] = {"type": "string", "enum": [*runbooks, ""]}
    return schema


def _steps_schema(max_steps: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "subtasks": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "maxItems": max_steps,
            }
        },
        "required": ["subtasks"],
    }


def parse_plan(text: str, max_steps: int) -> list[str] | None:
    """Subtasks from the planner's text, or None when it is malformed or empty."""
    try:
        data = json.loads(text.strip().removeprefix("```json").removesuffix("```").strip())
    except ValueError:
        return None
    items: Any = data.get("subtasks") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return None
    steps: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("description") or item.get("task") or item.get("title")
        if isinstance(item, str) and item.strip():
            steps.append(" ".join(item.split()))
    return steps[:max_steps] or None


def parse_runbook(text: str) -> str | None:
    """The ``runbook`` the planner's JSON names, if any."""
    try:
        data = json.loads(text.strip().removeprefix("```json").removesuffix("```").strip())
    except ValueError:
        return None
    name = data.get("runbook") if isinstance(data, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


class Planner:
    """Asks the planner model for subtasks; any failure falls back to the goal itself."""

    def __init__(
        self,
        llm: LLMClient,
        *,
        max_steps: int = 6,
        runbooks: Sequence[tuple[str, str]] = (),
    ) -> None:
        self._llm = llm
        self._max_steps = max_steps
        # Progressive disclosure: the planner sees names and descriptions only.
        self._runbooks = list(runbooks)
        self.runbook: str | None = None  # the runbook the last plan chose, if any

    async def plan(self, goal: str, *, memories: Sequence[str] = ()) -> list[str]:
        """Ordered subtasks for ``goal`` (at least one)."""
        prompt = f"Goal: {goal}"
        if memories:
            prompt += "\n\n" + prompt_block(memories)
        text = ""
        self.runbook = None
        system = PLANNER_SYSTEM.format(max_steps=self._max_steps)
        if self._runbooks:
            index = "\n".join(f"- {name}: {desc}" for name, desc in self._runbooks)
            system += RUNBOOKS_PROMPT.format(index=index)
        names = [name for name, _ in self._runbooks]
        try:
            async for event in self._llm.stream(
                [Message("user", prompt)],
                system=system,
                format=plan_schema(self._max_steps, names),
            ):
                if isinstance(event, TextDelta):
                    text += event.text
                elif isinstance(event, TurnEnd) and event.text:
                    text = event.text
        except asyncio.CancelledError:
            raise
        except LLMError as exc:
            log.warning("planner failed (%s); running the goal as one step", exc)
            return [goal]
        steps = parse_plan(text, self._max_steps)
        chosen = parse_runbook(text)
        self.runbook = chosen if chosen in names else None
        if steps is None:
            log.info("planner gave no usable plan (%r); running the goal as one step", text[:200])
            return [goal]
        return steps
