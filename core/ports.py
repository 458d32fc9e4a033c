"""Interfaces (ports) the core depends on. Implementations live in adapters/ and core/llm/."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, Event, MessageRef, User

EventSink = Callable[[Event], Awaitable[None]]

log = logging.getLogger(__name__)


async def deliver(sink: EventSink, event: Event, platform: str) -> None:
    """Hand ``event`` to the core from an adapter's event loop; a failure is logged, not raised.

    One bad event must not end the SDK's handler task or sync loop (and so every later one).
    """
    try:
        await sink(event)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("%s: the core failed to handle %s", platform, type(event).__name__)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can do; the core adapts to this data instead of branching on names."""

    max_message_chars: int
    min_edit_interval: float  # seconds between two edits of the same message
    buttons: bool  # False: approvals use reactions and `approve <id>` text
    threads: bool = True
    reactions: bool = True


@runtime_checkable
class ChatAdapter(Protocol):
    """One chat platform, seen from the core."""

    platform: str
    capabilities: Capabilities

    async def run(self, sink: EventSink) -> None:
        """Connect, deliver inbound events to ``sink`` until cancelled, then clean up."""

    @property
    def connected(self) -> bool:
        """True while the platform connection is up (health checks)."""

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Post ``text`` (core Markdown) into ``chat``, in its thread when it has one."""

    async def edit(self, ref: MessageRef, text: str) -> None:
        """Replace the text of a message the bot posted."""

    async def react(self, ref: MessageRef, key: str) -> None:
        """Add the emoji ``key`` to a message."""

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Render an approval prompt; the answer arrives later as an ApprovalResponse."""

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Replace the buttons with the outcome so nobody can press them twice."""

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """Upload an image (PNG bytes) into ``chat`` the platform's way, ``caption`` beside it."""

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """Upload ``data`` as the file ``filename`` (of type ``mime``) into ``chat``, captioned."""


class Clock(Protocol):
    """Time source; tests inject a fake one so nothing sleeps for real."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock."""

    def now(self) -> float:
        """Wall-clock seconds since the epoch."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""


class ApprovalRequester(Protocol):
    """What tools and the heartbeat need from the approval broker: ask, wait, get a decision."""

    async def request(
        self,
        *,
        chat: ChatRef,
        command: str,
        cwd: str,
        task_id: str,
        requester: User,
        tool_name: str = "shell",
        reasons: tuple[str, ...] = (),
        kind: str = "command",
    ) -> ApprovalOutcome:
        """Ask approvers about exactly ``command`` in ``cwd``; expiry counts as a denial."""
        ...
