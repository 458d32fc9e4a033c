"""The long answers the model streams: a report in paragraphs, or one line of words."""

from __future__ import annotations

import random
from dataclasses import dataclass

OPENING = "Here is the report."

WORDS = (
    *("disk", "usage", "service", "restart", "config", "backup", "latency", "queue"),
    *("worker", "cache", "index", "request", "response", "volume", "mount", "network"),
    *("bridge", "kernel", "module", "cluster", "replica"),
)


@dataclass(frozen=True)
class Shape:
    """What the answer looks like: a report (paragraphs, bullets, code) or one ``line``."""

    size: int
    kind: str = "report"

    @property
    def label(self) -> str:
        """ "100 KB" or "100 KB, one line"."""
        kb = f"{self.size / 1000:g} KB"
        return kb if self.kind == "report" else f"{kb}, one line"

    def text(self) -> str:
        """The answer itself."""
        return long_answer(self.size) if self.kind == "report" else one_line(self.size)


def long_answer(size: int, seed: int = 7) -> str:
    """About ``size`` characters of report: paragraphs, bullets and fenced code, no notes."""
    rng = random.Random(seed)
    words = WORDS
    out = [OPENING, ""]
    length = len(OPENING) + 1
    section = 0
    while length < size:
        section += 1
        block: list[str] = [f"## Section {section}", ""]
        for _ in range(rng.randint(2, 4)):
            block.append(" ".join(rng.choice(words) for _ in range(rng.randint(30, 90))) + ".")
            block.append("")
        block += [f"- item {section}.{i}: {rng.choice(words)} ok" for i in range(3)]
        block.append("")
        if section % 3 == 0:
            block += ["```python", *(f"x{i} = {i} * {section}" for i in range(12)), "```", ""]
        text = "\n".join(block)
        out.append(text)
        length += len(text) + 1
    return "\n".join(out)[:size].rstrip()


def one_line(size: int, seed: int = 7) -> str:
    """About ``size`` characters of words and no line break (a minified blob, say)."""
    rng = random.Random(seed)
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size].rstrip()


def chunked(text: str, seed: int = 11) -> list[str]:
    """``text`` in pieces of 4–20 characters, as a fast model streams it."""
    rng = random.Random(seed)
    pieces = []
    at = 0
    while at < len(text):
        step = rng.randint(4, 20)
        pieces.append(text[at : at + step])
        at += step
    return pieces


def server_parts(answer: str) -> list[str]:
    """The messages a complete ``answer`` must become on Slack: split, then as mrkdwn."""
    from adapters.slack.adapter import DEFAULT_CAPABILITIES
    from adapters.slack.mrkdwn import to_mrkdwn
    from core.render import CURSOR
    from core.textsplit import split_text

    limit = max(16, DEFAULT_CAPABILITIES.max_message_chars - len(CURSOR))
    parts = split_text(answer, limit)
    parts[-1] = parts[-1].rstrip()
    return [to_mrkdwn(p) for p in parts]
