"""FakeAdapter: an in-memory ChatAdapter that records every call, with server-like state."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from core.errors import PlatformError, RateLimited
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, Event, MessageRef
from core.ports import Capabilities, EventSink


@dataclass
class FakeMessage:
    """A message as the platform would store it."""

    ref: MessageRef
    text: str
    edits: int = 0
    reactions: list[str] = field(default_factory=list)
    buttons: bool = False


class FakeAdapter:
    """Records post/edit/react/approval calls; tests push inbound events with ``receive``."""

    def __init__(self, platform: str = "fake", capabilities: Capabilities | None = None) -> None:
        self.platform = platform
        self.capabilities = capabilities or Capabilities(
            max_message_chars=4000, min_edit_interval=0.0, buttons=True
        )
        self.calls: list[tuple[str, str, str]] = []  # (op, message id, text)
        self.messages: dict[str, FakeMessage] = {}
        self.approval_requests: list[ApprovalRequest] = []
        self.closed: list[tuple[MessageRef, ApprovalOutcome]] = []
        self.images: list[tuple[MessageRef, str, bytes]] = []  # (message, filename, bytes)
        self.files: list[tuple[MessageRef, str, bytes, str]] = []  # (message, name, bytes, mime)
        self.rate_limit_next: list[float] = []  # retry_after values for the next edits
        self.refuse_files: PlatformError | None = None  # raised by every post_file
        self.refuse_posts: list[str] = []  # a post containing one of these raises PlatformError
        self._ids = itertools.count(1)
        self._sink: EventSink | None = None
        self._running = asyncio.Event()
        self.connected = False

    async def run(self, sink: EventSink) -> None:
        """Accept events until cancelled."""
        self._sink = sink
        self.connected = True
        self._running.set()
        try:
            await asyncio.Event().wait()
        finally:
            self.connected = False

    async def receive(self, event: Event) -> None:
        """Deliver an inbound event to the sink (the adapter must be running or bound)."""
        if self._sink is None:
            raise RuntimeError("FakeAdapter is not running; call bind(sink) or run(sink)")
        await self._sink(event)

    def bind(self, sink: EventSink) -> None:
        """Attach a sink without running (unit tests)."""
        self._sink = sink
        self.connected = True

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Store a new message (or refuse it, as scripted by ``refuse_posts``)."""
        if any(part in text for part in self.refuse_posts):
            self.calls.append(("post-refused", "", text))
            raise PlatformError("the fake platform refused the post")
        ref = MessageRef(chat, f"m{next(self._ids)}")
        self.messages[ref.message_id] = FakeMessage(ref, text)
        self.calls.append(("post", ref.message_id, text))
        return ref

    async def edit(self, ref: MessageRef, text: str) -> None:
        """Replace a stored message's text, or raise a scripted RateLimited."""
        if self.rate_limit_next:
            self.calls.append(("edit-429", ref.message_id, text))
            raise RateLimited(self.rate_limit_next.pop(0))
        msg = self.messages[ref.message_id]
        msg.text = text
        msg.edits += 1
        self.calls.append(("edit", ref.message_id, text))

    async def react(self, ref: MessageRef, key: str) -> None:
        """Add a reaction (to a stored message, or to a user's message we never stored)."""
        if ref.message_id in self.messages:
            self.messages[ref.message_id].reactions.append(key)
        self.calls.append(("react", ref.message_id, key))

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Post an approval prompt with buttons."""
        ref = await self.post(chat, f"Approval {request.id}: `{request.command}`")
        self.messages[ref.message_id].buttons = True
        self.approval_requests.append(request)
        return ref

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Remove the buttons and show the outcome."""
        msg = self.messages[prompt.message_id]
        msg.buttons = False
        who = outcome.decided_by.display_name if outcome.decided_by else "nobody"
        msg.text += f"\n→ {outcome.decision.value} ({outcome.reason or who})"
        self.closed.append((prompt, outcome))
        self.calls.append(("close", prompt.message_id, outcome.decision.value))

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """Store an uploaded image as a message with the caption as its text."""
        ref = MessageRef(chat, f"m{next(self._ids)}")
        self.messages[ref.message_id] = FakeMessage(ref, caption)
        self.images.append((ref, filename, data))
        self.calls.append(("image", ref.message_id, filename))
        return ref

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """Store an uploaded file as a message with the caption as its text (or refuse it)."""
        if self.refuse_files is not None:
            self.calls.append(("file-refused", "", filename))
            raise self.refuse_files
        ref = MessageRef(chat, f"m{next(self._ids)}")
        self.messages[ref.message_id] = FakeMessage(ref, caption)
        self.files.append((ref, filename, data, mime))
        self.calls.append(("file", ref.message_id, filename))
        return ref

    def texts(self, chat: ChatRef | None = None) -> list[str]:
        """Current texts of all messages (optionally in one chat), in post order."""
        return [m.text for m in self.messages.values() if chat is None or m.ref.chat == chat]

    def ops(self, op: str) -> list[tuple[str, str, str]]:
        """Recorded calls of one kind."""
        return [c for c in self.calls if c[0] == op]
