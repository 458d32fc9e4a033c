"""LiveAnswer: a step's answer streamed into the thread while the model writes it."""

from __future__ import annotations

from core.agent.draft import DraftView
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
        self._round: list[str] = []  # the current round's text, as it came
        self._lead = ""  # the round's first characters after leading whitespace (up to 3)
        self._fed = 0  # pieces of the round handed to the view
        self._view = DraftView()  # what of narration and round may be shown
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

    @property
    def view(self) -> DraftView:
        """What of the answer may be shown (tests: how much text it looked at)."""
        return self._view

    def delta(self, text: str) -> None:
        """More text of the current round; costs its own length, not the answer's."""
        self._round.append(text)
        if len(self._lead) < len("```"):
            self._lead = (self._lead + text).lstrip()[:3]
        if not self._lead.startswith(_CALL_STARTS):
            self._show()

    def end_round(self, *, answer: bool) -> None:
        """The round ended with the answer or with tool calls."""
        if answer:
            self._show()
            return
        narration = "" if self._lead.startswith(_CALL_STARTS) else "".join(self._round)
        if narration.strip():
            self._before += narration.rstrip() + "\n\n"
        self._round, self._lead, self._fed = [], "", 0
        self._view.reset(self._before)

    def _show(self) -> None:
        if self._sealed:
            return
        for piece in self._round[self._fed :]:
            self._view.feed(piece)
        self._fed = len(self._round)
        if self._out is not None:
            self._out.touch()  # the draft is made when the renderer sends it
        elif not self._view.blank():
            self._out = self._thread.stream()
            self._out.follow(self._view.take)

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
