"""Markdown → Slack mrkdwn."""

from __future__ import annotations

import random

import pytest

from adapters.slack.mrkdwn import _plain, _rendered, to_mrkdwn
from core.textsplit import split_text


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**bold** and *it* and ~~gone~~", "*bold* and _it_ and ~gone~"),
        ("`a < b && c`", "`a &lt; b &amp;&amp; c`"),
        ("[docs](https://x.io/a?b=1&c=2)", "<https://x.io/a?b=1&c=2|docs>"),
        ("<https://x.io>", "<https://x.io>"),
        ("# Title\n\ntext", "*Title*\n\ntext"),
        ("- one\n- **two**\n  - nested", "• one\n• *two*\n  ◦ nested"),
        ("3. c\n4. d", "3. c\n4. d"),
        ("> quoted\n> more", "> quoted\n> more"),
        ("a <b> & c", "a &lt;b&gt; &amp; c"),
        ("line one\nline two", "line one\nline two"),
    ],
)
def test_conversions(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


def test_code_block_keeps_content_and_drops_the_language() -> None:
    out = to_mrkdwn("Run:\n\n```bash\nls -la | grep '*.py' > out\n```\n\ndone")
    assert out == "Run:\n\n```\nls -la | grep '*.py' &gt; out\n```\n\ndone"


def test_unclosed_fence_in_a_draft_is_closed() -> None:
    assert to_mrkdwn("```\npartial output ▍") == "```\npartial output ▍\n```"


def test_table_becomes_preformatted() -> None:
    out = to_mrkdwn("| a | b |\n|---|---|\n| 1 | 2 |")
    assert out == "```\n| a | b |\n|---|---|\n| 1 | 2 |\n```"


def test_code_blocks_survive_splitting() -> None:
    """Every chunk the core splits off renders with balanced fences on Slack."""
    code = "\n".join(f"line {i} <tag> & more" for i in range(200))
    text = f"Intro **bold**\n\n```\n{code}\n```\n\nOutro"
    chunks = split_text(text, 1000)
    assert len(chunks) > 2
    rendered = [to_mrkdwn(c) for c in chunks]
    for out in rendered:
        assert out.count("```") % 2 == 0
    joined = "\n".join(rendered)
    for i in range(200):
        assert f"line {i} &lt;tag&gt; &amp; more" in joined


def test_plain_lines_skip_the_parse_and_render_exactly_as_parsed() -> None:
    """The one-line fast path agrees with the full parse on every generated line."""
    rng = random.Random(24)
    words = ["Working", "on:", "disk", "42%", "ok?", "(x)", "a.b", "é", "⏳", "✅", "1.", "2)"]
    words += ["`ab12`", "`a b`", "` a`", "`b `", "``", "```", "`x", "y`", "(`z`):"]
    marks = list("\\`*_~[]<>!&|#-+=.:()\"'%$@^{}/;,?0123456789")
    spaces = [" ", "  ", "    ", "\t", "\u00a0", "\u2003", "\n", "\r\n", "\x0b"]
    fast = code = 0
    for _ in range(20_000):
        parts = [
            rng.choice(words if rng.random() < 0.6 else marks if rng.random() < 0.7 else spaces)
            for _ in range(rng.randint(1, 8))
        ]
        text = rng.choice(["", " ", "    "]) + rng.choice(["", " "]).join(parts)
        if rng.random() < 0.3:
            text += rng.choice(spaces)
        if not text.strip():
            continue
        fast += _plain(text) is not None
        code += _plain(text) is not None and "`" in text
        assert to_mrkdwn(text) == _rendered(text), repr(text)
    assert fast > 1_500 and code > 200  # the fast path was really taken
    assert _plain("⏳ Working on: how full is the disk?") == "⏳ Working on: how full is the disk?"
    assert _plain("1. first") is None and _plain("    code") is None
    queued = "⏳ Queued (task `ab12`): all 4 slots are busy, 3 task(s) waiting ahead of you."
    assert _plain(queued) == queued
