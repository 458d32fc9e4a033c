"""TaskPool: runs tasks as named, tracked coroutines under global and per-user limits."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from core.clock import SystemClock
from core.errors import HearthError, Redelivered, TaskFailed
from core.logctx import bind_task
from core.metrics import Metrics
from core.ports import Clock
from core.storage.tasks import TaskStore
from core.tasks import TaskContext, TaskRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TaskLimits:
    """MAX_CONCURRENT_TASKS and MAX_TASKS_PER_USER."""

    max_concurrent: int = 4
    per_user: int = 2


@dataclass
class _Handle:
    ctx: TaskContext
    task: asyncio.Task[None] | None = None
    running: bool = False
    holding: bool = False  # holds one of the slots (given back when its work is done)
    cancel_note: str = ""
    stop_early: bool = False  # stopped while submit() was still writing its row
    started_at: float = field(default_factory=time.monotonic)


class TaskPool:
    """Owns every running task; ``shutdown`` gives them a grace period, then cancels them."""

    def __init__(
        self,
        runner: TaskRunner,
        store: TaskStore,
        *,
        limits: TaskLimits,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._runner = runner
        self._store = store
        self._limits = limits
        self._clock = clock or SystemClock()
        self._metrics = metrics or Metrics()
        self._slots = asyncio.Semaphore(limits.max_concurrent)
        self._handles: dict[str, _Handle] = {}  # task id → handle
        self._writes: set[asyncio.Task[None]] = set()  # final status writes in flight
        self._submits: set[asyncio.Future[None]] = set()  # task rows being written
        self._closing = False

    @property
    def limits(self) -> TaskLimits:
        """The configured limits."""
        return self._limits

    def active(self) -> list[TaskContext]:
        """Tasks queued or running, oldest first."""
        return [h.ctx for h in self._handles.values()]

    def queue_depth(self) -> int:
        """Tasks waiting for a free slot."""
        return sum(1 for h in self._handles.values() if not h.running)

    def running_count(self) -> int:
        """Tasks started (working, or delivering their answer)."""
        return sum(1 for h in self._handles.values() if h.running)

    def in_chat(self, chat_key: str) -> TaskContext | None:
        """The active task living in this thread, if any."""
        for h in self._handles.values():
            if h.ctx.chat.key == chat_key:
                return h.ctx
        return None

    def count_for(self, requester: str) -> int:
        """Active tasks of one user (``platform:id``)."""
        return sum(1 for h in self._handles.values() if h.ctx.requester.qualified == requester)

    async def submit(self, ctx: TaskContext, *, delivery: str | None = None) -> int | None:
        """Persist and start ``ctx``; None when it runs now, else how many wait ahead of it.

        ``delivery``: the asking message's key, recorded as seen with the task row in one
        write; raises Redelivered (nothing started) when it was seen before.
        """
        if self._closing:
            raise HearthError("hearth is shutting down")
        ahead = self.queue_depth() if self._slots.locked() else None
        if ahead is None:
            # A free slot is taken without waiting, so the row is written once, as running:
            # one statement less between a message and its first reply.
            await self._slots.acquire()
        # Counted from now, before the write below yields: a second message of the same user,
        # handled meanwhile, sees this task against MAX_TASKS_PER_USER.
        handle = _Handle(ctx, running=ahead is None, holding=ahead is None)
        self._handles[ctx.task_id] = handle
        submitted = asyncio.get_running_loop().create_future()
        self._submits.add(submitted)
        try:
            created = await self._store.create(
                task_id=ctx.task_id,
                requester=ctx.requester.qualified,
                chat=ctx.chat,
                goal=ctx.goal,
                now=self._clock.now(),
                running=ahead is None,
                delivery=delivery,
            )
            if not created:
                raise Redelivered(f"delivery {delivery} was already handled")
        except BaseException:
            del self._handles[ctx.task_id]
            self._give_back(handle)
            raise
        finally:
            self._submits.discard(submitted)
            submitted.set_result(None)
        self._metrics.inc("hearth_tasks_total", status="queued")
        handle.task = asyncio.create_task(self._run(handle), name=f"task:{ctx.task_id}")
        return ahead

    async def wait(self, task_id: str) -> None:
        """Return when the task has ended and its final status is stored."""
        handle = self._handles.get(task_id)
        if handle is not None and handle.task is not None:
            await asyncio.wait({handle.task})
        if self._writes:
            await asyncio.wait(set(self._writes))

    async def idle(self) -> None:
        """Return once no task is queued or running and every final status is stored."""
        while self._handles or self._writes or self._submits:
            pending = {h.task for h in self._handles.values() if h.task is not None}
            await asyncio.wait(pending | set(self._writes) | set(self._submits))

    def cancel(self, task_id: str, note: str) -> bool:
        """Cancel a queued or running task; ``note`` is told in its thread."""
        handle = self._handles.get(task_id)
        if handle is None or (handle.task is not None and handle.task.done()):
            return False
        handle.cancel_note = note
        handle.ctx.thread.stop_note = note
        if handle.task is None:
            handle.stop_early = True  # its row is still being written: it stops as it starts
        else:
            handle.task.cancel()
        return True

    async def shutdown(self, grace: float, *, cancel_wait: float = 10.0) -> None:
        """Stop accepting work, wait up to ``grace`` seconds, then cancel what still runs.

        Cancelled tasks get ``cancel_wait`` seconds to tell their threads; one still busy then
        is cancelled again, so shutdown stays bounded.
        """
        self._closing = True
        tasks = [h.task for h in self._handles.values() if h.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for handle in list(self._handles.values()):
                if handle.task in pending:
                    self.cancel(
                        handle.ctx.task_id, "hearth is shutting down; this task was stopped."
                    )
            if pending:
                _, late = await asyncio.wait(pending, timeout=cancel_wait)
                for task in late:
                    task.cancel()
                if late:
                    await asyncio.wait(late, timeout=cancel_wait)
        if self._writes:
            await asyncio.wait(set(self._writes), timeout=10)

    async def _run(self, handle: _Handle) -> None:
        ctx = handle.ctx
        with bind_task(ctx.task_id):
            status, result = "failed", ""
            ran = False  # the runner was called (it closes the card itself)
            try:
                if handle.stop_early:
                    raise asyncio.CancelledError
                if not handle.holding:  # submit() may already hold a slot for us
                    await self._slots.acquire()
                    handle.holding = handle.running = True
                    await self._store.mark_running(ctx.task_id, self._clock.now())
                # The runner gives the slot back as soon as only delivery is left.
                ctx.slot.bind(lambda: self._give_back(handle))
                self._metrics.inc("hearth_tasks_total", status="running")
                log.info("task started: %s", ctx.goal[:80])
                ran = True
                result = await self._runner.run(ctx) or ""
                status = "done"
            except TaskFailed as exc:  # the runner already told the thread why
                result = f"failed: {exc}"
            except asyncio.CancelledError:
                status, result = "cancelled", handle.cancel_note or "cancelled"
                if not ran:  # stopped while queued: its queued card says so
                    note = (handle.cancel_note or "Cancelled.").rstrip(".")
                    ctx.thread.close_card_soon(f"⏹ {note}")
                await self._tell(ctx, f"⏹ {handle.cancel_note or 'Task cancelled.'}")
                raise
            except Exception as exc:
                log.exception("task %s failed", ctx.task_id)
                result = _describe(exc)
                if not ran:
                    ctx.thread.close_card_soon("❌ Failed")
                await self._tell(ctx, f"❌ Failed: {result}")
            finally:
                self._give_back(handle)
                self._handles.pop(ctx.task_id, None)
                self._metrics.inc("hearth_tasks_total", status=status)
                log.info("task %s: %s", status, result[:120])
                # The final row is written by its own tracked task, so a second cancellation
                # cannot interrupt it and shutdown() can wait for it before the db closes.
                write = asyncio.create_task(
                    self._store.finish(ctx.task_id, status, result, self._clock.now()),
                    name=f"task-finish:{ctx.task_id}",
                )
                self._writes.add(write)
                write.add_done_callback(self._writes.discard)
                await asyncio.shield(write)

    def _give_back(self, handle: _Handle) -> None:
        if handle.holding:
            handle.holding = False
            self._slots.release()

    async def _tell(self, ctx: TaskContext, text: str) -> None:
        try:
            await ctx.thread.say(text)
        except Exception:
            log.warning("could not tell %s: %s", ctx.chat.key, text, exc_info=True)


def _describe(exc: BaseException) -> str:
    """A one-line description of an error for the thread (never a traceback)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
