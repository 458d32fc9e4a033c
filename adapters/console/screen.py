"""The terminal's two ends: rich for what hearth shows, prompt_toolkit (or a pipe) for input."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import ANSI
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input.vt100 import Vt100Input
from prompt_toolkit.patch_stdout import patch_stdout

from adapters.console.translate import hard_breaks

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

PIPE_WIDTH = 120  # a pipe has no width; long lines stay whole enough to grep


class Screen:
    """Prints messages as terminal Markdown, each under its task's label."""

    def __init__(self, out: TextIO | None, *, interactive: bool) -> None:
        self._out = out
        self._interactive = interactive
        self._rich: Console | None = None  # made on first use: the prompt need not wait for rich

    def prepare(self) -> None:
        """Load rich now (a thread may, once the prompt is up), not with the first message."""
        self._console()

    def _console(self) -> Console:
        if self._rich is None:
            from rich.console import Console

            # file=None: rich writes to whatever sys.stdout is at the time, which is
            # prompt_toolkit's proxy while the prompt is up (output appears above it).
            self._rich = Console(
                file=self._out,
                force_terminal=True if self._interactive else None,
                width=None if self._interactive else PIPE_WIDTH,
                highlight=False,
                markup=False,
                emoji=False,
            )
        return self._rich

    def message(self, label: str | None, text: str) -> None:
        """One message: Markdown rendered for the terminal, with ``[label]`` beside it."""
        # Imported with the first message: markdown-it and pygments need not delay the prompt.
        from rich.markdown import Markdown
        from rich.table import Table
        from rich.text import Text

        console = self._console()
        body: RenderableType = Markdown(hard_breaks(text))
        if label is not None:
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True, style="bold cyan")
            grid.add_column()
            grid.add_row(Text(f"[{label}]"), body)
            body = grid
        if self._interactive:
            console.print(body)
            return
        # A pipe gets plain text without the padding rich adds up to the width.
        with console.capture() as captured:
            console.print(body)
        lines = (line.rstrip() for line in captured.get().splitlines())
        console.file.write("\n".join(lines) + "\n")
        console.file.flush()

    def note(self, text: str, *, style: str = "dim") -> None:
        """A line from the terminal itself (not from hearth's core)."""
        from rich.text import Text

        self._console().print(Text(text, style=style))

    def line(self, text: str) -> None:
        """A plain line, without rich (the greeting, written before the prompt is drawn)."""
        out = self._out or sys.stdout
        out.write(text + "\n")
        out.flush()

    def raw(self, text: str) -> None:
        """Plain text as is (a question waiting on the same line for its answer)."""
        from rich.text import Text

        console = self._console()
        console.print(Text(text), end="")
        console.file.flush()


class PipeInput:
    """Lines from a pipe or file: no editing, no prompt."""

    interactive = False

    def __init__(self, reader: asyncio.StreamReader | None) -> None:
        self._reader = reader
        self._file = False  # stdin is a file or /dev/null: read it in a thread (never blocks)

    async def read(self, message: Callable[[], str]) -> str | None:
        """The next line; EOFError at the end."""
        if self._reader is None and not self._file:
            try:
                self._reader = await _stdin_reader() if _pollable(sys.stdin) else None
            except (OSError, ValueError):
                self._reader = None
            self._file = self._reader is None
        if self._reader is not None:
            raw = await self._reader.readline()
        else:
            raw = await asyncio.to_thread(sys.stdin.buffer.readline)
        if not raw:
            raise EOFError
        return raw.decode(errors="replace").rstrip("\n")

    def wake(self) -> None:
        """Nothing to wake: a pipe read ends by itself."""

    def refresh(self) -> None:
        """Nothing to redraw."""

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Nothing to set up."""
        yield


class _StaysRaw(Vt100Input):
    """The terminal's input, kept in raw mode while output is printed above the prompt.

    prompt_toolkit prints above a running prompt through ``run_in_terminal``, which switches the
    terminal to cooked mode meanwhile (for code that reads a line). hearth only writes there,
    and a cooked terminal swallows a Ctrl-D as its own end-of-file (and echoes typed keys):
    a key pressed while an answer is printed would be lost.
    """

    def cooked_mode(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


class PromptInput:
    """prompt_toolkit: line editing, history, a prompt that stays below the output."""

    interactive = True

    def __init__(self, history: Path | None, on_drawn: Callable[[], None] | None = None) -> None:
        store: History = InMemoryHistory()
        if history is not None:
            with contextlib.suppress(OSError):
                history.parent.mkdir(parents=True, exist_ok=True)
                store = FileHistory(str(history))
        self._keys = _StaysRaw(sys.stdin)
        self._session: PromptSession[str] = PromptSession(history=store, input=self._keys)
        if on_drawn is not None:  # told each time the prompt is drawn on the terminal
            self._session.app.after_render += lambda _app: on_drawn()

    async def read(self, message: Callable[[], str]) -> str | None:
        """The next line; None when woken; EOFError on Ctrl-D, KeyboardInterrupt on Ctrl-C.

        ``message`` is drawn again on every refresh: the live lines of running tasks sit in it,
        right above the line being typed.
        """
        return await self._session.prompt_async(lambda: ANSI(message()))

    def wake(self) -> None:
        """End the current prompt without a line (``read`` returns None)."""
        app = self._session.app
        if app.is_running and not app.is_done:
            # Refused while the prompt is still starting or already ending; the caller
            # asks again on its next tick.
            with contextlib.suppress(Exception):
                app.exit(result=None)

    def refresh(self) -> None:
        """Redraw the prompt (its question or labels changed)."""
        app = self._session.app
        if app.is_running:
            app.invalidate()

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Route every print above the prompt while the chat runs, and keep the terminal raw
        between prompts too: a cooked one would swallow a Ctrl-D typed while a reply is made
        (its own end-of-file) and echo other keys."""
        with self._keys.raw_mode(), patch_stdout(raw=True):
            yield


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _pollable(stream: Any) -> bool:
    """A pipe, socket or terminal: epoll can watch it. /dev/null and regular files it cannot,
    and asyncio only finds that out in a later callback (the read would wait forever)."""
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stream.isatty()


def is_terminal() -> bool:
    """Both ends of this process are a terminal (else: piped input or output)."""
    return sys.stdin.isatty() and sys.stdout.isatty()
