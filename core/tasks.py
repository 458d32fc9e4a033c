"""A task as the dispatcher hands it to the runner (the agent)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from core.events import ChatRef, User
from core.thread import TaskThread

TASK_STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")


class WorkSlot:
    """A task's claim on one of the pool's slots, given back early by ``free()``.

    The slots bound the work (model calls, tools). Once only delivery is left (the answer's
    last post, the card's last edit), the task waits on the chat, not on the model: freeing the
    slot then lets the next task work meanwhile. Freeing twice, or before the pool bound the
    slot, does nothing.
    """

    def __init__(self) -> None:
        self._give_back: Callable[[], None] | None = None

    def bind(self, give_back: Callable[[], None]) -> None:
        """The pool says how the slot is given back (once the task holds one)."""
        self._give_back = give_back

    def free(self) -> None:
        """The task's work is done: give its slot back now."""
        give_back, self._give_back = self._give_back, None
        if give_back is not None:
            give_back()


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskContext:
    """One task: its goal, the thread it lives in, who asked, and a queue of steering text."""

    task_id: str
    goal: str
    chat: ChatRef  # the task's thread; everything the task posts goes here
    requester: User
    thread: TaskThread  # the one way a task shows anything in its chat
    is_direct: bool = False
    local_only: bool = False  # `local-only on` for this channel: never call the cloud
    origin: str = ""  # "job:<id>" for a scheduled run (its usage is counted apart)
    steering: asyncio.Queue[str] = field(default_factory=asyncio.Queue, compare=False)
    slot: WorkSlot = field(default_factory=WorkSlot, compare=False, repr=False)

    def take_steering(self) -> list[str]:
        """Drain text the user wrote in the thread since the last loop boundary."""
        out: list[str] = []
        while not self.steering.empty():
            out.append(self.steering.get_nowait())
        return out


class TaskRunner(Protocol):
    """Runs one task to completion, posting into its thread; returns a short result line."""

    async def run(self, task: TaskContext) -> str:
        """Do the work; raise to fail the task (the dispatcher tells the thread)."""
        ...
