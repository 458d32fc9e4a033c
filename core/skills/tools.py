"""Code skills offered to the executor as tools (ACTIVE and TESTING ones)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pydantic

from core.skills.library import SkillLibrary
from core.skills.model import CodeSkill
from core.tools.registry import Tool, ToolOutput

Tell = Callable[[str], Awaitable[object]]  # posts in the task's thread


def skill_tools(
    library: SkillLibrary, *, owner: str | None = None, tell: Tell | None = None
) -> list[Tool]:
    """One tool per offered code skill; each call runs the skill in the sandbox."""
    if library.runner is None:
        return []
    return [_tool(library, skill, owner, tell) for skill in library.offered()]


def _tool(library: SkillLibrary, skill: CodeSkill, owner: str | None, tell: Tell | None) -> Tool:
    props: dict[str, Any] = skill.params.get("properties", {})
    required = set(skill.params.get("required", []))
    fields: dict[str, Any] = {
        name: (Any, ... if name in required else None) for name in props if name.isidentifier()
    }
    model = pydantic.create_model(  # type: ignore[call-overload]
        f"skill_{skill.name.replace('-', '_')}_arguments",
        __config__=pydantic.ConfigDict(extra="forbid"),
        **fields,
    )

    async def call(**kwargs: Any) -> ToolOutput:
        params = {k: v for k, v in kwargs.items() if v is not None}
        outcome = await library.run(skill, params, owner=owner)
        if outcome.lifecycle and tell is not None:
            await tell(outcome.lifecycle)  # a promotion or demotion: the thread is told
        return ToolOutput(outcome.text, is_error=not outcome.ok)

    examples = "; ".join(skill.examples[:3])
    return Tool(
        name=skill.name,
        description=f"{skill.description} (a tested skill; answers e.g.: {examples})",
        parameters={"type": "object", "properties": props, "required": sorted(required)},
        func=call,
        model=model,
        low_risk=lambda args: True,  # sandboxed: may run alongside other low-risk calls
    )
