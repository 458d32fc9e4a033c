"""The verdict of a risk check, and the judge interface the per-command checks work against."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from core.tools.risk.words import Word

Level = Literal["low", "high", "blocked"]
RANK: dict[str, int] = {"low": 0, "high": 1, "blocked": 2}


@dataclass(frozen=True, slots=True)
class Risk:
    """How risky a call is: ``low`` runs, ``high`` asks an approver, ``blocked`` never runs."""

    level: Level
    reasons: tuple[str, ...] = ()

    @property
    def needs_approval(self) -> bool:
        """True when an approver must decide before it runs."""
        return self.level == "high"

    @property
    def blocked(self) -> bool:
        """True when the call is refused outright."""
        return self.level == "blocked"


LOW = Risk("low")


class Verdict:
    """The worst level seen so far and every reason for it."""

    def __init__(self) -> None:
        self.level: Level = "low"
        self.reasons: list[str] = []

    def flag(self, level: Level, reason: str) -> None:
        """Raise the level to at least ``level`` and remember why."""
        if RANK[level] > RANK[self.level]:
            self.level = level
        if reason not in self.reasons:
            self.reasons.append(reason)

    def result(self) -> Risk:
        """The verdict so far (a low verdict carries no reasons)."""
        if self.level == "low":
            return LOW
        return Risk(self.level, tuple(self.reasons))


class Judge(Protocol):
    """What a per-command check may ask of the walker that called it."""

    cwd: str | None
    cwd_moved: bool
    links_made: bool

    def flag(self, level: Level, reason: str) -> None:
        """Raise the level and remember why."""
        ...

    def script(self, text: str, depth: int) -> None:
        """Judge a whole command line."""
        ...

    def argv(self, words: Sequence[Word], depth: int) -> None:
        """Judge one simple command."""
        ...

    def command_string(self, word: Word, depth: int, via: str) -> None:
        """Judge a string that will run as a command line."""
        ...

    def assignment(self, text: str) -> None:
        """Judge a variable assignment."""
        ...

    def write_target(self, w: Word, via: str) -> None:
        """Judge a path something writes to."""
        ...

    def outside(self, text: str) -> bool:
        """True when a path leaves the workspace."""
        ...

    def rootish(self, w: Word) -> bool:
        """True for / and top-level system directories."""
        ...
