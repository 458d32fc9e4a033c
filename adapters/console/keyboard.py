"""What is typed (or piped) into the terminal, as core events: a new task per line, steering and
stopping by label, y/n answers, Ctrl-C and Ctrl-D. Lines typed before the core is up are held,
in order, and handed over when it is (nothing typed early is lost)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass

from adapters.console import translate
from adapters.console.board import Board
from adapters.console.screen import PipeInput, PromptInput, Screen
from core.events import ApprovalRequest, ApprovalResponse, Decision, Event, MessageRef, User
from core.ports import Clock, EventSink

QUIT_WINDOW = 2.0  # a second Ctrl-C within this many seconds quits
TICK = 0.05  # how often piped input checks whether a line's work has finished


@dataclass
class Pending:
    """An approval question waiting for y/n."""

    request: ApprovalRequest
    ref: MessageRef


class Keyboard:
    """Reads lines until the end of input; each becomes an event for the core's sink."""

    def __init__(
        self,
        *,
        user: User,
        input: PromptInput | PipeInput,
        screen: Screen,
        board: Board,
        clock: Clock,
        session: str,
        seq: itertools.count[int],
    ) -> None:
        self._user = user
        self._input = input
        self._screen = screen
        self._board = board
        self._clock = clock
        # Delivery ids must never repeat: seen ids are kept for a week, across sessions.
        self._session = session
        self._seq = seq
        self._sink: EventSink | None = None
        self._held: list[tuple[str | None, Event]] = []  # typed before the core was up
        self.handed_over = asyncio.Event()  # the held events went to the core's sink
        self.approvals: list[Pending] = []  # waiting for y/n, oldest first
        self.closing = False
        self._last_interrupt = float("-inf")

    # ---- the core's sink, and what waits for it ---------------------------------------

    async def deliver(self, sink: EventSink) -> None:
        """Hand the held events to ``sink`` in order; from then on each goes there at once."""
        while self._held:
            await sink(self._held[0][1])
            del self._held[0]  # after: its thread counts as live until the core has it
        self._sink = sink
        self.handed_over.set()

    def waiting(self) -> list[str]:
        """Threads whose lines wait for the core (it is still starting)."""
        return list(dict.fromkeys(t for t, _ in self._held if t is not None))

    async def _emit(self, thread: str | None, event: Event) -> None:
        if self._sink is None:
            self._held.append((thread, event))
        else:
            await self._sink(event)

    # ---- reading -------------------------------------------------------------------------

    async def loop(self) -> None:
        """Read until the end of input and no task is left, or until cancelled."""
        while True:
            if self.closing and not self._input.interactive:
                await self._finish_piped()
            if self.closing and not self._board.busy():
                return
            try:
                line = await self._input.read(self.prompt)
            except EOFError:
                await self._on_eof()
                continue
            except KeyboardInterrupt:
                await self._on_interrupt()
                continue
            if line is None:  # woken: something finished
                continue
            if self.approvals:
                await self._answer(line)
                continue
            await self._on_line(line)
            if not self._input.interactive:
                await self._settle()

    async def _on_line(self, line: str) -> None:
        match translate.parse(line):
            case None:
                return
            case translate.Help():
                self._screen.note(translate.SYNTAX)
                await self._send(self._new_thread(), "help")
            case translate.Stop(label=label):
                thread = self._resolve(label, "stop")
                if thread is None and label and len(label) > 2:
                    await self._send(self._new_thread(), line)
                elif thread is not None:
                    await self._send(thread, "stop")
            case translate.Steer(label=label, text=text):
                thread = self._resolve(label, ">")
                if thread is not None and text:
                    await self._send(thread, text)
            case translate.NewTask(text=text):
                await self._send(self._new_thread(), text)

    def _resolve(self, label: str | None, verb: str) -> str | None:
        """The thread a label (or no label: the only running task) names; else say why not."""
        running = {self._board.label(t): t for t in self._board.active()}
        if label is not None:
            if label in running:
                return running[label]
            if len(label) <= 2:
                names = ", ".join(sorted(running)) or "none"
                self._screen.note(f"no task [{label}] is running (running: {names})")
            return None
        if not running:
            self._screen.note("nothing is running")
            return None
        if len(running) > 1:
            names = " or ".join(f"`{verb}{'' if verb == '>' else ' '}{x}`" for x in running)
            self._screen.note(f"{len(running)} tasks are running: say which, e.g. {names}")
            return None
        return next(iter(running.values()))

    def _new_thread(self) -> str:
        return f"{self._session}-{next(self._seq)}"

    def _event_id(self) -> str:
        return f"console-{self._session}-{next(self._seq)}"

    async def _send(self, thread: str, text: str) -> None:
        msg = translate.to_message(text, user=self._user, thread=thread, event_id=self._event_id())
        await self._emit(thread, msg)

    async def _settle(self) -> None:
        """Piped input: let a line's work finish (or ask something) before the next line."""
        while self._board.busy() and not self.approvals:
            await asyncio.sleep(TICK)
        self._board.flush_finished()

    async def _finish_piped(self) -> None:
        """The pipe ended: nobody is left to answer, so questions are denied; wait for tasks."""
        while self._board.busy():
            for pending in list(self.approvals):
                await self._decide(pending, Decision.DENY)
            await asyncio.sleep(TICK)

    # ---- approvals -----------------------------------------------------------------------

    def ask(self, pending: Pending) -> None:
        """A new question: it becomes the prompt (a pipe prints it when it is the first)."""
        self.approvals.append(pending)
        if not self._input.interactive and len(self.approvals) == 1:
            self._screen.raw(translate.approval_prompt(pending.request))
        self._input.refresh()

    def withdraw(self, message_id: str) -> None:
        """Drop the question posted as ``message_id`` if it is still open."""
        for pending in [p for p in self.approvals if p.ref.message_id == message_id]:
            self.approvals.remove(pending)
            self._input.refresh()

    async def _answer(self, line: str) -> None:
        answer = line.strip().lower()
        pending = self.approvals[0]
        if not self._input.interactive:
            self._screen.raw(line.strip() + "\n")
        if answer not in translate.YES | translate.NO:
            self._screen.note("Please answer y or n.", style="")
            if not self._input.interactive:
                self._screen.raw(translate.approval_prompt(pending.request))
            return
        decision = Decision.APPROVE if answer in translate.YES else Decision.DENY
        await self._decide(pending, decision)

    async def _decide(self, pending: Pending, decision: Decision) -> None:
        with contextlib.suppress(ValueError):
            self.approvals.remove(pending)
        if self.approvals and not self._input.interactive:
            self._screen.raw(translate.approval_prompt(self.approvals[0].request))
        if self._input.interactive:  # the question was the prompt: keep a record above
            word = "approve" if decision is Decision.APPROVE else "deny"
            self._screen.note(f"⚠️  [{pending.request.id}] {pending.request.command} → {word}")
        response = ApprovalResponse(
            approval_id=pending.request.id,
            decision=decision,
            user=self._user,
            event_id=self._event_id(),
        )
        await self._emit(None, response)

    # ---- Ctrl-D and Ctrl-C ---------------------------------------------------------------

    async def _on_eof(self) -> None:
        """Ctrl-D (or the end of a pipe): deny an open question; else quit when idle."""
        if self.approvals:
            await self._decide(self.approvals[0], Decision.DENY)
            if self._input.interactive:
                return
            for pending in list(self.approvals):  # a pipe has no more answers
                await self._decide(pending, Decision.DENY)
        self.closing = True
        count = len(self._board.active())
        if count:
            it = "it" if count == 1 else "them"
            self._screen.note(
                f"waiting for {count} task{'s' if count != 1 else ''} (Ctrl-C to stop {it})",
                style="",
            )

    async def _on_interrupt(self) -> None:
        """Ctrl-C: deny questions and cancel every task; a second one within 2 s quits."""
        now = self._clock.monotonic()
        if now - self._last_interrupt <= QUIT_WINDOW:
            raise KeyboardInterrupt
        self._last_interrupt = now
        for pending in list(self.approvals):
            await self._decide(pending, Decision.DENY)
        threads = self._board.active()
        for thread in threads:
            await self._send(thread, "stop")
        if threads:
            names = ", ".join(f"[{self._board.label(t)}]" for t in threads)
            self._screen.note(f"⏹ cancelling {names} — Ctrl-C again within 2 s quits", style="")
        else:
            self._screen.note("nothing is running — Ctrl-C again within 2 s (or Ctrl-D) quits")

    # ---- the prompt ----------------------------------------------------------------------

    def prompt(self) -> str:
        """The question when one is open; else the live lines of running tasks and "›"."""
        if self.approvals:
            return translate.approval_prompt(self.approvals[0].request)
        lines = self._board.live_lines()
        if self.closing and self._board.busy():
            lines.append("waiting (Ctrl-C stops) › ")
        else:
            lines.append("› ")
        return "\n".join(lines)
