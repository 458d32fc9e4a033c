"""StreamRenderer: turns streamed text into few post/edit calls, paced by the chat's EditPacer.

A long answer costs time linear in its length: text is kept as pieces, split incrementally
(parts cut for good are never cut again), and the last part's draft is made only when the pacer
sends its edit, not once per token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from core.clock import SystemClock
from core.errors import PlatformError, RateLimited
from core.events import ChatRef, MessageRef
from core.metrics import Metrics
from core.pacer import EditPacer
from core.ports import ChatAdapter, Clock
from core.textsplit import Splitter

log = logging.getLogger(__name__)

CURSOR = " ▍"
MAX_POST_ATTEMPTS = 6
REPLACED_TAIL = "↪️ (replaced)"


@dataclass(frozen=True, slots=True)
class Draft:
    """What a followed source shows now: text added for good, then an end that may change."""

    added: str  # since the last draft (everything, when ``reset``)
    tail: str
    reset: bool = False  # what was shown before is replaced by ``added``


DraftSource = Callable[[], Draft]


class StreamRenderer:
    """Streams text into a chat as one or more messages, edited in place.

    The first text is posted at once; later text is handed to the chat's ``EditPacer``, which
    sends at most one edit per ``capabilities.min_edit_interval`` for the whole chat and makes
    the newest frame of each message when it sends it. Text is split at the platform limit;
    split points never move. Draft frames end with a cursor, the final frame does not. A
    rate-limited chat drops drafts and delivers the final frame by editing what is already
    there, never by posting a duplicate.

        async with StreamRenderer(adapter, chat) as out:
            async for delta in deltas:
                out.append(delta)

    A filtered stream (the live answer) is ``follow``-ed instead: its source is asked for the
    draft only when a frame is made, and ``touch`` says it has more.
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
        self._split = Splitter(self._limit)
        self._added: list[str] = []  # text for good, not split yet
        self._all: list[str] = []  # all text for good (``text``)
        self._tail = ""  # the end that may still change (a followed source's)
        self._source: DraftSource | None = None
        self._refs: list[MessageRef] = []
        self._closed = 0  # leading parts shown complete for good: never rendered again
        self._above: asyncio.Future[bool] | None = None  # the last complete part's edit
        self._frame_queued = False
        self._overflow = False  # a frame found the last part full: post the next one
        self._finished = False
        self._done = asyncio.Event()  # finish() or replace() was called
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._edits: list[asyncio.Future[bool]] = []
        self.first_visible: float | None = None  # monotonic time of the first post
        self.frames = 0  # drafts made when their edit was sent (tests, bench)

    @property
    def messages(self) -> list[MessageRef]:
        """Refs of the messages posted so far, in order."""
        return list(self._refs)

    @property
    def text(self) -> str:
        """Everything appended so far."""
        self._pull()
        if len(self._all) > 1:
            self._all = ["".join(self._all)]
        return (self._all[0] if self._all else "") + self._tail

    @property
    def splitter(self) -> Splitter:
        """The incremental splitter (tests: how much text it handled)."""
        return self._split

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
            await self.finish(self.text + "\n\n⏹ Stopped.")
        elif exc is not None:
            await self.finish(self.text + "\n\n⚠️ Response interrupted.")
        else:
            await self.finish()

    def start(self) -> None:
        """Start the background loop (done by ``async with`` and the first text)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"render:{self._chat.key}")

    def append(self, delta: str) -> None:
        """Add streamed text; it shows up at the chat's next allowed write."""
        if self._finished:
            raise RuntimeError("text added after finish()")
        if delta:
            self._added.append(delta)
            self._all.append(delta)
            self._changed()

    def show(self, text: str) -> None:
        """Set the whole draft (used when a filter hides part of what was streamed)."""
        if self._finished:
            raise RuntimeError("text added after finish()")
        if text != self.text:
            self._source = None
            self._restart(text)
            self._changed()

    def follow(self, source: DraftSource) -> None:
        """Take the draft from ``source`` whenever a frame is made (call ``touch`` on news)."""
        if self._finished:
            raise RuntimeError("text added after finish()")
        self._source = source
        self._changed()

    def touch(self) -> None:
        """The followed source has more to show."""
        if not self._finished:
            self._changed()

    async def finish(self, final_text: str | None = None) -> None:
        """Render the final frame (no cursor) and wait until it is shown."""
        if final_text is not None:
            self._restart(final_text)
        else:
            self._pull()
        self._source = None
        self._finished = True
        self._done.set()
        self._wake.set()
        self.start()
        assert self._task is not None
        await self._task

    async def replace(self, note: str) -> None:
        """Seal the answer as replaced: its messages say so, nothing of it stays standing."""
        self._source = None
        self._restart("")  # nothing more to post
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

    def _changed(self) -> None:
        self.start()
        self._wake.set()

    def _restart(self, text: str) -> None:
        """Replace all text: every part is split and checked again."""
        self._split = Splitter(self._limit)
        self._added, self._all, self._tail = [text], [text], ""
        self._closed = 0

    def _pull(self) -> None:
        if self._source is None:
            return
        draft = self._source()
        if draft.reset:
            self._restart(draft.added)
        elif draft.added:
            self._added.append(draft.added)
            self._all.append(draft.added)
        self._tail = draft.tail

    def _chunks(self) -> list[str]:
        """The parts of the text as it stands; costs only the text after the last kept cut."""
        self._pull()
        added = "".join(self._added)
        self._added.clear()
        return self._split.split(added, self._tail)

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
        if not final and self._refs and not self._overflow:
            self._frame()  # the last part's draft is made when its edit is sent
            return
        self._overflow = False
        while True:
            chunks = self._chunks()
            if len(chunks) == 1 and not chunks[0].strip():
                return  # nothing to show yet (or a tool-only round)
            self._edits = [f for f in self._edits if not f.done()]
            if await self._render_parts(chunks, final=final):
                break
        if final:
            for ref in self._refs[len(chunks) :]:  # a shorter final text than the draft
                self._edits.append(self._pacer.edit(ref, "⋯", urgent=True))

    async def _render_parts(self, chunks: list[str], *, final: bool) -> bool:
        """Edit and post the parts; False when the text must be split again first."""
        for i in range(self._closed, len(chunks)):
            last = i == len(chunks) - 1
            body = chunks[i]
            if last:  # the final frame may be tidied; drafts only ever grow
                body = body.rstrip() if final else body + CURSOR
            if i < len(self._refs):
                if last and not final:
                    self._frame()
                    continue
                # A finished part never changes again: never dropped as a mere draft.
                edit = self._pacer.edit(self._refs[i], body, urgent=True)
                self._edits.append(edit)
                if not last:
                    self._above = edit
            else:
                if self._above is not None and not self._above.done():
                    # The part above is shown complete before the next one appears below it;
                    # text that arrived meanwhile goes into the new part at once.
                    await self._above
                    return False
                self._refs.append(await self._post(body, final=final))
            if not last and i < len(self._split.kept):
                self._closed = i + 1
        return True

    def _frame(self) -> None:
        """Queue the last part's draft; the pacer makes it from the newest text when sending."""
        if self._frame_queued:
            return
        index = len(self._refs) - 1
        ref = self._refs[index]

        def make() -> str:
            self._frame_queued = False
            self.frames += 1
            chunks = self._chunks()
            if index >= len(chunks):  # the draft got shorter: leave the part as it is
                return self._pacer.shown(ref) or chunks[-1]
            if index < len(chunks) - 1:  # the part is full: the loop posts the next one
                self._overflow = True
                self._wake.set()
                return chunks[index]
            return chunks[index] + CURSOR

        self._frame_queued = True
        future = self._pacer.frame(ref, make, urgent=True)
        future.add_done_callback(self._frame_sent)

    def _frame_sent(self, _: asyncio.Future[bool]) -> None:
        self._frame_queued = False

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
