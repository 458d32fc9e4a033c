"""Discord adapter (discord.py): mentions and DMs in, threads, streamed edits, approval buttons."""

from __future__ import annotations

from adapters.discord.adapter import DEFAULT_CAPABILITIES, DiscordAdapter
from adapters.discord.client import build_intents

__all__ = ["DEFAULT_CAPABILITIES", "DiscordAdapter", "build_intents"]
