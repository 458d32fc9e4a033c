"""Confidence: parsed from the model's answer, clamped on hard-failure signals or refusals."""

from __future__ import annotations

import re
from collections.abc import Iterable

_CONFIDENCE = re.compile(
    r"^\W*confidence\W*[:=]?\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<pct>%)?\W*$",
    re.IGNORECASE | re.MULTILINE,
)
# Substrings that mean "this did not work", whatever the model claims.
FAILURE_SIGNALS: tuple[str, ...] = (
    "unhealthy",
    "Exited (",
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ERROR 1045",
    "Error response from daemon",
    "command not found",
    "Traceback (most recent call last)",
    "Segmentation fault",
    "FATAL:",
    "Access denied for user",
    "OOMKilled",
)
_REFUSALS = re.compile(
    r"\b(I (?:cannot|can't|can not|am unable to|'m unable to|am not able to|don't have access)"
    r"|I'm sorry, but|as an AI\b|unable to (?:complete|help|access|perform))",
    re.IGNORECASE,
)


def parse_confidence(text: str) -> tuple[str, float | None]:
    """The answer without its ``CONFIDENCE: x`` line, and x in [0, 1] (None when absent)."""
    matches = list(_CONFIDENCE.finditer(text))
    if not matches:
        return text.strip(), None
    last = matches[-1]
    value = float(last.group("value"))
    if last.group("pct") or value > 1.0:
        value /= 100.0
    value = min(1.0, max(0.0, value))
    stripped = (text[: last.start()] + text[last.end() :]).strip()
    return stripped, value


def failure_signals(outputs: Iterable[str]) -> list[str]:
    """Hard-failure signals found in tool outputs, in FAILURE_SIGNALS order, no duplicates."""
    found: list[str] = []
    joined = "\n".join(outputs)
    lowered = joined.lower()
    for signal in FAILURE_SIGNALS:
        if signal.lower() in lowered and signal not in found:
            found.append(signal)
    return found


def is_refusal(answer: str) -> bool:
    """True when the answer is the model declining or saying it could not do the work."""
    return bool(_REFUSALS.search(answer[:600])) or not answer.strip()


def assess(
    stated: float | None,
    *,
    answer: str,
    signals: Iterable[str],
    default: float,
    clamp: float,
) -> float:
    """The confidence to act on: stated (or default), clamped to ``clamp`` on failure evidence."""
    value = default if stated is None else stated
    if list(signals) or is_refusal(answer):
        value = min(value, clamp)
    return value
