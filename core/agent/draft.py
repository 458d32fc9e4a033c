"""DraftView: what of a half-written answer may be shown, kept current in linear time."""

from __future__ import annotations

import re

from core.agent.confidence import MEMO_LINE, visible_draft
from core.render import Draft

WINDOW = 256  # characters of complete lines read again on every look
_LETTER = re.compile(r"[^\W\d_]")


class DraftView:
    """``visible_draft`` of a text fed piece by piece, at a cost linear in its length.

    Complete lines are screened once (MEMO lines dropped). A look reads only the last lines:
    there, ``visible_draft`` gives the end of what it gives for the whole text as long as the
    window shows a letter (a note held back never reaches back past one); otherwise the window
    is widened until it does or holds everything.
    """

    def __init__(self, text: str = "") -> None:
        self.touched = 0  # characters looked at in all (tests: the work stays linear)
        self.reset(text)

    def reset(self, text: str = "") -> None:
        """Start over with ``text``; the next ``take`` hands out everything."""
        self._lines: list[str] = []  # complete lines without MEMO lines, each ending in "\n"
        self._line: list[str] = []  # pieces of the line being written
        self._given = 0  # lines handed out for good by ``take``
        self._fresh = True
        self.feed(text)

    def feed(self, text: str) -> None:
        """More of the answer."""
        if "\n" not in text:
            if text:
                self._line.append(text)
            return
        first, *middle, last = text.split("\n")
        self._close("".join(self._line) + first + "\n")
        for line in middle:
            self._close(line + "\n")
        self._line = [last] if last else []

    def _close(self, line: str) -> None:
        if not MEMO_LINE.match(line):
            self._lines.append(line)

    def _look(self) -> tuple[int, str]:
        """``(w, shown)``: everything shown is the first ``w`` complete lines, then ``shown``."""
        line = "".join(self._line)
        self._line = [line] if line else []
        lines = self._lines
        w, size, want = len(lines), len(line), WINDOW
        while True:
            while w > 0 and (size < want or len(lines) - w < 2):
                w -= 1
                size += len(lines[w])
            window = "".join(lines[w:]) + line
            self.touched += len(window)
            shown = visible_draft(window)
            if w == 0 or _LETTER.search(shown):
                return w, shown
            want = 2 * size

    def take(self) -> Draft:
        """The text shown for good since the last take, and the end that may still change."""
        w, shown = self._look()
        if self._fresh or w >= self._given:
            start = 0 if self._fresh else self._given
            draft = Draft("".join(self._lines[start:w]), shown, reset=self._fresh)
            self._fresh, self._given = False, w
            return draft
        # The window reaches back before lines handed out: fine while it still shows them.
        given = "".join(self._lines[w : self._given])
        if shown.startswith(given):
            return Draft("", shown[len(given) :])
        self._given = w  # lines shown before are held back again: start over
        return Draft("".join(self._lines[:w]), shown, reset=True)

    def blank(self) -> bool:
        """True while nothing of the answer may be shown."""
        w, shown = self._look()
        return not shown.strip() and not any(line.strip() for line in self._lines[:w])

    def tail(self, chars: int) -> str:
        """The last ``chars`` characters that may be shown."""
        w, shown = self._look()
        parts, size = [shown], len(shown)
        while w > 0 and size < chars:
            w -= 1
            parts.append(self._lines[w])
            size += len(self._lines[w])
        return "".join(reversed(parts))[-chars:]
