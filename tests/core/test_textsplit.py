"""split_text: limits respected, split points stable under appends, fences never cut open.

Splitter: the same parts for a growing text (with an end that may change), at a cost that
does not grow with the text.
"""

from __future__ import annotations

import random

import pytest

from core import textsplit
from core.textsplit import Splitter, split_text


def _fences_balanced(chunk: str) -> bool:
    return sum(1 for line in chunk.split("\n") if line.strip().startswith("```")) % 2 == 0


def test_short_text_is_one_chunk() -> None:
    assert split_text("hello", 100) == ["hello"]


def test_prefers_newline_then_space() -> None:
    text = "first line here\nsecond line is a bit longer than that"
    chunks = split_text(text, 30)
    assert chunks[0] == "first line here"
    assert all(len(c) <= 30 for c in chunks)
    assert " ".join(chunks).replace("\n", " ").split() == text.split()


def test_hard_cut_when_no_whitespace() -> None:
    chunks = split_text("x" * 100, 40)
    assert all(len(c) <= 40 for c in chunks)
    assert "".join(chunks) == "x" * 100


def test_code_fence_is_closed_and_reopened() -> None:
    code = "\n".join(f"print({i})" for i in range(40))
    text = f"Here:\n```python\n{code}\n```\nDone."
    chunks = split_text(text, 120)
    assert len(chunks) > 2
    for chunk in chunks:
        assert len(chunk) <= 120
        assert _fences_balanced(chunk), chunk
    assert chunks[1].startswith("```python\n")
    joined_code = [line for c in chunks for line in c.split("\n") if line.startswith("print(")]
    assert joined_code == code.split("\n")


@pytest.mark.parametrize("seed", range(5))
def test_split_points_never_move_as_text_grows(seed: int) -> None:
    rng = random.Random(seed)
    words = ["alpha", "beta", "```sh", "ls -la", "```", "gamma\n", "delta\n\n", "x" * 30]
    text = ""
    previous: list[str] = []
    for _ in range(400):
        text += rng.choice(words) + rng.choice([" ", "\n", ""])
        chunks = split_text(text, 80)
        # every chunk but the last of the previous frame is final and must stay identical
        assert chunks[: len(previous) - 1] == previous[:-1]
        assert all(len(c) <= 80 for c in chunks)
        previous = chunks


def test_limit_too_small_is_an_error() -> None:
    with pytest.raises(ValueError):
        split_text("abc", 5)


PIECES = ["a", "b", " ", "\n", "\n\n", "```py\n", "```\n", "word ", "  ", "x" * 20, "```a-b\n"]


@pytest.mark.parametrize("seed", range(6))
def test_splitter_gives_the_parts_split_text_gives(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        limit = rng.randint(16, 70)
        splitter = Splitter(limit)
        added = ""
        for _ in range(rng.randint(1, 40)):
            more = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8)))
            tail = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))
            added += more
            assert splitter.split(more, tail) == split_text(added + tail, limit)


def test_splitter_work_per_call_does_not_grow_with_the_text(monkeypatch) -> None:
    cuts = []
    real = textsplit._cut_point
    monkeypatch.setattr(textsplit, "_cut_point", lambda body, n: cuts.append(n) or real(body, n))
    words = [f"word{i}" + ("\n" if i % 9 == 8 else " ") for i in range(40_000)]
    splitter = Splitter(500)
    for i, word in enumerate(words):
        before, cuts_before = splitter.touched, len(cuts)
        parts = splitter.split(word, "held back" if i % 2 else "")
        # Only the text after the last part cut for good is looked at again (a full re-split
        # would read the whole text, ~300 KB by the end, and cut it ~600 times).
        assert splitter.touched - before <= 500 + len(word) + 20
        assert len(cuts) - cuts_before <= 2
    parts = splitter.split("", "")
    assert parts == split_text("".join(words), 500)
    assert len(cuts) <= 3 * len(parts) + len(words) // 10


def test_the_parts_hold_every_word_once() -> None:
    words = [f"w{i}" for i in range(5000)]
    text = " ".join(words) + "\n\n" + "\n".join(words)
    parts = split_text(text, 300)
    assert " ".join(parts).split() == text.split()
