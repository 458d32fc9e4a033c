"""The plain-paragraphs shortcut of to_mrkdwn renders exactly what the parser renders."""

from __future__ import annotations

import random

import pytest

from adapters.slack.mrkdwn import _paragraphs, _rendered, escape, to_mrkdwn

# Pieces that are plain text, and pieces that start or are CommonMark syntax somewhere.
TOKENS = [
    "word",
    "All good",
    " ",
    "  ",
    ".",
    ",",
    ":",
    "!",
    "?",
    "(",
    ")",
    "'",
    '"',
    "$",
    "%",
    "/",
    "é",
    "⏳",
    "✅",
    "—",
    "·",
    "\n",
    "\n",
    "\n\n",
    "1",
    "1.",
    "2)",
    "-",
    "---",
    "=",
    "===",
    "+",
    "#",
    "*",
    "_",
    "`",
    "~~",
    "[",
    "]",
    "<",
    ">",
    "&",
    "&amp;",
    "\\",
    "|",
    "\t",
    "\r",
    "\x00",
    "\u00a0",
    "    ",
    "http://x.y",
    "a|b",
    "```",
]


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 12))) for _ in range(n)]


@pytest.mark.parametrize("seed", range(4))
def test_the_shortcut_agrees_with_the_parser(seed: int) -> None:
    texts = _texts(3000, seed)
    shortcut = [t for t in texts if "\n" in t and _paragraphs(t) is not None]
    assert len(shortcut) > 20  # the comparison below covers the shortcut for real
    for text in texts:
        parsed = _rendered(text) if text.strip() else escape(text)
        assert to_mrkdwn(text) == parsed, repr(text)


@pytest.mark.parametrize(
    "text",
    [
        "All good: nothing to do.",
        "⏳ Working: check the disks (12)\n⏳ 1. check the disks — running\n"
        "local: 120 tokens · $0.0000",
        "first paragraph\n\n\nsecond one\nwith a second line",
    ],
)
def test_plain_answers_and_cards_take_the_shortcut(text: str) -> None:
    assert _paragraphs(text) is not None
    assert to_mrkdwn(text) == _rendered(text)
