"""Chat commands of the skills library: `skills` and `skill <name> [enable|disable]`."""

from __future__ import annotations

import time

from core.commands import Command, CommandContext
from core.skills.library import SkillLibrary
from core.skills.model import CodeSkill, RunbookSkill, SkillState, Status


def skill_commands(library: SkillLibrary) -> list[Command]:
    """`skills` lists every skill with its status and counters; `skill <name>` shows one."""

    async def skills_cmd(ctx: CommandContext) -> str:
        return await skills_list(library)

    async def skill_cmd(ctx: CommandContext) -> str:
        name, _, action = ctx.args.strip().partition(" ")
        if not name:
            return "Usage: `skill <name>` (see `skills` for the names)."
        action, _, arg = action.strip().lower().partition(" ")
        if action == "history":
            return await skill_history(library, name)
        if action == "rollback":
            if not ctx.is_admin:
                return "Only an admin can roll a skill back."
            if not arg.strip().lstrip("v").isdigit():
                return f"Usage: `skill {name} rollback <version>` (see `skill {name} history`)."
            skill = await library.rollback(name, int(arg.strip().lstrip("v")))
            if skill is None:
                return f"`{name}` has no generated version {arg.strip()}."
            return f"`{name}` now runs v{skill.version}."
        if action in {"enable", "disable"}:
            if not ctx.is_admin:
                return f"Only an admin can {action} a skill."
            status = Status.ACTIVE if action == "enable" else Status.DISABLED
            if not await library.set_status(name, status):
                return f"There is no skill named `{name}`."
            return f"`{name}` is now {status.value}."
        if action:
            return (
                "Usage: `skill <name>`, `skill <name> history`, or (admins) "
                "`skill <name> enable|disable|rollback <version>`."
            )
        return await skill_details(library, name)

    return [
        Command(
            name="skills",
            usage="skills",
            help="the skills I know, with status and counters (`run <skill> …` runs one)",
            handler=skills_cmd,
        ),
        Command(
            name="skill",
            usage="skill <name>",
            help="what a skill does, its parameters and examples",
            handler=skill_cmd,
        ),
    ]


def _counters(state: SkillState | None) -> str:
    if state is None:
        return "not stored"
    text = f"{state.status.value}, {state.runs} runs"
    if state.runs:
        text += f" ({state.successes} ok, {state.failures} failed)"
    return text


async def skills_list(library: SkillLibrary) -> str:
    """Every loaded skill with status and counters, then the ones that failed to load."""
    states = await library.states()
    code = [s for s in library.all() if isinstance(s, CodeSkill)]
    runbooks = [s for s in library.all() if isinstance(s, RunbookSkill)]
    lines = [f"*Code skills* ({len(code)}) — answer with no model call:"]
    lines += [f"• `{s.name}` — {s.description} [{_counters(states.get(s.name))}]" for s in code]
    lines.append(f"*Runbooks* ({len(runbooks)}) — instructions the agent follows:")
    lines += [
        f"• `{s.name}` — {s.description} [{_counters(states.get(s.name))}]" for s in runbooks
    ]
    if library.problems:
        lines.append(f"*Not loaded* ({len(library.problems)}):")
        lines += [f"• {p.line()}" for p in library.problems]
    lines.append(
        "`skill <name>` shows one; `run <skill> key=value …` runs one; `ask …` skips skills."
    )
    return "\n".join(lines)


async def skill_details(library: SkillLibrary, name: str) -> str:
    """One skill: description, status, counters, parameters, examples or instructions."""
    skill = library.get(name)
    if skill is None:
        return f"There is no skill named `{name}`. Say `skills` for the list."
    state = await library.state(name)
    lines = [
        f"*{skill.name}* ({skill.kind}, {skill.origin}, v{skill.version}) — {skill.description}",
        f"Status: {_counters(state)}",
    ]
    if state and state.last_run_at:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(state.last_run_at))
        lines.append(f"Last run: {when}")
    if state and state.last_error:
        lines.append(f"Last error: {state.last_error[:300]}")
    if isinstance(skill, CodeSkill):
        props = skill.params.get("properties", {})
        required = set(skill.params.get("required", []))
        if props:
            lines.append("Parameters:")
            for pname, spec in props.items():
                kind = spec.get("type", "any")
                need = "required" if pname in required else f"default {spec.get('default', '—')}"
                desc = f" — {spec['description']}" if spec.get("description") else ""
                lines.append(f"• `{pname}` ({kind}, {need}){desc}")
        lines.append("Examples: " + "; ".join(f"“{e}”" for e in skill.examples))
    else:
        lines.append(f"Folder: {skill.path}")
        if skill.scripts:
            lines.append("Scripts: " + ", ".join(f"`{s}`" for s in skill.scripts))
        lines.append("The agent loads its instructions when the planner picks it.")
    return "\n".join(lines)


async def skill_history(library: SkillLibrary, name: str) -> str:
    """Every stored version with its status, counters and note; the one in use is marked."""
    versions = await library.history(name)
    if not versions:
        return f"There is no skill named `{name}`."
    current = library.get(name)
    lines = [f"*{name}* — versions:"]
    for v in versions:
        mark = " ← in use" if current is not None and current.version == v.version else ""
        when = time.strftime("%Y-%m-%d", time.gmtime(v.created_at)) if v.created_at else "?"
        note = f" — {v.note}" if v.note else ""
        lines.append(f"• v{v.version} ({v.origin}, {when}): {_counters(v)}{note}{mark}")
    return "\n".join(lines)
