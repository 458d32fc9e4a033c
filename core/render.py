"""StreamRenderer: turns streamed text deltas into few post/edit calls within platform limits."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from core.clock import SystemClock
from core.errors import PlatformError, RateLimited
from core.events import ChatRef, MessageRef
from core.metrics import Metrics
from core.ports import ChatAdapter, Clock
from core.textsplit import split_text

log = logging.getLogger(__name__)

CURSOR = " ▍"
MAX_DRAFT_RATE_LIMITS = 3  # consecutive 429s before drafts stop and only the final is sent
MAX_FINAL_ATTEMPTS = 8


class StreamRenderer:
    """Streams text into a chat as one or more messages, edited in place.

    The first text is posted at once; later deltas are coalesced into at most one write per
    ``capabilities.min_edit_interval``. Text is split at the platform limit; split points never
    move. Draft frames end with a cursor, the final frame does not. ``RateLimited`` from the
    adapter postpones the next write; after repeated rate limits drafts stop and only the final
    frame is delivered (by editing what is already there, never by posting a duplicate).

        async with StreamRenderer(adapter, chat) as out:
            async for delta in deltas:
                out.append(delta)
    """

    def __init__(
        self,
        adapter: ChatAdapter,
        chat: ChatRef,
        *,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._adapter = adapter
        self._chat = chat
        self._clock = clock or SystemClock()
        self._metrics = metrics or Metrics()
        caps = adapter.capabilities
        self._interval = caps.min_edit_interval
        self._limit = max(16, caps.max_message_chars - len(CURSOR))
        self._text = ""
        self._refs: list[MessageRef] = []
        self._shown: list[str] = []
        self._next_allowed = float("-inf")
        self._finished = False
        self._rate_limits = 0
        self._drafts_off = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def messages(self) -> list[MessageRef]:
        """Refs of the messages posted so far, in order."""
        return list(self._refs)

    @property
    def text(self) -> str:
        """Everything appended so far."""
        return self._text

    async def __aenter__(self) -> StreamRenderer:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, asyncio.CancelledError):
            self._text += "\n\n⏹ Stopped."
        elif exc is not None:
            self._text += "\n\n⚠️ Response interrupted."
        await self.finish()

    def start(self) -> None:
        """Start the background flush loop (done by ``async with``)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"render:{self._chat.key}")

    def append(self, delta: str) -> None:
        """Add streamed text; it shows up at the next allowed write."""
        if self._finished:
            raise RuntimeError("append() after finish()")
        if delta:
            self._text += delta
            self._wake.set()

    async def finish(self, final_text: str | None = None) -> None:
        """Render the final frame (no cursor) and wait until it is shown."""
        if final_text is not None:
            self._text = final_text
        self._finished = True
        self._wake.set()
        self.start()
        assert self._task is not None
        await self._task

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._drafts_off and not self._finished:
                continue  # rate limited too often: wait for the final frame only
            delay = self._next_allowed - self._clock.monotonic()
            if delay > 0:
                await self._clock.sleep(delay)  # deltas arriving meanwhile are coalesced
            final = self._finished  # read once: a frame is either a draft or the final
            try:
                await self._flush(final=final)
            except RateLimited as e:
                if self._on_rate_limited(e.retry_after, final):
                    continue
                log.error("gave up on %s after %d rate limits", self._chat.key, self._rate_limits)
                return
            except PlatformError as e:
                if not final:
                    log.warning("draft update failed in %s: %s", self._chat.key, e)
                    self._next_allowed = self._clock.monotonic() + max(self._interval, 1.0)
                    continue
                if not await self._retry_final(e):
                    return
            if final:
                return

    def _on_rate_limited(self, retry_after: float, final: bool) -> bool:
        """Schedule the next attempt; False when the final frame should be given up."""
        self._metrics.inc("hearth_chat_rate_limited_total", platform=self._chat.platform)
        self._rate_limits += 1
        log.info("%s: wait %.1fs (%s)", self._chat.platform, retry_after, self._chat.key)
        self._next_allowed = self._clock.monotonic() + max(retry_after, self._interval)
        if self._rate_limits >= MAX_DRAFT_RATE_LIMITS and not self._drafts_off:
            log.warning("too many rate limits in %s: sending only the final text", self._chat.key)
            self._drafts_off = True
        if final and self._rate_limits > MAX_DRAFT_RATE_LIMITS + MAX_FINAL_ATTEMPTS:
            return False
        self._wake.set()
        return True

    async def _retry_final(self, error: PlatformError) -> bool:
        """A final write failed for a reason other than a rate limit: try a few more times."""
        for attempt in range(1, 4):
            log.warning("final update failed in %s (%s), retry %d", self._chat.key, error, attempt)
            await self._clock.sleep(max(self._interval, 1.0) * attempt)
            try:
                await self._flush(final=True)
                return False
            except RateLimited as e:
                await self._clock.sleep(e.retry_after)
            except PlatformError as e:
                error = e
        log.error("could not deliver the final text in %s: %s", self._chat.key, error)
        return False

    async def _flush(self, *, final: bool) -> None:
        if not self._text.strip():
            return  # nothing to show yet (or a tool-only round)
        chunks = split_text(self._text, self._limit)
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            body = chunk
            if last:  # the final frame may be tidied; drafts only ever grow
                body = chunk.rstrip() if final else chunk + CURSOR
            if i < len(self._refs):
                if self._shown[i] != body:
                    await self._adapter.edit(self._refs[i], body)
                    self._metrics.inc("hearth_chat_edits_total", platform=self._chat.platform)
                    self._shown[i] = body
            else:
                self._refs.append(await self._adapter.post(self._chat, body))
                self._metrics.inc("hearth_chat_posts_total", platform=self._chat.platform)
                self._shown.append(body)
        self._rate_limits = 0 if not self._drafts_off else self._rate_limits
        self._next_allowed = self._clock.monotonic() + self._interval
