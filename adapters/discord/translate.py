"""Pure mapping between discord.py objects (models, errors) and hearth's neutral values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import discord

from core.errors import MessageTooLong, PlatformError, RateLimited
from core.events import (
    ApprovalResponse,
    ChatRef,
    Decision,
    IncomingMessage,
    MessageRef,
    Reaction,
    User,
)

PLATFORM = "discord"

# Message types a person writes; joins, pins and "thread created" notices are not requests.
_USER_MESSAGE_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
_THREAD_TYPES = frozenset(
    {
        discord.ChannelType.public_thread,
        discord.ChannelType.private_thread,
        discord.ChannelType.news_thread,
    }
)
_DM_TYPES = frozenset({discord.ChannelType.private, discord.ChannelType.group})


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """Where a message was written: a DM, a thread (with its parent) or a plain channel."""

    id: str
    kind: Literal["dm", "thread", "channel"]
    parent_id: str | None = None

    def chat(self) -> ChatRef:
        """The ChatRef of a message written here (a thread keeps its parent as channel)."""
        if self.kind == "thread" and self.parent_id:
            return ChatRef(PLATFORM, self.parent_id, self.id)
        return ChatRef(PLATFORM, self.id)


def channel_info(channel: Any, *, thread_parents: dict[str, str] | None = None) -> ChannelInfo:
    """Classify a discord.py channel; ``thread_parents`` covers threads missing from the cache."""
    cid = str(channel.id)
    kind = getattr(channel, "type", None)
    if kind in _DM_TYPES or isinstance(channel, discord.DMChannel | discord.GroupChannel):
        return ChannelInfo(cid, "dm")
    parent = getattr(channel, "parent_id", None)
    if kind in _THREAD_TYPES and parent:
        return ChannelInfo(cid, "thread", str(parent))
    if thread_parents and cid in thread_parents:
        return ChannelInfo(cid, "thread", thread_parents[cid])
    return ChannelInfo(cid, "channel")


def strip_mention(text: str, bot_id: str, role_ids: tuple[str, ...] = ()) -> str:
    """Remove mentions of the bot (``<@id>``, ``<@!id>``, its role) and tidy the whitespace."""
    ids = "|".join(re.escape(r) for r in role_ids)
    pattern = rf"<@!?{re.escape(bot_id)}>" + (rf"|<@&(?:{ids})>" if ids else "")
    stripped = re.sub(pattern, " ", text)
    return re.sub(r"[ \t]{2,}", " ", stripped).strip()


def bot_role_ids(message: Any, bot_id: str) -> tuple[str, ...]:
    """Ids of mentioned roles that belong to the bot (its managed integration role).

    Discord's autocomplete often offers the bot's role instead of the bot user; people mean
    the bot either way.
    """
    return tuple(
        str(role.id)
        for role in getattr(message, "role_mentions", ())
        if str(getattr(getattr(role, "tags", None), "bot_id", None)) == bot_id
    )


def to_user(user: Any) -> User:
    """A hearth User from a discord.py User or Member."""
    return User(PLATFORM, str(user.id), str(user.display_name), bool(user.bot))


def mentions_bot(message: Any, bot_id: str) -> bool:
    """True when the message mentions the bot (the mention list survives without the intent)."""
    if any(str(m.id) == bot_id for m in message.mentions) or bot_role_ids(message, bot_id):
        return True
    return re.search(rf"<@!?{re.escape(bot_id)}>", message.content or "") is not None


def to_incoming(
    message: Any, *, bot_id: str, where: ChannelInfo, reply_chat: ChatRef | None = None
) -> IncomingMessage | None:
    """Map a discord.py Message to an IncomingMessage, or None when it is not for the bot.

    Dropped: the bot's own messages, other bots and webhooks, system messages, and top-level
    guild messages that do not mention the bot. A top-level mention gets ``thread_id`` = its own
    id: Discord gives a thread started from a message that message's id, so the task's thread
    is known before it exists. ``reply_chat`` is the task chat of the message this one replies
    to, where threads were not allowed and the task lives in replies instead: such a reply
    belongs to that task like a message in its thread would.
    """
    author = message.author
    if str(author.id) == bot_id or author.bot or message.webhook_id is not None:
        return None
    if message.type not in _USER_MESSAGE_TYPES:
        return None
    mentioned = mentions_bot(message, bot_id)
    text = strip_mention(message.content or "", bot_id, bot_role_ids(message, bot_id))
    in_thread = where.kind == "thread"
    if where.kind == "channel" and reply_chat is not None:
        chat, in_thread = reply_chat, True
    elif where.kind == "channel":
        if not mentioned:
            return None
        chat = ChatRef(PLATFORM, where.id, str(message.id))
    else:
        chat = where.chat()
    if not text and not mentioned:
        return None  # e.g. a thread message whose content Discord withheld (no intent)
    return IncomingMessage(
        ref=MessageRef(chat, str(message.id)),
        author=to_user(author),
        text=text,
        mentions_bot=mentioned,
        is_direct=where.kind == "dm",
        event_id=str(message.id),
        in_thread=in_thread,
        received_at=message.created_at,
        raw=message,
    )


SLASH_COMMAND = "hearth"


def slash_to_incoming(
    user: User, text: str, *, where: ChannelInfo, message_id: str, interaction_id: str
) -> IncomingMessage:
    """A ``/hearth`` command as a mention; in a channel its thread starts from the response."""
    chat = ChatRef(PLATFORM, where.id, message_id) if where.kind == "channel" else where.chat()
    return IncomingMessage(
        ref=MessageRef(chat, message_id),
        author=user,
        text=" ".join(text.split()),
        mentions_bot=True,
        is_direct=where.kind == "dm",
        event_id=f"cmd:{interaction_id}",
        in_thread=where.kind == "thread",
    )


def to_reaction(payload: Any, *, user: User, where: ChannelInfo) -> Reaction:
    """Map a RawReactionActionEvent to a Reaction on the message it targets."""
    key = str(payload.emoji)
    return Reaction(
        target=MessageRef(where.chat(), str(payload.message_id)),
        key=key,
        user=user,
        event_id=f"reaction:{payload.message_id}:{payload.user_id}:{key}",
        raw=payload,
    )


def to_approval_response(
    approval_id: str,
    decision: Decision,
    *,
    interaction: Any,
    where: ChannelInfo,
) -> ApprovalResponse:
    """Map a click on an approval button to an ApprovalResponse."""
    prompt = None
    if interaction.message is not None:
        prompt = MessageRef(where.chat(), str(interaction.message.id))
    return ApprovalResponse(
        approval_id=approval_id,
        decision=decision,
        user=to_user(interaction.user),
        prompt=prompt,
        event_id=f"interaction:{interaction.id}",
        raw=interaction,
    )


@contextmanager
def platform_errors(action: str) -> Iterator[None]:
    """Translate discord.py / aiohttp failures into core.errors, in one place."""
    try:
        yield
    except discord.RateLimited as exc:  # a 429 longer than max_ratelimit_timeout
        raise RateLimited(exc.retry_after, f"discord {action}: rate limited") from exc
    except discord.HTTPException as exc:
        if exc.status == 429:  # discord.py gave up retrying, or a 429 without Via
            raise RateLimited(_retry_after(exc), f"discord {action}: rate limited") from exc
        if exc.code == 50035 and "length" in str(exc.text).lower():
            raise MessageTooLong(f"discord {action}: {exc.text}") from exc
        raise PlatformError(
            f"discord {action} failed: {exc.status} {exc.code} {exc.text}"
        ) from exc
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise PlatformError(f"discord {action} failed: {exc!r}") from exc


def _retry_after(exc: discord.HTTPException) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        try:
            return float(headers[name])
        except (KeyError, TypeError, ValueError):
            continue
    return 1.0
