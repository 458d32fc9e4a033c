"""split_text: limits respected, split points stable under appends, fences never cut open."""

from __future__ import annotations

import random

import pytest

from core.textsplit import split_text


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
