"""Platform-neutral values that adapters produce and the core consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class ChatRef:
    """One conversation: a channel or room, optionally narrowed to a thread."""

    platform: str  # "slack" | "discord" | "matrix" | "console" | "fake"
    channel_id: str  # Slack channel, Discord channel, Matrix room id
    thread_id: str | None = None  # Slack thread_ts, Discord thread id, Matrix thread root

    @property
    def key(self) -> str:
        """Stable string key for storage and locks."""
        return f"{self.platform}:{self.channel_id}:{self.thread_id or '-'}"

    def in_thread(self, thread_id: str) -> ChatRef:
        """The same channel, narrowed to ``thread_id``."""
        return ChatRef(self.platform, self.channel_id, thread_id)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message the bot or a user posted; enough to edit or react to it."""

    chat: ChatRef
    message_id: str  # Slack ts, Discord snowflake, Matrix event id


@dataclass(frozen=True, slots=True)
class User:
    """Someone on a chat platform."""

    platform: str
    id: str
    display_name: str = ""
    is_bot: bool = False

    @property
    def qualified(self) -> str:
        """``platform:id`` as used in ALLOWED_USERS, ADMINS and APPROVERS."""
        return f"{self.platform}:{self.id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingMessage:
    """A user wrote something the bot should consider.

    ``ref.chat.thread_id`` is the thread the message lives in, or the thread a task started
    from it should use (adapters set it to the message's own id for top-level messages on
    platforms that thread replies under the original message).
    """

    ref: MessageRef
    author: User
    text: str  # the bot mention already stripped
    mentions_bot: bool = False
    is_direct: bool = False
    event_id: str = ""  # platform event id for de-duplication ("" = use ref.message_id)
    in_thread: bool = False  # True when the message was written inside an existing thread
    received_at: datetime | None = None
    raw: Any = field(default=None, repr=False, compare=False)

    @property
    def dedup_key(self) -> str:
        """Key under which this delivery is remembered as seen."""
        return f"{self.ref.chat.platform}:{self.event_id or self.ref.message_id}"


class Decision(StrEnum):
    """What an approver decided."""

    APPROVE = "approve"
    DENY = "deny"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalResponse:
    """A user pressed an approval button, reacted ✅/❌, or typed approve/deny <id>."""

    approval_id: str
    decision: Decision
    user: User
    prompt: MessageRef | None = None  # the prompt message, when known
    event_id: str = ""
    raw: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reaction:
    """A user added an emoji reaction to a message (heartbeat labels, Matrix approvals)."""

    target: MessageRef
    key: str  # the emoji itself, e.g. "👍"
    user: User
    event_id: str = ""
    raw: Any = field(default=None, repr=False, compare=False)


Event = IncomingMessage | ApprovalResponse | Reaction  # closed union: handle with `match`


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalRequest:
    """What an approval prompt shows; adapters render it, the broker owns it."""

    id: str  # short, url-safe; fits Discord's custom_id together with a prefix
    chat: ChatRef
    command: str  # the exact command (or action) to be approved
    cwd: str
    task_id: str
    requester: User
    tool_name: str = "shell"
    reasons: tuple[str, ...] = ()  # why it is risky
    expires_at: datetime
    kind: str = "command"  # "command" | "skill" | "heartbeat-action"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalOutcome:
    """How an approval ended."""

    decision: Decision
    decided_by: User | None  # None when it expired or the bot restarted
    decided_at: datetime
    reason: str = ""  # "expired", "expired: hearth restarted", "approved by …"

    @property
    def approved(self) -> bool:
        """True only for an explicit approval."""
        return self.decision is Decision.APPROVE
