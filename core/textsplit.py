"""Split long text into platform-sized chunks: stable split points, code fences never cut open."""

from __future__ import annotations

FENCE = "```"
_CLOSE = "\n" + FENCE


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


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` chars.

    Cuts prefer a blank line, then a newline, then a space, else a hard cut. A chunk that ends
    inside a code fence is closed with a fence and the next chunk reopens it with the same
    language line. Each cut depends only on the text before it, so appending text never moves
    an earlier cut (the property streaming edits rely on).
    """
    if limit < 16:
        raise ValueError("limit must be at least 16 characters")
    chunks: list[str] = []
    body = text
    while len(body) > limit:
        cut = _cut_point(body, limit - len(_CLOSE))
        head, rest = body[:cut], body[cut:]
        opener = _open_fence(head)
        if opener is not None and len(opener) < cut // 2:
            head = head.rstrip("\n") + _CLOSE
            rest = opener + "\n" + rest.lstrip("\n")
        else:
            rest = rest.lstrip("\n") if rest.startswith("\n") else rest.removeprefix(" ")
        chunks.append(head)
        body = rest
    chunks.append(body)
    return chunks
