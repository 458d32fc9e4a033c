"""What the terminal shows of tasks: each message printed once final, live lines while they run,
and a short label ([a], [b], …) per task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapters.console import translate
from adapters.console.screen import Screen

DIM, PLAIN = "\x1b[2m", "\x1b[0m"

Threads = Callable[[], list[str]]


@dataclass
class Shown:
    """One message as the core last posted or edited it."""

    thread: str
    text: str
    printed: str = ""  # the text as last printed ("" = never)


class Board:
    """Messages by id, the latest per thread, and the labels of threads with a live task."""

    def __init__(self, screen: Screen, active: Threads) -> None:
        self._screen = screen
        self._active = active  # threads whose task is live (waiting, queued or running)
        self._shown: dict[str, Shown] = {}  # message id → what it says
        self._latest: dict[str, Shown] = {}  # thread → its message that changed last
        self._labels: dict[str, str] = {}  # thread → label, while its task lives

    def active(self) -> list[str]:
        """Threads with a live task, oldest first."""
        return self._active()

    def busy(self) -> bool:
        """Some task is still live."""
        return bool(self._active())

    def label(self, thread: str | None) -> str | None:
        """The label of a thread with a live task (given on first sight), else its old one."""
        if thread is None:
            return None
        if thread not in self._labels and thread in self._active():
            self._labels[thread] = translate.next_label(set(self._labels.values()))
        return self._labels.get(thread)

    def posted(self, message_id: str, thread: str, text: str) -> None:
        """A new message: printed now, unless it is a draft that will still grow."""
        shown = Shown(thread, text)
        self._shown[message_id] = self._latest[thread] = shown
        if not translate.is_draft(text):
            self._print(shown)

    def edited(self, message_id: str, thread: str, text: str) -> None:
        """A changed message: live until final (answer done, or its task ended)."""
        shown = self._shown.get(message_id)
        if shown is None:
            shown = self._shown[message_id] = Shown(thread, text)
        was_draft = translate.is_draft(shown.text)
        shown.text = text
        self._latest[shown.thread] = shown
        live = shown.thread in self._active()
        if not live or (was_draft and not translate.is_draft(text)):
            self._print(shown)

    def flush_finished(self) -> None:
        """Print the final form of messages whose task ended; free their labels."""
        live = set(self._active())
        for shown in self._shown.values():
            if shown.thread not in live and translate.clean(shown.text) != shown.printed:
                self._print(shown)
        for thread in [t for t in self._labels if t not in live]:
            del self._labels[thread]

    def live_lines(self) -> list[str]:
        """One dim line per live task (what it does now), then how to steer or stop them."""
        threads = self._active()
        lines = []
        for thread in threads:
            latest = self._latest.get(thread)
            status = translate.live_line(latest.text) if latest else "starting…"
            lines.append(f"{DIM}[{self.label(thread)}] {status}{PLAIN}")
        if threads:
            first = self.label(threads[0])
            lines.append(
                f"{DIM}>{first} text steers [{first}] · stop {first} cancels it · "
                f"Ctrl-C cancels all{PLAIN}"
            )
        return lines

    def _print(self, shown: Shown) -> None:
        text = translate.clean(shown.text)
        if text.strip() and text != shown.printed:
            self._screen.message(self.label(shown.thread), text)
        shown.printed = text
