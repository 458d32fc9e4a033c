"""Text commands answered directly, without the agent (help, status, usage, approve, …)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.events import ChatRef, IncomingMessage, User
from core.ports import ChatAdapter


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandContext:
    """One invocation of a text command."""

    name: str
    args: str  # the rest of the line after the command word
    message: IncomingMessage
    chat: ChatRef  # where to answer (the message's thread)
    adapter: ChatAdapter
    is_admin: bool

    @property
    def user(self) -> User:
        """Who typed the command."""
        return self.message.author


CommandHandler = Callable[[CommandContext], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Command:
    """A text command: ``name`` (first word, case-insensitive), one-line help, a handler.

    The handler returns the reply text (posted in the thread), or None when it replied itself.
    """

    name: str
    usage: str  # e.g. "approve <id>"
    help: str
    handler: CommandHandler
    admin_only: bool = False
    aliases: tuple[str, ...] = ()
