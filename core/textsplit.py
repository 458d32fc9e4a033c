"""Split long text into platform-sized chunks: stable split points, code fences never cut open."""

from __future__ import annotations

import re

FENCE = "```"
_CLOSE = "\n" + FENCE
_NEWLINES = re.compile(r"\n*")


def _open_fence(text: str) -> str | None:
    """The opening line of a code fence left open at the end of ``text``, else None."""
    opener: str | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith(FENCE):
            # Keep only the fence and its language tag: the reopening line must stay short.
            opener = None if opener is not None else stripped.split()[0][:24]
    return opener


def _cut_point(body: str, max_len: int) -> int:
    """Where to cut ``body`` so the first part has at most ``max_len`` chars."""
    window = body[:max_len]
    for sep in ("\n\n", "\n", " "):
        at = window.rfind(sep)
        if at >= max_len // 2:
            return at
    return max_len


def _rest_of(prefix: str, text: str, pos: int) -> tuple[str, int]:
    """The body after a cut, ``prefix + text[pos:]``, with its separator or newlines dropped."""
    first = prefix[:1] or text[pos : pos + 1]
    if first == "\n":
        prefix = prefix.lstrip("\n")
        if not prefix:
            pos = _NEWLINES.match(text, pos).end()  # type: ignore[union-attr]
    elif first == " ":
        if prefix:
            prefix = prefix[1:]
        else:
            pos += 1
    return prefix, pos


def _cut(prefix: str, text: str, pos: int, limit: int) -> tuple[str, str, int]:
    """Cut the body ``prefix + text[pos:]`` once: the chunk, then the next body as (prefix, pos).

    Only the first ``limit`` characters of the body are read, so a cut costs O(limit).
    """
    window = prefix + text[pos : pos + limit]
    cut = _cut_point(window, limit - len(_CLOSE))
    head = window[:cut]
    if cut < len(prefix):
        rest_prefix, rest_pos = prefix[cut:], pos
    else:
        rest_prefix, rest_pos = "", pos + cut - len(prefix)
    opener = _open_fence(head)
    if opener is not None and len(opener) < cut // 2:
        rest_prefix = rest_prefix.lstrip("\n")
        if not rest_prefix:
            rest_pos = _NEWLINES.match(text, rest_pos).end()  # type: ignore[union-attr]
        return head.rstrip("\n") + _CLOSE, opener + "\n" + rest_prefix, rest_pos
    rest_prefix, rest_pos = _rest_of(rest_prefix, text, rest_pos)
    return head, rest_prefix, rest_pos


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` chars.

    Cuts prefer a blank line, then a newline, then a space, else a hard cut. A chunk that ends
    inside a code fence is closed with a fence and the next chunk reopens it with the same
    language line. Each cut depends only on the text before it, so appending text never moves
    an earlier cut (the property streaming edits rely on). Time is linear in the text.
    """
    if limit < 16:
        raise ValueError("limit must be at least 16 characters")
    chunks: list[str] = []
    prefix, pos = "", 0
    while len(prefix) + len(text) - pos > limit:
        head, prefix, pos = _cut(prefix, text, pos, limit)
        chunks.append(head)
    chunks.append(prefix + text[pos:])
    return chunks


class Splitter:
    """``split_text`` of a text that grows at its end, in time linear in its length.

    ``split(added, tail)`` appends ``added`` for good and takes ``tail`` as the end that may
    still change. A cut is kept once the text it depends on is all for good (more than
    ``limit`` characters of it follow the previous cut), so each call costs only the text
    after the last kept cut. ``split(a, t)`` equals ``split_text(everything added + t)``.
    """

    def __init__(self, limit: int) -> None:
        if limit < 16:
            raise ValueError("limit must be at least 16 characters")
        self.limit = limit
        self.kept: list[str] = []  # chunks that never change again
        self._rest = ""  # text added for good after the last kept cut
        self._prefix = ""  # what the body after the last kept cut starts with (a fence)
        self.touched = 0  # characters handled in all (tests: the work stays linear)

    def split(self, added: str, tail: str = "") -> list[str]:
        """The chunks of everything added so far plus ``tail``."""
        rest = self._rest + added
        text = rest + tail
        self.touched += len(text)
        prefix, pos = self._prefix, 0
        kept_at = 0  # where the text after the last kept cut starts
        fresh: list[str] = []
        while len(prefix) + len(text) - pos > self.limit:
            fixed = len(prefix) + len(rest) - pos  # characters of the body added for good
            head, prefix, nxt = _cut(prefix, text, pos, self.limit)
            # Kept when the cut and where the next part starts depend only on text for good.
            if not fresh and fixed > self.limit and nxt < len(rest):
                self.kept.append(head)
                self._prefix, kept_at = prefix, nxt
            else:
                fresh.append(head)
            pos = nxt
        self._rest = rest[kept_at:]
        return [*self.kept, *fresh, prefix + text[pos:]]
