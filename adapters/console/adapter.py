"""ConsoleAdapter: the terminal chat, through the same ChatAdapter port as the platforms.

Every typed line gets a thread of its own, so several tasks run at once; each task is shown
under a short label ([a], [b], …). Messages a task edits in place (its progress card, its
streamed answer) show live just above the input line and are printed for good once final.
The prompt can be up before the core is (``open``): what is typed meanwhile waits for ``run``.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import logging
import secrets
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TextIO

from adapters.console import files, translate
from adapters.console.board import Board
from adapters.console.keyboard import Keyboard, Pending
from adapters.console.screen import PipeInput, PromptInput, Screen, is_terminal
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, MessageRef, User
from core.ports import Capabilities, Clock, EventSink

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    max_message_chars=100_000, min_edit_interval=0.05, buttons=False, reactions=False
)
TICK = 0.05  # how often finished threads are printed and the live line refreshed

ActiveChats = Callable[[], Collection[str]]


class _MonotonicClock:
    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()


class ConsoleAdapter:
    """Reads lines (a prompt, or a pipe) as messages; prints what the core posts and edits."""

    platform = "console"
    capabilities = CAPABILITIES

    def __init__(
        self,
        *,
        user: User | None = None,
        stdin: asyncio.StreamReader | None = None,
        stdout: TextIO | None = None,
        interactive: bool | None = None,
        history: Path | None = None,
        clock: Clock | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.user = user or User("console", getpass.getuser(), getpass.getuser())
        if interactive is None:
            interactive = stdin is None and stdout is None and is_terminal()
        self._drawn = asyncio.Event()  # the prompt was drawn (a pipe: reading began)
        self._input = (
            PromptInput(history, on_drawn=self._drawn.set) if interactive else PipeInput(stdin)
        )
        self._screen = Screen(stdout, interactive=interactive)
        self._files_dir = files_dir  # where posted files are written (None: text is printed)
        # Delivery ids must never repeat: seen ids are kept for a week, across sessions.
        self._session = secrets.token_hex(4)
        self._seq = itertools.count(1)
        self._active: ActiveChats = lambda: ()
        self._board = Board(self._screen, self._active_threads)
        self._keys = Keyboard(
            user=self.user,
            input=self._input,
            screen=self._screen,
            board=self._board,
            clock=clock or _MonotonicClock(),
            session=self._session,
            seq=self._seq,
        )
        self._reading: asyncio.Task[None] | None = None
        self._ended = False  # the input ended (Ctrl-D, the end of a pipe): never read again
        self.connected = False

    async def shown(self) -> None:
        """Return once the prompt is on the terminal (at once for a pipe): then work may start
        that the prompt need not wait for."""
        await self._drawn.wait()

    async def settled(self) -> None:
        """Return once the prompt is drawn and what was typed before hearth was up is with the
        core: then work may start that neither the prompt nor those lines need wait for."""
        await self._drawn.wait()
        await self._keys.handed_over.wait()

    def watch_tasks(self, active_chats: ActiveChats) -> None:
        """Tell the terminal which chats have a queued or running task (labels, waiting)."""
        self._active = active_chats

    # ---- input -------------------------------------------------------------------------

    def open(self) -> None:
        """Draw the prompt and take input now, before the core is up; what is typed waits,
        in order, for ``run``."""
        if self._reading is None:
            self._reading = asyncio.create_task(self._read(), name="console:input")

    async def run(self, sink: EventSink) -> None:
        """Read lines until the end of input (then wait for running tasks) or cancellation."""
        if self._reading is not None and self._reading.done() and not self._ended:
            self._reading = None  # it failed, or was stopped: read anew
        self.open()
        reading = self._reading
        assert reading is not None
        self.connected = True
        try:
            await self._keys.deliver(sink)
            await reading
        finally:
            await self._stop_reading(reading)
            self.connected = False

    async def close(self) -> None:
        """Stop reading (the core never came up): the terminal is itself again."""
        if self._reading is not None:
            await self._stop_reading(self._reading)

    @staticmethod
    async def _stop_reading(reading: asyncio.Task[None]) -> None:
        if not reading.done():
            reading.cancel()
            # The prompt puts the terminal back as it found it before it ends.
            await asyncio.gather(reading, return_exceptions=True)

    async def _read(self) -> None:
        if not self._input.interactive:
            self._drawn.set()
        ticker = asyncio.create_task(self._tick_forever(), name="console:tick")
        ready = asyncio.create_task(self._prepare_screen(), name="console:screen")
        try:
            with self._input.session():
                self._screen.line("hearth terminal chat — type a task, `help`, or Ctrl-D to quit.")
                await self._keys.loop()
            self._ended = True
        finally:
            ticker.cancel()
            ready.cancel()
            self._board.flush_finished()

    async def _prepare_screen(self) -> None:
        await self._drawn.wait()  # after the prompt, in a thread: the loop keeps taking keys
        await asyncio.to_thread(self._screen.prepare)

    def _active_threads(self) -> list[str]:
        """Threads with a live task: queued or running in the core, or waiting for it."""
        prefix = f"console:{translate.CHANNEL}:"
        live = [k.removeprefix(prefix) for k in self._active() if k.startswith(prefix)]
        return live + [t for t in self._keys.waiting() if t not in live]

    async def _tick_forever(self) -> None:
        drawn = ""
        while True:
            await asyncio.sleep(TICK)
            try:
                self._board.flush_finished()
                if self._keys.closing and not self._board.busy():
                    self._input.wake()  # again every tick until the prompt has ended
                now = self._keys.prompt()
                if now != drawn:  # redraw only on change: a terminal is not a video
                    drawn = now
                    self._input.refresh()
            except Exception:  # the chat must keep its clock, whatever one tick met
                log.exception("terminal tick failed")

    # ---- output ------------------------------------------------------------------------

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """A new message: printed now, unless it is a draft that will still grow."""
        ref = MessageRef(chat, f"c{next(self._seq)}")
        self._board.posted(ref.message_id, chat.thread_id or "", text)
        return ref

    async def edit(self, ref: MessageRef, text: str) -> None:
        """A changed message: live until final (answer done, or its task ended)."""
        self._board.edited(ref.message_id, ref.chat.thread_id or "", text)

    async def react(self, ref: MessageRef, key: str) -> None:
        """Terminals have no reactions; nothing to do."""

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Ask y/n: the question is the prompt (nothing comes between it and the answer)."""
        ref = MessageRef(chat, f"c{next(self._seq)}")
        self._keys.ask(Pending(request, ref))
        return ref

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Print how the approval ended (and drop the question if it was still open)."""
        self._keys.withdraw(prompt.message_id)
        label = self._board.label(prompt.chat.thread_id)
        self._screen.message(label, translate.outcome_line(outcome))

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """A terminal shows no pictures: print the caption and what the image was."""
        return await self.post(chat, files.image_text(data, filename, caption))

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """Write the file under the data directory and print its path; without one, print it.

        A file that is not text and has no directory to go to is refused (PlatformError).
        """
        prefix = f"{self._session}-"
        text = await files.file_text(self._files_dir, prefix, data, filename, caption)
        return await self.post(chat, text)
