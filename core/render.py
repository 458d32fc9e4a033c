"""StreamRenderer: turns streamed text into few post/edit calls, paced by the chat's EditPacer."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from core.clock import SystemClock
from core.errors import PlatformError, RateLimited
from core.events import ChatRef, MessageRef
from core.metrics import Metrics
from core.pacer import EditPacer
from core.ports import ChatAdapter, Clock
from core.textsplit import split_text

log = logging.getLogger(__name__)

CURSOR = " ▍"
MAX_POST_ATTEMPTS = 6
REPLACED_TAIL = "↪️ (replaced)"


class StreamRenderer:
    """Streams text into a chat as one or more messages, edited in place.

    The first text is posted at once; later text is handed to the chat's ``EditPacer``, which
    sends at most one edit per ``capabilities.min_edit_interval`` for the whole chat and only
    the newest frame of each message. Text is split at the platform limit; split points never
    move. Draft frames end with a cursor, the final frame does not. A rate-limited chat drops
    drafts and delivers the final frame by editing what is already there, never by posting a
    duplicate.

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
        pacer: EditPacer | None = None,
        hold: float = 0.0,
    ) -> None:
        self._adapter = adapter
        self._hold = hold  # seconds the first post waits for the whole answer
        self._chat = chat
        self._clock = clock or SystemClock()
        self._metrics = metrics or Metrics()
        self._pacer = pacer or EditPacer(
            adapter, key=chat.key, clock=self._clock, metrics=self._metrics
        )
        self._limit = max(16, adapter.capabilities.max_message_chars - len(CURSOR))
        self._text = ""
        self._refs: list[MessageRef] = []
        self._finished = False
        self._done = asyncio.Event()  # finish() or replace() was called
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._edits: list[asyncio.Future[bool]] = []
        self.first_visible: float | None = None  # monotonic time of the first post

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
        if self._finished:
            return
        if isinstance(exc, asyncio.CancelledError):
            self._text += "\n\n⏹ Stopped."
        elif exc is not None:
            self._text += "\n\n⚠️ Response interrupted."
        await self.finish()

    def start(self) -> None:
        """Start the background loop (done by ``async with`` and the first text)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"render:{self._chat.key}")

    def append(self, delta: str) -> None:
        """Add streamed text; it shows up at the chat's next allowed write."""
        if delta:
            self.show(self._text + delta)

    def show(self, text: str) -> None:
        """Set the whole draft (used when a filter hides part of what was streamed)."""
        if self._finished:
            raise RuntimeError("text added after finish()")
        if text != self._text:
            self._text = text
            self.start()
            self._wake.set()

    async def finish(self, final_text: str | None = None) -> None:
        """Render the final frame (no cursor) and wait until it is shown."""
        if final_text is not None:
            self._text = final_text
        self._finished = True
        self._done.set()
        self._wake.set()
        self.start()
        assert self._task is not None
        await self._task

    async def replace(self, note: str) -> None:
        """Seal the answer as replaced: its messages say so, nothing of it stays standing."""
        self._text = ""  # nothing more to post
        self._finished = True
        self._done.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        futures = [
            self._pacer.edit(ref, note if i == 0 else REPLACED_TAIL, urgent=True)
            for i, ref in enumerate(self._refs)
        ]
        if futures:
            await asyncio.gather(*futures)

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            if not self._refs and not self._finished and self._hold > 0:
                await self._held()
            self._wake.clear()
            final = self._finished  # read once: a frame is either a draft or the final
            try:
                await self._render(final=final)
            except PlatformError as exc:
                if final:
                    log.error("could not deliver the answer in %s: %s", self._chat.key, exc)
                    return
                log.warning("answer update failed in %s: %s", self._chat.key, exc)
            if final:
                if self._edits:
                    await asyncio.gather(*self._edits)
                return

    async def _held(self) -> None:
        """Wait up to the hold for the answer to end: a quick answer is posted once, final,
        with no draft and no paced edit after it."""
        done = asyncio.ensure_future(self._done.wait())
        pause = asyncio.ensure_future(self._clock.sleep(self._hold))
        try:
            await asyncio.wait({done, pause}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            done.cancel()
            pause.cancel()

    async def _render(self, *, final: bool) -> None:
        if not self._text.strip():
            return  # nothing to show yet (or a tool-only round)
        chunks = split_text(self._text, self._limit)
        self._edits = [f for f in self._edits if not f.done()]
        previous: asyncio.Future[bool] | None = None
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            body = chunk
            if last:  # the final frame may be tidied; drafts only ever grow
                body = chunk.rstrip() if final else chunk + CURSOR
            if i < len(self._refs):
                # A finished part never changes again: never dropped as a mere draft.
                previous = self._pacer.edit(
                    self._refs[i], body, draft=last and not final, urgent=True
                )
                self._edits.append(previous)
            else:
                if previous is not None and not previous.done():
                    # The part above is shown complete before the next one appears below it;
                    # text that arrived meanwhile goes into the new part at once.
                    await previous
                    return await self._render(final=final)
                self._refs.append(await self._post(body, final=final))
        if final:
            for ref in self._refs[len(chunks) :]:  # a shorter final text than the draft
                self._edits.append(self._pacer.edit(ref, "⋯", urgent=True))

    async def _post(self, body: str, *, final: bool) -> MessageRef:
        attempt = 0
        while True:
            attempt += 1
            try:
                ref = await self._adapter.post(self._chat, body)
            except RateLimited as exc:
                self._metrics.inc("hearth_chat_rate_limited_total", platform=self._chat.platform)
                if attempt >= MAX_POST_ATTEMPTS:
                    raise
                await self._clock.sleep(exc.retry_after)
                continue
            except PlatformError:
                if attempt >= (MAX_POST_ATTEMPTS if final else 1):
                    raise
                await self._clock.sleep(max(self._pacer.interval, 1.0) * attempt)
                continue
            self._metrics.inc("hearth_chat_posts_total", platform=self._chat.platform)
            self._pacer.wrote(ref, body)
            if self.first_visible is None:
                self.first_visible = self._clock.monotonic()
            return ref
