"""Slack adapter: slack-bolt (Socket Mode or HTTP Events) behind core.ports.ChatAdapter."""

from __future__ import annotations

from .adapter import DEFAULT_CAPABILITIES, SlackAdapter

__all__ = ["DEFAULT_CAPABILITIES", "SlackAdapter"]
