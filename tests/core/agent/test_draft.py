"""DraftView: what visible_draft shows of every prefix, at a cost that does not grow with it."""

from __future__ import annotations

import random

import pytest

from core.agent.confidence import visible_draft
from core.agent.draft import WINDOW, DraftView

PIECES = [
    "word ",
    "the ",
    "\n",
    "\n\n",
    "  ",
    "(",
    "[",
    "**",
    "_",
    "conf",
    "idence",
    "Confidence",
    ": ",
    "0.",
    "9",
    "%",
    ")",
    " level",
    "MEMO",
    "NOTE: keep this\n",
    "memo: x",
    "note",
    "```",
    "{",
    ".",
    "x" * 40,
]


def shown(view: DraftView, so_far: list[str]) -> str:
    draft = view.take()
    if draft.reset:
        so_far.clear()
    so_far.append(draft.added)
    return "".join(so_far) + draft.tail


@pytest.mark.parametrize("seed", range(4))
def test_every_look_shows_what_visible_draft_shows(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        view, text, given = DraftView(), "", []
        for _ in range(rng.randint(1, 80)):
            piece = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 4)))
            view.feed(piece)
            text += piece
            assert shown(view, given) == visible_draft(text), repr(text)
            assert view.blank() == (not visible_draft(text).strip())
            tail = view.tail(50)
            assert tail == visible_draft(text)[-50:]


def test_a_note_at_the_end_is_hidden_and_a_memo_line_never_shown() -> None:
    view, given = DraftView(), []
    view.feed("Disk is 42% full.\nMEMO: the disk is /dev/sda\nAll fine.\n")
    assert shown(view, given) == "Disk is 42% full.\nAll fine.\n"
    view.feed("(confidence: 0.")
    assert "confidence" not in shown(view, given)
    view.feed("9)")
    assert shown(view, given) == "Disk is 42% full.\nAll fine.\n"


def test_a_look_reads_the_last_lines_only() -> None:
    view, given = DraftView(), []
    lines = [f"line {i}: " + "word " * (i % 13) + "\n" for i in range(5000)]
    for i, line in enumerate(lines):
        for piece in (line[:7], line[7:]):
            view.feed(piece)
            before = view.touched
            shown(view, given)
            # A look costs a window and the line being written, never the whole text
            # (~220 KB by the end: reading it all on every piece would be ~10^9 characters).
            assert view.touched - before <= 2 * WINDOW + 2 * len(line), i
    assert shown(view, given) == "".join(lines)
