"""Code skills offered to the executor as tools (ACTIVE and TESTING ones)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from core.skills.library import SkillLibrary
from core.skills.model import CodeSkill
from core.tools.base import ToolContext
from core.tools.registry import Tool, ToolOutput

Tell = Callable[[str], Awaitable[object]]  # posts in the task's thread


class SkillTools:
    """The offered skills' tools, each built once per loaded skill and shared by every task.

    The task (process owner, thread to tell) comes with each call's ToolContext.
    """

    def __init__(self, library: SkillLibrary) -> None:
        self._library = library
        self._built: dict[str, tuple[CodeSkill, Tool]] = {}

    def current(self) -> tuple[Tool, ...]:
        """One tool per code skill offered now; the same objects while a skill is unchanged."""
        if self._library.runner is None:
            return ()
        tools = []
        for skill in self._library.offered():
            known = self._built.get(skill.name)
            if known is None or known[0] is not skill:  # new, or reloaded from disk
                known = self._built[skill.name] = (skill, _tool(self._library, skill, None, None))
            tools.append(known[1])
        return tuple(tools)


def skill_tools(
    library: SkillLibrary, *, owner: str | None = None, tell: Tell | None = None
) -> list[Tool]:
    """One tool per offered code skill; each call runs the skill in the sandbox."""
    if library.runner is None:
        return []
    return [_tool(library, skill, owner, tell) for skill in library.offered()]


def _tool(library: SkillLibrary, skill: CodeSkill, owner: str | None, tell: Tell | None) -> Tool:
    import pydantic  # with the first skill offered: the process starts without it

    props: dict[str, Any] = skill.params.get("properties", {})
    required = set(skill.params.get("required", []))
    fields: dict[str, Any] = {
        name: (Any, ... if name in required else None)
        for name in props
        if name.isidentifier() and name != "ctx"
    }
    model = pydantic.create_model(  # type: ignore[call-overload]
        f"skill_{skill.name.replace('-', '_')}_arguments",
        __config__=pydantic.ConfigDict(extra="forbid"),
        **fields,
    )

    async def call(ctx: ToolContext | None = None, **kwargs: Any) -> ToolOutput:
        params = {k: v for k, v in kwargs.items() if v is not None}
        who = ctx.task_id if ctx is not None else owner
        say = ctx.tell if ctx is not None and ctx.tell is not None else tell
        outcome = await library.run(skill, params, owner=who)
        if outcome.lifecycle and say is not None:
            await say(outcome.lifecycle)  # a promotion or demotion: the thread is told
        return ToolOutput(outcome.text, is_error=not outcome.ok)

    examples = "; ".join(skill.examples[:3])
    return Tool(
        name=skill.name,
        description=f"{skill.description} (a tested skill; answers e.g.: {examples})",
        parameters={"type": "object", "properties": props, "required": sorted(required)},
        func=call,
        model=model,
        low_risk=lambda args: True,  # sandboxed: may run alongside other low-risk calls
        takes_context=True,
    )
