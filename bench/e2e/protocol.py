"""What both processes of ``bench e2e`` share: the answer, samples, writes, the side."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

ANSWER = "All good: nothing to do."


@dataclass(frozen=True)
class Sample:
    """One mention: seconds to the first post in its thread and to its final answer."""

    first: float
    final: float


@dataclass(frozen=True)
class Write:
    """A post or an edit by the app, as its server received it."""

    at: float  # seconds, on the side's clock (the same one as its start times)
    root: str  # the thread: the mention it answers
    text: str
    post: bool  # False for an edit


class Unavailable(RuntimeError):
    """The platform's server cannot run here (say why in the table, do not fail the bench)."""


class Side(Protocol):
    """One platform's server as the driver plays it."""

    called: asyncio.Event  # set whenever new writes may be there

    def addresses(self) -> dict[str, Any]:
        """What the app needs to connect (tokens, URLs, env)."""

    async def wait_socket(self) -> None:
        """Return once the app is connected and can be mentioned."""

    async def mention(self, text: str) -> str:
        """A user mentions the app with ``text``; the id of the thread it starts."""

    def start(self, root: str) -> float:
        """When the mention ``root`` was made, on the clock of ``Write.at``."""

    def writes(self) -> list[Write]:
        """The app's posts and edits since the last call, oldest first."""
