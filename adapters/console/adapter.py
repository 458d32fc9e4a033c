"""ConsoleAdapter: the terminal chat, through the same ChatAdapter port as the platforms.

Every typed line gets a thread of its own, so several tasks run at once; each task is shown
under a short label ([a], [b], …). Messages a task edits in place (its progress card, its
streamed answer) show live just above the input line and are printed for good once final.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import logging
import os
import re
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from adapters.console import translate
from adapters.console.screen import PipeInput, PromptInput, Screen, is_terminal
from core.errors import PlatformError
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Decision,
    MessageRef,
    User,
)
from core.ports import Capabilities, Clock, EventSink

log = logging.getLogger(__name__)

CAPABILITIES = Capabilities(
    max_message_chars=100_000, min_edit_interval=0.05, buttons=False, reactions=False
)
QUIT_WINDOW = 2.0  # a second Ctrl-C within this many seconds quits
TICK = 0.05  # how often finished threads are printed and the live line refreshed
_UNSAFE_NAME = re.compile(r"[^\w.-]")  # a posted file's name keeps letters, digits, . _ -
DIM, PLAIN = "\x1b[2m", "\x1b[0m"

ActiveChats = Callable[[], Collection[str]]


@dataclass
class _Shown:
    thread: str
    text: str
    printed: str = ""  # the text as last printed ("" = never)


@dataclass
class _Pending:
    request: ApprovalRequest
    ref: MessageRef


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
        self._clock = clock or _MonotonicClock()
        self._files_dir = files_dir  # where posted files are written (None: text is printed)
        # Delivery ids must never repeat: seen ids are kept for a week, across sessions.
        self._session = secrets.token_hex(4)
        self._seq = itertools.count(1)
        self._active: ActiveChats = lambda: ()
        self._shown: dict[str, _Shown] = {}  # message id → what it says
        self._latest: dict[str, _Shown] = {}  # thread → its message that changed last
        self._labels: dict[str, str] = {}  # thread → label, while its task lives
        self._approvals: list[_Pending] = []  # waiting for y/n, oldest first
        self._sink: EventSink | None = None
        self._last_interrupt = float("-inf")
        self._closing = False
        self.connected = False

    async def shown(self) -> None:
        """Return once the prompt is on the terminal (at once for a pipe): then work may start
        that the prompt need not wait for."""
        await self._drawn.wait()

    def watch_tasks(self, active_chats: ActiveChats) -> None:
        """Tell the terminal which chats have a queued or running task (labels, waiting)."""
        self._active = active_chats

    # ---- input -------------------------------------------------------------------------

    async def run(self, sink: EventSink) -> None:
        """Read lines until the end of input (then wait for running tasks) or cancellation."""
        self._sink = sink
        self.connected = True
        if not self._input.interactive:
            self._drawn.set()
        ticker = asyncio.create_task(self._tick_forever(), name="console:tick")
        try:
            with self._input.session():
                self._screen.note(
                    "hearth terminal chat — type a task, `help`, or Ctrl-D to quit.", style=""
                )
                await self._loop()
        finally:
            ticker.cancel()
            self._flush_finished()
            self.connected = False

    async def _loop(self) -> None:
        while True:
            if self._closing and not self._input.interactive:
                await self._finish_piped()
            if self._closing and not self._busy():
                return
            try:
                line = await self._input.read(self._prompt)
            except EOFError:
                await self._on_eof()
                continue
            except KeyboardInterrupt:
                await self._on_interrupt()
                continue
            if line is None:  # woken: something finished
                continue
            if self._approvals:
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
        running = {self._label(t): t for t in self._active_threads()}
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
        assert self._sink is not None
        msg = translate.to_message(text, user=self.user, thread=thread, event_id=self._event_id())
        await self._sink(msg)

    async def _settle(self) -> None:
        """Piped input: let a line's work finish (or ask something) before the next line."""
        while self._busy() and not self._approvals:
            await asyncio.sleep(TICK)
        self._flush_finished()

    async def _finish_piped(self) -> None:
        """The pipe ended: nobody is left to answer, so questions are denied; wait for tasks."""
        while self._busy():
            for pending in list(self._approvals):
                await self._decide(pending, Decision.DENY)
            await asyncio.sleep(TICK)

    async def _answer(self, line: str) -> None:
        answer = line.strip().lower()
        pending = self._approvals[0]
        if not self._input.interactive:
            self._screen.raw(line.strip() + "\n")
        if answer not in translate.YES | translate.NO:
            self._screen.note("Please answer y or n.", style="")
            if not self._input.interactive:
                self._screen.raw(translate.approval_prompt(pending.request))
            return
        decision = Decision.APPROVE if answer in translate.YES else Decision.DENY
        await self._decide(pending, decision)

    async def _decide(self, pending: _Pending, decision: Decision) -> None:
        with contextlib.suppress(ValueError):
            self._approvals.remove(pending)
        if self._approvals and not self._input.interactive:
            self._screen.raw(translate.approval_prompt(self._approvals[0].request))
        if self._input.interactive:  # the question was the prompt: keep a record above
            word = "approve" if decision is Decision.APPROVE else "deny"
            self._screen.note(f"⚠️  [{pending.request.id}] {pending.request.command} → {word}")
        assert self._sink is not None
        await self._sink(
            ApprovalResponse(
                approval_id=pending.request.id,
                decision=decision,
                user=self.user,
                event_id=self._event_id(),
            )
        )

    async def _on_eof(self) -> None:
        """Ctrl-D (or the end of a pipe): deny an open question; else quit when idle."""
        if self._approvals:
            await self._decide(self._approvals[0], Decision.DENY)
            if self._input.interactive:
                return
            for pending in list(self._approvals):  # a pipe has no more answers
                await self._decide(pending, Decision.DENY)
        self._closing = True
        count = len(self._active_threads())
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
        for pending in list(self._approvals):
            await self._decide(pending, Decision.DENY)
        threads = self._active_threads()
        for thread in threads:
            await self._send(thread, "stop")
        if threads:
            names = ", ".join(f"[{self._label(t)}]" for t in threads)
            self._screen.note(f"⏹ cancelling {names} — Ctrl-C again within 2 s quits", style="")
        else:
            self._screen.note("nothing is running — Ctrl-C again within 2 s (or Ctrl-D) quits")

    # ---- what the prompt and the live line show ------------------------------------------

    def _prompt(self) -> str:
        """The question when one is open; else the live lines of running tasks and "›"."""
        if self._approvals:
            return translate.approval_prompt(self._approvals[0].request)
        threads = self._active_threads()
        lines = []
        for thread in threads:
            latest = self._latest.get(thread)
            status = translate.live_line(latest.text) if latest else "starting…"
            lines.append(f"{DIM}[{self._label(thread)}] {status}{PLAIN}")
        if threads:
            first = self._label(threads[0])
            lines.append(
                f"{DIM}>{first} text steers [{first}] · stop {first} cancels it · "
                f"Ctrl-C cancels all{PLAIN}"
            )
        if self._closing and threads:
            lines.append("waiting (Ctrl-C stops) › ")
        else:
            lines.append("› ")
        return "\n".join(lines)

    # ---- output ------------------------------------------------------------------------

    def _active_threads(self) -> list[str]:
        prefix = f"console:{translate.CHANNEL}:"
        keys = [k for k in self._active() if k.startswith(prefix)]
        return [k.removeprefix(prefix) for k in keys]

    def _busy(self) -> bool:
        return bool(self._active_threads())

    def _label(self, thread: str | None) -> str | None:
        """The label of a thread with a live task (given on first sight), else its old one."""
        if thread is None:
            return None
        if thread not in self._labels and thread in self._active_threads():
            self._labels[thread] = translate.next_label(set(self._labels.values()))
        return self._labels.get(thread)

    def _print(self, shown: _Shown) -> None:
        text = translate.clean(shown.text)
        if text.strip() and text != shown.printed:
            self._screen.message(self._label(shown.thread), text)
        shown.printed = text

    def _flush_finished(self) -> None:
        """Print the final form of messages whose task ended; free their labels."""
        live = set(self._active_threads())
        for shown in self._shown.values():
            if shown.thread not in live and translate.clean(shown.text) != shown.printed:
                self._print(shown)
        for thread in [t for t in self._labels if t not in live]:
            del self._labels[thread]

    async def _tick_forever(self) -> None:
        drawn = ""
        while True:
            await asyncio.sleep(TICK)
            try:
                self._flush_finished()
                if self._closing and not self._busy():
                    self._input.wake()  # again every tick until the prompt has ended
                now = self._prompt()
                if now != drawn:  # redraw only on change: a terminal is not a video
                    drawn = now
                    self._input.refresh()
            except Exception:  # the chat must keep its clock, whatever one tick met
                log.exception("terminal tick failed")

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """A new message: printed now, unless it is a draft that will still grow."""
        ref = MessageRef(chat, f"c{next(self._seq)}")
        shown = _Shown(chat.thread_id or "", text)
        self._shown[ref.message_id] = self._latest[shown.thread] = shown
        if not translate.is_draft(text):
            self._print(shown)
        return ref

    async def edit(self, ref: MessageRef, text: str) -> None:
        """A changed message: live until final (answer done, or its task ended)."""
        shown = self._shown.get(ref.message_id)
        if shown is None:
            shown = self._shown[ref.message_id] = _Shown(ref.chat.thread_id or "", text)
        was_draft = translate.is_draft(shown.text)
        shown.text = text
        self._latest[shown.thread] = shown
        live = shown.thread in self._active_threads()
        if not live or (was_draft and not translate.is_draft(text)):
            self._print(shown)

    async def react(self, ref: MessageRef, key: str) -> None:
        """Terminals have no reactions; nothing to do."""

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Ask y/n: the question is the prompt (nothing comes between it and the answer)."""
        ref = MessageRef(chat, f"c{next(self._seq)}")
        self._approvals.append(_Pending(request, ref))
        if not self._input.interactive and len(self._approvals) == 1:
            self._screen.raw(translate.approval_prompt(request))
        self._input.refresh()  # the prompt becomes the question
        return ref

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Print how the approval ended (and drop the question if it was still open)."""
        for pending in [p for p in self._approvals if p.ref.message_id == prompt.message_id]:
            self._approvals.remove(pending)
            self._input.refresh()
        self._screen.message(self._label(prompt.chat.thread_id), translate.outcome_line(outcome))

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """A terminal shows no pictures: print the caption and what the image was."""
        return await self.post(chat, f"{caption}\n[image {filename}, {_size(data)}]")

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """Write the file under the data directory and print its path; without one, print it.

        A file that is not text and has no directory to go to is refused (PlatformError).
        """
        if self._files_dir is not None:
            try:
                path = await asyncio.to_thread(
                    _save_file, self._files_dir, f"{self._session}-", filename, data
                )
            except OSError as exc:
                raise PlatformError(f"could not save {filename}: {exc}") from exc
            return await self.post(chat, f"{caption}\n[file {filename}, {_size(data)}: {path}]")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise PlatformError(f"{filename} is not text and there is no folder for it") from None
        # Fenced (longer than any backtick run inside) so Markdown keeps it verbatim.
        fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", text)), default=0))
        return await self.post(
            chat, f"{caption}\n{fence}{Path(filename).suffix[1:]}\n{text}\n{fence}"
        )


def _size(data: bytes) -> str:
    return f"{len(data) / 1024:.0f} KiB" if len(data) >= 1024 else f"{len(data)} bytes"


def _save_file(folder: Path, prefix: str, filename: str, data: bytes) -> Path:
    """Write ``data`` to a new file in ``folder`` (owner-only), named after ``filename``."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    safe = _UNSAFE_NAME.sub("_", Path(filename).name).lstrip(".") or "file"
    for n in itertools.count(1):
        path = folder / f"{prefix}{n}-{safe}"
        try:  # never follows a link or overwrites: a new file or the next number
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return path
    raise AssertionError("unreachable")  # pragma: no cover
