"""EditPacer: every edit of one chat, one at a time, at the platform's pace; latest text wins."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core.errors import PlatformError, RateLimited
from core.events import MessageRef
from core.metrics import Metrics
from core.ports import ChatAdapter, Clock

log = logging.getLogger(__name__)

MAX_RATE_LIMITS = 12  # 429s on one message in a row before its edit is given up
MAX_ERRORS = 4  # other platform errors on one message in a row before its edit is given up
QUIET_AFTER = 3  # 429s in a row after which drafts are dropped until a final edit lands

EditCall = Callable[[], Awaitable[None]]
Frame = Callable[[], str]  # makes a draft's text when its edit is about to be sent


@dataclass
class _Job:
    """The newest wanted state of one message and everyone waiting for it."""

    ref: MessageRef
    call: EditCall
    text: str | None  # None for non-text edits (closing an approval prompt)
    draft: bool = False  # a streaming frame: may be dropped while the chat is rate limited
    urgent: bool = False  # the answer and approval outcomes go before progress-card updates
    waiters: list[asyncio.Future[bool]] = field(default_factory=list)
    rate_limits: int = 0
    errors: int = 0
    frame: Frame | None = None  # the text is made at send time (a streamed draft)


async def _unset() -> None:
    raise AssertionError("a frame's edit is made when it is sent")


class EditPacer:
    """Serves every edit of one chat (progress card, answer, approval prompts) in turn.

    At most one edit per ``min_edit_interval``; a message edited again before its turn keeps its
    place and only its newest text is sent (coalescing). ``RateLimited`` pushes every edit of
    the chat back by ``retry_after`` and the edit is retried, so a 429 loses nothing; other
    platform errors are retried a few times. The worker runs only while edits are queued.
    """

    def __init__(
        self,
        adapter: ChatAdapter,
        *,
        key: str,
        clock: Clock,
        metrics: Metrics | None = None,
        interval: float | None = None,
    ) -> None:
        self._adapter = adapter
        self._key = key
        self._clock = clock
        self._metrics = metrics or Metrics()
        self.interval = adapter.capabilities.min_edit_interval if interval is None else interval
        self._queue: dict[str, _Job] = {}  # message id -> job, in first-queued order
        self._shown: dict[str, str] = {}  # message id -> text last delivered
        self._next = float("-inf")
        self._limited_until = float("-inf")  # the platform's retry_after, kept even in a hurry
        self._rate_limits = 0  # in a row, over the whole chat
        self._worker: asyncio.Task[None] | None = None
        self._sending: _Job | None = None  # the edit being sent now
        self._nap: asyncio.Future[None] | None = None  # the wait for the next turn
        self.edits = 0  # delivered edits (bench, tests)

    @property
    def busy(self) -> bool:
        """True while edits are queued or being sent."""
        return bool(self._queue) or (self._worker is not None and not self._worker.done())

    def wrote(self, ref: MessageRef, text: str) -> None:
        """A message was just posted with ``text``: its next edit waits a full interval."""
        self._shown[ref.message_id] = text
        self._next = max(self._next, self._clock.monotonic() + self.interval)

    def shown(self, ref: MessageRef) -> str | None:
        """The text last delivered for ``ref`` (None when unknown)."""
        return self._shown.get(ref.message_id)

    @property
    def quiet(self) -> bool:
        """True while drafts are dropped because the platform keeps answering 429."""
        return self._rate_limits >= QUIET_AFTER

    def edit(
        self, ref: MessageRef, text: str, *, draft: bool = False, urgent: bool = False
    ) -> asyncio.Future[bool]:
        """Queue ``text`` for ``ref``; the future is True once it (or newer text) is shown.

        A ``draft`` is a frame that a newer one will replace: it is dropped (False) while the
        chat is rate limited, so only the final text is sent then. ``urgent`` edits (the
        answer) are sent before the others (progress-card updates) in the same pace.
        """
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._shown.get(ref.message_id) == text and ref.message_id not in self._queue:
            future.set_result(True)
            return future
        if draft and self.quiet:
            future.set_result(False)
            return future

        async def call() -> None:
            await self._adapter.edit(ref, text)

        return self._submit(ref, call, text, draft, urgent, future)

    def frame(
        self, ref: MessageRef, frame: Frame, *, urgent: bool = False
    ) -> asyncio.Future[bool]:
        """Queue a draft whose text ``frame()`` makes only when its turn comes (streaming).

        A long streamed answer is rendered once per edit actually sent, not once per token.
        """
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self.quiet:
            future.set_result(False)
            return future
        return self._submit(ref, _unset, None, True, urgent, future, frame)

    def call(self, ref: MessageRef, call: EditCall) -> asyncio.Future[bool]:
        """Queue a non-text edit of ``ref`` (closing an approval prompt), ahead of card updates."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        return self._submit(ref, call, None, False, True, future)

    def _submit(
        self,
        ref: MessageRef,
        call: EditCall,
        text: str | None,
        draft: bool,
        urgent: bool,
        future: asyncio.Future[bool],
        frame: Frame | None = None,
    ) -> asyncio.Future[bool]:
        job = self._queue.get(ref.message_id)
        if job is None:
            self._queue[ref.message_id] = _Job(
                ref, call, text, draft, urgent, [future], frame=frame
            )
        else:  # newer text replaces the queued one and keeps its place in line
            job.call, job.text, job.draft, job.frame = call, text, draft, frame
            job.urgent = job.urgent or urgent
            job.waiters.append(future)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name=f"pacer:{self._key}")
        return future

    async def drain(self) -> None:
        """Wait until every queued edit is delivered or given up."""
        while self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)

    def cancel(self) -> None:
        """Stop the worker; queued edits are given up (shutdown)."""
        if self._worker is not None:
            self._worker.cancel()

    def hurry(self) -> None:
        """Send what is queued without waiting out the pace (shutdown); 429s still count."""
        self.interval = 0.0
        self._next = self._limited_until
        if self._nap is not None:
            self._nap.cancel()

    def unsent(self) -> list[tuple[MessageRef, str]]:
        """The final texts still queued or being sent, oldest first (shutdown hands them on).

        Drafts are left out (a newer text was due to replace them), and so are non-text edits.
        """
        jobs = [self._sending] if self._sending is not None else []
        jobs += [j for j in self._queue.values() if j is not self._sending]
        return [(j.ref, j.text) for j in jobs if j.text is not None and not j.draft]

    async def _run(self) -> None:
        try:
            while self._queue:
                delay = self._next - self._clock.monotonic()
                if delay > 0:
                    await self._wait(delay)  # edits queued meanwhile are coalesced
                    continue  # a post meanwhile may have pushed the pace further
                message_id = next(
                    (k for k, j in self._queue.items() if j.urgent), next(iter(self._queue))
                )
                job = self._sending = self._queue.pop(message_id)
                delivered = await self._attempt(job)
                self._sending = None
                if delivered is None:
                    self._requeue(job)
                    continue
                for waiter in job.waiters:
                    if not waiter.done():
                        waiter.set_result(delivered)
        finally:
            self._sending = None
            # Only a cancelled worker (shutdown) leaves edits queued: they are given up.
            for job in self._queue.values():
                for waiter in job.waiters:
                    if not waiter.done():
                        waiter.set_result(False)
            self._queue.clear()

    async def _wait(self, delay: float) -> None:
        """Sleep ``delay`` s, or less when ``hurry`` cuts the wait short."""
        nap = self._nap = asyncio.ensure_future(self._clock.sleep(delay))
        try:
            await asyncio.wait({nap})  # a cancelled nap (hurry) ends the wait, not the worker
        finally:
            nap.cancel()
            self._nap = None

    def _requeue(self, job: _Job) -> None:
        newer = self._queue.pop(job.ref.message_id, None)
        if newer is not None:  # text queued while this one failed: send the newest
            job.call, job.text, job.draft = newer.call, newer.text, newer.draft
            job.frame = newer.frame
            job.urgent = job.urgent or newer.urgent
            job.waiters.extend(newer.waiters)
        # At the back of the line: the other messages of the chat get their turn first.
        self._queue[job.ref.message_id] = job

    async def _attempt(self, job: _Job) -> bool | None:
        """True delivered, False given up, None to retry later."""
        if job.frame is not None and not (job.draft and self.quiet):
            job.text = text = job.frame()
            job.call = functools.partial(self._adapter.edit, job.ref, text)
        if job.text is not None and self._shown.get(job.ref.message_id) == job.text:
            return True
        if job.draft and self.quiet:
            return False
        try:
            await job.call()
        except RateLimited as exc:
            self._metrics.inc("hearth_chat_rate_limited_total", platform=job.ref.chat.platform)
            job.rate_limits += 1
            self._rate_limits += 1
            self._next = self._clock.monotonic() + max(exc.retry_after, self.interval)
            self._limited_until = self._clock.monotonic() + exc.retry_after
            log.info("%s: wait %.1fs (%s)", job.ref.chat.platform, exc.retry_after, self._key)
            if job.rate_limits > MAX_RATE_LIMITS:
                log.error("gave up an edit in %s after %d rate limits", self._key, job.rate_limits)
                return False
            return None
        except Exception as exc:  # PlatformError, or an SDK's own bug: one failed attempt
            if not isinstance(exc, PlatformError):
                log.error("edit in %s raised %s", self._key, type(exc).__name__, exc_info=exc)
            job.errors += 1
            self._next = self._clock.monotonic() + max(self.interval, 1.0) * job.errors
            if job.errors > MAX_ERRORS:
                log.error("gave up an edit in %s: %s", self._key, exc)
                return False
            log.warning("edit failed in %s (%s); retrying", self._key, exc)
            return None
        self.edits += 1
        self._rate_limits = 0
        self._metrics.inc("hearth_chat_edits_total", platform=job.ref.chat.platform)
        if job.text is not None:
            self._shown[job.ref.message_id] = job.text
        self._next = self._clock.monotonic() + self.interval
        return True
