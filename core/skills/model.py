"""Skill values: code skills, runbook skills, their statuses, and load problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Status(StrEnum):
    """Where a skill stands: TESTING runs only when asked for; ACTIVE also answers matches."""

    TESTING = "TESTING"
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeSkill:
    """A Python module that answers one kind of request with no model call."""

    name: str
    description: str
    params: dict[str, Any] = field(hash=False)
    examples: tuple[str, ...]
    source: str = field(repr=False)
    path: Path
    origin: str  # builtin | data | dir
    version: int = 1
    kind: str = "code"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunbookSkill:
    """A SKILL.md folder: instructions for the agent, with optional scripts and references."""

    name: str
    description: str
    body: str = field(repr=False)
    path: Path  # the folder
    origin: str
    scripts: tuple[str, ...] = ()  # paths relative to the folder, e.g. "scripts/check.sh"
    version: int = 1
    kind: str = "runbook"


Skill = CodeSkill | RunbookSkill


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """A skill file that could not be loaded, and why (reported once, then skipped)."""

    path: Path
    error: str

    def line(self) -> str:
        """``path: error`` for lists and the doctor."""
        return f"{self.path}: {self.error}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SkillState:
    """A skill version's status and counters, as stored."""

    name: str
    version: int
    status: Status
    runs: int = 0
    successes: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_error: str = ""
    last_run_at: float | None = None
    origin: str = ""
    note: str = ""
    created_at: float = 0.0
