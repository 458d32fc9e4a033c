"""Runbook skills for the agent: names and descriptions for the planner, full text when chosen.

A chosen runbook's folder (scripts, references) is copied into the workspace, because the
sandbox hides hearth's data dir and the shell tool works in the workspace: its scripts then
run through the shell tool like any command, with the usual approval when risky.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from core.skills.library import SkillLibrary
from core.skills.model import RunbookSkill

log = logging.getLogger(__name__)

COPY_DIR = ".hearth-runbooks"  # inside the workspace


class RunbookShelf:
    """Implements core.agent.runner.Runbooks over the skill library."""

    def __init__(self, library: SkillLibrary, workspace: Path) -> None:
        self._library = library
        self._workspace = workspace

    async def index(self) -> list[tuple[str, str]]:
        """(name, description) of every runbook that is not disabled."""
        return [(r.name, r.description) for r in await self._library.runbooks()]

    async def instructions(self, name: str) -> str:
        """The runbook's instructions, after copying its files into the workspace."""
        skill = self._library.get(name)
        if not isinstance(skill, RunbookSkill):
            return ""
        where = self.copy_files(skill)
        await self._library.count_use(skill)
        files = ""
        if where is not None:
            files = (
                f"Its files (scripts/, references/) are in `{where}/` under your working "
                f"directory: run a script as `bash {where}/scripts/<name>`, read a reference "
                f"with read_file `{where}/references/<name>`. Where the runbook says "
                f"`scripts/…` it means `{where}/scripts/…`.\n\n"
            )
        return (
            f"Follow the runbook `{skill.name}` ({skill.description}).\n{files}"
            f"--- runbook {skill.name} ---\n{skill.body}\n--- end of runbook ---"
        )

    def copy_files(self, skill: RunbookSkill) -> str | None:
        """Copy everything but SKILL.md into the workspace; the relative folder, or None."""
        extra = [p for p in skill.path.iterdir() if p.name != "SKILL.md"]
        if not extra:
            return None
        rel = f"{COPY_DIR}/{skill.name}"
        target = self._workspace / rel
        try:
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(skill.path, target, ignore=shutil.ignore_patterns("SKILL.md"))
        except OSError as exc:
            log.warning("could not copy runbook %s into the workspace: %s", skill.name, exc)
            return None
        return rel
