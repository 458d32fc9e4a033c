"""LiveAnswer: a step's answer streamed into the thread while the model writes it."""

from __future__ import annotations

from core.agent.confidence import visible_draft
from core.render import StreamRenderer
from core.thread import TaskThread

_CALL_STARTS = ("{", "[", "```", "<")  # text that may be a tool call written out by the model


class LiveAnswer:
    """Implements the executor's LiveSink: the answer message is created at the first words.

    Text of a round that ends in tool calls stays as narration above the answer; a round
    that starts like a written-out tool call (JSON, a fence, a tag) is held back until it
    turns out to be the answer. Confidence notes and MEMO lines are never shown. The final
    text replaces the drafts (``finish``); an answer that is not kept says so (``replace``).
    """

    def __init__(self, thread: TaskThread) -> None:
        self._thread = thread
        self._before = ""  # narration of earlier rounds
        self._round = ""  # the current round's text
        self._out: StreamRenderer | None = None
        self._sealed = False

    @property
    def started(self) -> bool:
        """True once a message was created for this answer."""
        return self._out is not None

    @property
    def renderer(self) -> StreamRenderer | None:
        """The renderer behind the answer (tests, bench)."""
        return self._out

    def delta(self, text: str) -> None:
        """More text of the current round."""
        self._round += text
        if not self._round.lstrip().startswith(_CALL_STARTS):
            self._show(self._before + self._round)

    def end_round(self, *, answer: bool) -> None:
        """The round ended with the answer or with tool calls."""
        if answer:
            self._show(self._before + self._round)
            return
        narration = "" if self._round.lstrip().startswith(_CALL_STARTS) else self._round
        if narration.strip():
            self._before += narration.rstrip() + "\n\n"
        self._round = ""

    def _show(self, raw: str) -> None:
        if self._sealed:
            return
        text = visible_draft(raw)
        if not text.strip():
            return
        if self._out is None:
            self._out = self._thread.stream()
        self._out.show(text)

    async def finish(self, final_text: str) -> None:
        """Seal the answer with its final text (posted now if nothing was shown yet)."""
        self._sealed = True
        if self._out is None:
            self._out = self._thread.stream()
        if not final_text.strip() and self._out.messages:
            final_text = "(no answer text)"  # a shown draft must not be left with its cursor
        await self._out.finish(final_text)

    async def replace(self, note: str) -> None:
        """Mark what was shown as replaced; the next answer streams below it."""
        self._sealed = True
        if self._out is not None:
            await self._out.replace(note)

    async def abort(self, tail: str) -> None:
        """End a shown answer early (stopped, failed) with ``tail`` under what was shown."""
        self._sealed = True
        if self._out is not None:
            await self._out.finish(self._out.text.rstrip() + "\n\n" + tail)
