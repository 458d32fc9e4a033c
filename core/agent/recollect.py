"""The agent's memory: recall before planning, and a summary written at the end of every task.

A task ends done, failed or cancelled; each way, a short summary (goal, outcome, key facts)
and the executor's discovery memos are stored in the task's scope. The executor model writes
the summary; when it is down, or the task was cancelled (the user said stop: no more model
calls), rules write it from the step results. Writes run as tracked background tasks, so a
slow embed never holds up the answer or the task's end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from core.agent.summary import StepOutcome
from core.errors import HearthError
from core.llm.base import LLMClient, Message, TextDelta, TurnEnd
from core.memory import MEMO, TASK, MemoryStore, MemoryUnavailable, for_prompt, scope_of
from core.tasks import TaskContext

log = logging.getLogger(__name__)

RECALL_K = 5
SUMMARY_CHARS = 800
SUMMARY_TIMEOUT = 60.0
STOP_GRACE = 15.0  # seconds shutdown waits for memory notes still being written

MEMORY_SYSTEM = """You write a short memory note about a finished task, for later tasks in \
the same conversation. Plain text, at most 5 lines: the goal, the outcome, and the key facts \
found (names, paths, ports, versions, commands that worked). Only facts from the results \
given; no advice, no instructions."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskEnd:
    """How a task ended, for its memory note."""

    status: str  # done | failed | cancelled
    outcomes: tuple[StepOutcome, ...] = ()
    memos: tuple[str, ...] = ()
    error: str = ""  # why it failed, when it raised
    llm: LLMClient | None = None  # the (metered) executor model; None = rules only


def rule_summary(goal: str, end: TaskEnd) -> str:
    """The memory note written without a model."""
    done = sum(o.ok for o in end.outcomes)
    lines = [f"Task: {' '.join(goal.split())}", f"Outcome: {end.status}"]
    if end.outcomes:
        lines[-1] += f" ({done}/{len(end.outcomes)} steps done)"
    if end.error:
        lines.append(f"Error: {end.error}")
    for o in end.outcomes:
        body = o.answer if o.ok else o.failure
        lines.append(f"- {o.subtask}: {_gist(body, 200)}")
    return "\n".join(lines)[:SUMMARY_CHARS]


def _gist(text: str, width: int) -> str:
    """The first ``width`` characters of ``text`` on one line; a long answer is not read whole."""
    head = " ".join(text[: 20 * width].split())
    return (head if len(head) > width else " ".join(text.split()))[:width]


async def model_summary(llm: LLMClient, goal: str, end: TaskEnd) -> str:
    """The memory note written by the executor model (raises HearthError when it fails)."""
    prompt = rule_summary(goal, end)
    text = ""
    async for event in llm.stream([Message("user", prompt)], system=MEMORY_SYSTEM):
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, TurnEnd) and event.text:
            text = event.text
    text = text.strip()
    if not text:
        raise HearthError("the model wrote an empty memory note")
    return f"Task: {' '.join(goal.split())[:200]} ({end.status})\n{text}"[:SUMMARY_CHARS]


class TaskMemory:
    """The runner's ``recall`` and ``remember`` hooks over a MemoryStore."""

    def __init__(self, store: MemoryStore, *, summary_timeout: float = SUMMARY_TIMEOUT) -> None:
        self._store = store
        self._timeout = summary_timeout
        self._writes: set[asyncio.Task[None]] = set()

    async def recall(self, task: TaskContext) -> list[str]:
        """Entries of the task's scope relevant to its goal, as quoted prompt lines."""
        scope = scope_of(task.chat, direct=task.is_direct)
        return [for_prompt(e) for e in await self._store.recall(scope, task.goal, RECALL_K)]

    def remember(self, task: TaskContext, end: TaskEnd) -> None:
        """Write the task's memory note in the background (tracked; see ``drain``)."""
        job = asyncio.create_task(self.write(task, end), name=f"memory:{task.task_id}")
        self._writes.add(job)
        job.add_done_callback(self._writes.discard)

    async def write(self, task: TaskContext, end: TaskEnd) -> None:
        """Summarise the task and store the note and its memos; never raises."""
        text = ""
        if end.llm is not None and end.status != "cancelled":
            try:
                async with asyncio.timeout(self._timeout):
                    text = await model_summary(end.llm, task.goal, end)
            except asyncio.CancelledError:
                raise
            except (HearthError, TimeoutError) as exc:
                log.info("memory note by rules for %s: the model failed (%s)", task.task_id, exc)
        text = text or rule_summary(task.goal, end)
        scope = scope_of(task.chat, direct=task.is_direct)
        who = dict(author=task.requester.qualified, author_name=task.requester.display_name)
        notes = [(TASK, text), *((MEMO, memo) for memo in dict.fromkeys(end.memos))]
        # Added at once, so the note and its memos are stored in one batch (one embed request).
        results = await asyncio.gather(
            *(
                self._store.add(scope=scope, kind=kind, text=body, task_id=task.task_id, **who)
                for kind, body in notes
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, MemoryUnavailable):
                continue  # already logged once for this outage
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):
                log.error(
                    "could not store the memory note of %s",
                    task.task_id,
                    exc_info=(type(result), result, result.__traceback__),
                )

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the background writes (tests; shutdown)."""
        pending: Sequence[asyncio.Task[None]] = list(self._writes)
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    async def expire(self) -> None:
        """Delete task summaries past MEMORY_TTL_DAYS (a daily scheduler job)."""
        try:
            removed = await self._store.expire()
        except MemoryUnavailable:
            return
        if removed:
            log.info("memory: %d task summaries expired", removed)

    async def start(self) -> None:
        """Nothing to do: the store opens on first use (the process start never waits)."""

    async def stop(self) -> None:
        """Let pending notes finish (briefly), then close the store."""
        await self.drain(timeout=STOP_GRACE)
        for job in list(self._writes):
            job.cancel()
        await asyncio.gather(*self._writes, return_exceptions=True)
        await self._store.close()
