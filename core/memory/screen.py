"""Screening before anything is stored: secrets are never kept, instruction-shaped text is
kept only marked untrusted.

The marker is a label, not the defence: every recalled memory reaches a model as quoted data
with its date and author (core.memory.quote), whatever the screen said. The screen adds an
explicit warning to text that reads like someone talking to the agent, so neither the model
nor a person listing memories mistakes it for a trusted note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.redact import Redactor

MAX_TEXT = 2000  # characters kept per entry; longer text is cut (with a mark)

_INSTRUCTION_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (why, re.compile(pattern, re.IGNORECASE))
    for why, pattern in (
        (
            "tells the agent to ignore its instructions",
            r"\b(?:ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}"
            r"\b(?:instructions?|rules|prompts?|directions|guidelines|polic(?:y|ies))\b",
        ),
        (
            "tells the agent to approve",
            r"\b(?:always|auto(?:matically)?|just|silently)[ -]?approve\b"
            r"|\bapprove\s+(?:all|every|any(?:thing)?)\b",
        ),
        (
            "tells the agent to run a command",
            r"\b(?:run|execute|exec|eval)\s+(?:this|these|the\s+following|that)\b"
            r"|\b(?:curl|wget)\b[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b",
        ),
        (
            "tries to change the agent's role",
            r"\b(?:from\s+now\s+on|new\s+instructions|system\s+prompt|you\s+are\s+now"
            r"|act\s+as|pretend\s+(?:to\s+be|you)|developer\s+mode|jailbreak)\b",
        ),
        (
            "tells the agent to hide something",
            r"\b(?:do\s+not|don't|never)\s+(?:tell|inform|ask|notify|show)\s+"
            r"(?:the\s+)?(?:user|anyone|approvers?|admins?|humans?)\b"
            r"|\bwithout\s+(?:asking|approval|confirmation|telling)\b",
        ),
        (
            "carries tool-call or chat-template syntax",
            r"</?tool_call>|<\|im_(?:start|end)\|>|\[/?INST\]|<\|(?:system|user|assistant)\|>"
            r"|\"(?:name|tool|function)\"\s*:\s*\"[^\"]+\"\s*,\s*\"(?:arguments|parameters|input)\"",
        ),
    )
)


@dataclass(frozen=True, slots=True)
class Screened:
    """What the screen made of a text."""

    text: str  # the text to store (secrets masked, length capped)
    trusted: bool
    reasons: tuple[str, ...]  # why it is untrusted ("" when trusted)
    had_secret: bool


def instruction_reasons(text: str) -> tuple[str, ...]:
    """Why ``text`` reads like instructions to the agent (empty when it does not)."""
    return tuple(why for why, pattern in _INSTRUCTION_SHAPES if pattern.search(text))


def screen(text: str, redactor: Redactor) -> Screened:
    """Mask secrets, cap the length and mark instruction-shaped text untrusted."""
    text = text.strip()
    masked = redactor.redact(text)
    had_secret = masked != text
    if len(masked) > MAX_TEXT:
        masked = masked[: MAX_TEXT - 1] + "…"
    reasons = instruction_reasons(text)
    return Screened(masked, not reasons, reasons, had_secret)
