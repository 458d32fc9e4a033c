"""TaskThread: the one owner of everything a task shows in its thread, one edit pacer per chat."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping

from core.clock import SystemClock
from core.errors import PlatformError
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, MessageRef
from core.metrics import Metrics
from core.notices import EditNotice
from core.outbox import Outbox
from core.pacer import EditPacer
from core.ports import Capabilities, ChatAdapter, Clock
from core.progress import ProgressCard
from core.render import StreamRenderer

log = logging.getLogger(__name__)

MAX_IDLE_PACERS = 1000  # idle pacers kept; an evicted one only forgets its last edit time
ANSWER_HOLD = 0.3  # s an answer's first post waits: one finished by then is posted once, final


class TaskThread:
    """What a task posts into its thread: notes, the progress card, answers, approvals.

    Every edit of the chat, whoever makes it, goes through the chat's one ``EditPacer``, so
    the card, the streamed answer and approval prompts together stay within the platform's
    pace. ``live`` says whether answers stream as they are written (``STREAM_ANSWERS``).
    """

    def __init__(
        self,
        adapter: ChatAdapter,
        chat: ChatRef,
        clock: Clock | None = None,
        *,
        pacer: EditPacer | None = None,
        metrics: Metrics | None = None,
        live: bool = True,
        hold: float = 0.0,
    ) -> None:
        self.adapter = adapter
        self.chat = chat
        self.clock = clock or SystemClock()
        self.metrics = metrics or Metrics()
        self.pacer = pacer or EditPacer(
            adapter, key=chat.key, clock=self.clock, metrics=self.metrics
        )
        self.live = live
        self.hold = hold  # how long an answer's first post waits for the rest (see ANSWER_HOLD)
        self.stop_note = ""  # who stopped the task ("Stopped by alice."), for its final status
        self._card: ProgressCard | None = None

    @property
    def capabilities(self) -> Capabilities:
        """What the platform can do."""
        return self.adapter.capabilities

    async def say(self, text: str) -> MessageRef | None:
        """Post a new message; a platform failure is logged, not raised."""
        try:
            ref = await self.adapter.post(self.chat, text)
        except PlatformError as exc:
            log.warning("could not post in %s: %s", self.chat.key, exc)
            return None
        self.pacer.wrote(ref, text)
        self.metrics.inc("hearth_chat_posts_total", platform=self.chat.platform)
        return ref

    async def edit(self, ref: MessageRef, text: str) -> bool:
        """Edit a message at the chat's pace; True once shown."""
        return await self.pacer.edit(ref, text)

    def card(self, title: str) -> ProgressCard:
        """The task's one progress card (call ``start()`` to post it); made on first call."""
        if self._card is None:
            self._card = ProgressCard(
                self.adapter,
                self.chat,
                title=title,
                clock=self.clock,
                metrics=self.metrics,
                pacer=self.pacer,
            )
        return self._card

    def close_card_soon(self, status: str) -> None:
        """Show ``status`` on the card if one was posted (a queued task that never ran)."""
        if self._card is not None:
            self._card.close_soon(status)

    def stream(self) -> StreamRenderer:
        """A new streamed answer below everything posted so far."""
        return StreamRenderer(
            self.adapter,
            self.chat,
            clock=self.clock,
            metrics=self.metrics,
            pacer=self.pacer,
            hold=self.hold,
        )

    async def ask_approval(self, request: ApprovalRequest) -> MessageRef:
        """Post an approval prompt (the adapter renders it); raises when it cannot be posted."""
        # Not counted against the edit pace: its closing edit should land as soon as decided.
        return await self.adapter.ask_approval(self.chat, request)

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> bool:
        """Show the outcome on a prompt, in line with the chat's other edits; True once shown."""

        async def close() -> None:
            await self.adapter.close_approval(prompt, outcome)

        return await self.pacer.call(prompt, close)


class Threads:
    """Opens TaskThreads and owns the one pacer of each chat they share."""

    def __init__(
        self,
        adapters: Mapping[str, ChatAdapter],
        *,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        live: bool = True,
        hold: float = 0.0,
        outbox: Outbox | None = None,
    ) -> None:
        self._adapters = adapters
        self._outbox = outbox  # where final edits not sent by shutdown go
        self._clock = clock or SystemClock()
        self._metrics = metrics or Metrics()
        self.live = live
        self.hold = hold
        self._pacers: OrderedDict[str, EditPacer] = OrderedDict()

    def adapter(self, platform: str) -> ChatAdapter | None:
        """The adapter of ``platform``, if configured."""
        return self._adapters.get(platform)

    def open(self, chat: ChatRef) -> TaskThread:
        """The thread of ``chat``; KeyError when its platform has no adapter."""
        adapter = self._adapters.get(chat.platform)
        if adapter is None:
            raise KeyError(f"no adapter for platform {chat.platform!r}")
        return TaskThread(
            adapter,
            chat,
            self._clock,
            pacer=self.pacer(chat),
            metrics=self._metrics,
            live=self.live,
            hold=self.hold,
        )

    def pacer(self, chat: ChatRef) -> EditPacer:
        """The chat's one edit pacer."""
        pacer = self._pacers.get(chat.key)
        if pacer is None:
            pacer = EditPacer(
                self._adapters[chat.platform],
                key=chat.key,
                clock=self._clock,
                metrics=self._metrics,
            )
            self._pacers[chat.key] = pacer
            self._evict()
        self._pacers.move_to_end(chat.key)
        return pacer

    def _evict(self) -> None:
        if len(self._pacers) <= MAX_IDLE_PACERS:
            return  # the scan below is O(pacers): not on every new thread
        idle = [k for k, p in self._pacers.items() if not p.busy]
        for key in idle[: max(0, len(self._pacers) - MAX_IDLE_PACERS)]:
            del self._pacers[key]

    async def drain(self, timeout: float) -> None:
        """Send queued edits at once (shutdown), waiting up to ``timeout`` s.

        Final texts still unsent then (the platform kept answering 429) go to the outbox,
        which shows them after the restart: a card never stays "working" for good.
        """
        busy = [p for p in self._pacers.values() if p.busy]
        if not busy:
            return
        for pacer in busy:
            pacer.hurry()
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(p.drain() for p in busy))
        except TimeoutError:
            unsent = [edit for pacer in busy for edit in pacer.unsent()]
            for pacer in busy:
                pacer.cancel()
            await self._hand_on(unsent)

    async def _hand_on(self, unsent: list[tuple[MessageRef, str]]) -> None:
        if self._outbox is None:
            if unsent:
                log.warning("%d final edits not shown before shutdown", len(unsent))
            return
        for ref, text in unsent:
            name = f"final edit of {ref.chat.key}:{ref.message_id}"
            try:
                await self._outbox.put(ref.chat.platform, name, EditNotice(ref, text))
            except Exception:
                log.exception("could not keep the %s", name)
