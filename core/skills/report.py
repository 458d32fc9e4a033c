"""Plain-text views of the skill library for the terminal (`hearth skills …`)."""

from __future__ import annotations

import time

from core.skills.commands import skill_details, skill_history
from core.skills.library import SkillLibrary
from core.skills.model import Status


async def terminal_list(library: SkillLibrary) -> str:
    """A table of every loaded skill, then the files that could not be loaded."""
    states = await library.states()
    rows = [["name", "kind", "origin", "status", "runs", "ok", "failed", "last run"]]
    for skill in library.all():
        st = states.get(skill.name)
        last = (
            time.strftime("%Y-%m-%d %H:%M", time.gmtime(st.last_run_at))
            if st and st.last_run_at
            else "-"
        )
        rows.append(
            [
                skill.name,
                skill.kind,
                skill.origin,
                st.status.value if st else "?",
                str(st.runs if st else 0),
                str(st.successes if st else 0),
                str(st.failures if st else 0),
                last,
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if library.problems:
        lines.append("")
        lines.append(f"not loaded ({len(library.problems)}):")
        lines += [f"  {p.line()}" for p in library.problems]
    return "\n".join(lines)


async def terminal_show(library: SkillLibrary, name: str) -> str | None:
    """One skill's details without chat markup; None when there is no such skill."""
    if library.get(name) is None:
        return None
    text = await skill_details(library, name)
    return text.replace("*", "").replace("`", "")


async def terminal_history(library: SkillLibrary, name: str) -> str | None:
    """Every stored version of a skill, without chat markup; None when there is none."""
    if not await library.history(name):
        return None
    text = await skill_history(library, name)
    return text.replace("*", "").replace("`", "")


def parse_status(action: str) -> Status:
    """enable → ACTIVE, disable → DISABLED."""
    return Status.ACTIVE if action == "enable" else Status.DISABLED
