"""The task id of the code that is running, for log lines (a contextvar, so asyncio-safe).

The dispatcher wraps each task's work in ``with bind_task(task_id):``. asyncio copies the
context into every task created inside that block (renderer loops, tool subprocess readers),
so all of their log lines carry the id too; bot/logging.py reads it with ``current_task_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_task_id: ContextVar[str | None] = ContextVar("hearth_task_id", default=None)


def current_task_id() -> str | None:
    """The id of the task whose code is running, or None outside any task."""
    return _task_id.get()


@contextmanager
def bind_task(task_id: str) -> Iterator[None]:
    """Mark everything run inside the block (and tasks it creates) as part of ``task_id``."""
    token = _task_id.set(task_id)
    try:
        yield
    finally:
        _task_id.reset(token)
