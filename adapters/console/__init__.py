"""The terminal chat: hearth without any chat platform."""

from adapters.console.adapter import ConsoleAdapter

__all__ = ["ConsoleAdapter"]
