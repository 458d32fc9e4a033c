"""Prices of cloud models in USD per million tokens; local models cost nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million input (prompt) and output (completion) tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for this many tokens."""
        return (
            prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok
        ) / 1_000_000


FREE = Price(0.0, 0.0)
# Longest prefix wins. Unknown Claude models are priced like the most expensive family so a
# budget is never under-counted.
CLAUDE_PRICES: dict[str, Price] = {
    "claude-opus-4-6": Price(5.0, 25.0),
    "claude-opus-4-5": Price(5.0, 25.0),
    "claude-opus-4-1": Price(15.0, 75.0),
    "claude-opus-4": Price(15.0, 75.0),
    "claude-sonnet-4": Price(3.0, 15.0),
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-3-5-sonnet": Price(3.0, 15.0),
    "claude-haiku-4": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    "claude-3-haiku": Price(0.25, 1.25),
}
UNKNOWN_CLOUD = Price(15.0, 75.0)
LOCAL_PROVIDERS = frozenset({"ollama", "scripted", "local"})


def price_of(provider: str, model: str) -> Price:
    """The price of one model; local providers are free."""
    if provider in LOCAL_PROVIDERS:
        return FREE
    best = ""
    for prefix in CLAUDE_PRICES:
        if model.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    if best:
        return CLAUDE_PRICES[best]
    log.warning("no price known for %s model %r; assuming the most expensive", provider, model)
    return UNKNOWN_CLOUD


def cost_usd(provider: str, model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """USD cost of one call."""
    return price_of(provider, model).cost(prompt_tokens, completion_tokens)
