"""Inbound mapping: Matrix event JSON as hearth's core events (messages, reactions, invites).

Every function here takes and returns plain data (event ``source`` dicts as the homeserver
sends them), so it is unit-tested on recorded JSON without a client or a server. What hearth
sends is built in adapters/matrix/compose.py; approval prompts in adapters/matrix/approvals.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.events import ChatRef, IncomingMessage, MessageRef, Reaction, User

PLATFORM = "matrix"
TEXT_TYPES = {"m.text", "m.notice", "m.emote"}


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is, for recognising mentions and its own events."""

    user_id: str
    display_name: str = ""

    @property
    def localpart(self) -> str:
        """``hearth`` for ``@hearth:example.org``."""
        return self.user_id[1:].partition(":")[0]


def _content(source: Mapping[str, Any]) -> Mapping[str, Any]:
    content = source.get("content")
    return content if isinstance(content, Mapping) else {}


def _relation(content: Mapping[str, Any]) -> Mapping[str, Any]:
    rel = content.get("m.relates_to")
    return rel if isinstance(rel, Mapping) else {}


def _timestamp(source: Mapping[str, Any]) -> datetime | None:
    ts = source.get("origin_server_ts")
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return datetime.fromtimestamp(ts / 1000, UTC)
    return None


def predates(source: Mapping[str, Any], *, uptime_ms: float, not_before_ms: float) -> bool:
    """True for an event sent before we started: too old to act on.

    Prefers the server's ``unsigned.age`` (ms since the event was sent, computed when the
    response was serialised) over ``origin_server_ts``, so a host clock that is off does not
    matter; ``uptime_ms`` is how long we have been running, plus a small skew.
    """
    unsigned = source.get("unsigned")
    age = unsigned.get("age") if isinstance(unsigned, Mapping) else None
    if isinstance(age, int | float) and not isinstance(age, bool):
        return age > uptime_ms
    ts = source.get("origin_server_ts")
    return isinstance(ts, int | float) and not isinstance(ts, bool) and ts < not_before_ms


def is_edit(source: Mapping[str, Any]) -> bool:
    """True for ``m.replace`` edits, which never start or steer anything."""
    return _relation(_content(source)).get("rel_type") == "m.replace"


def strip_reply_fallback(body: str) -> str:
    """Drop the ``> <@user> quoted`` lines old clients put in front of replies."""
    if not body.startswith("> "):
        return body
    lines = body.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    return "\n".join(lines[i:]).lstrip("\n")


def find_mention(content: Mapping[str, Any], body: str, bot: BotIdentity) -> tuple[bool, str]:
    """Whether the message mentions the bot, and the text with a leading mention removed.

    A mention is: the bot in ``m.mentions.user_ids``, a pill (matrix.to link) to the bot in the
    HTML, the full user id anywhere, or the display name / localpart addressing the bot at the
    start of the message (``hearth: do x``, ``@hearth do x``).
    """
    mentioned = False
    mentions = content.get("m.mentions")
    if isinstance(mentions, Mapping):
        user_ids = mentions.get("user_ids")
        if isinstance(user_ids, list) and bot.user_id in user_ids:
            mentioned = True
    html = content.get("formatted_body")
    if isinstance(html, str) and (
        f"matrix.to/#/{bot.user_id}" in html
        or f"matrix.to/#/{bot.user_id.replace('@', '%40').replace(':', '%3A')}" in html
    ):
        mentioned = True
    # "@?" below supplies the sigil, so the full id is listed without it (longest first).
    names = [bot.user_id.lstrip("@"), bot.display_name, bot.localpart]
    alternatives = "|".join(re.escape(n) for n in sorted({n for n in names if n}, key=len)[::-1])
    leading = re.compile(rf"^\s*@?(?:{alternatives})(?![\w.-])[:,]?\s*", re.IGNORECASE)
    text, count = leading.subn("", body, count=1)
    if count:
        mentioned = True
    if bot.user_id in text:
        mentioned = True
        text = re.sub(rf"{re.escape(bot.user_id)}[:,]?\s*", "", text)
    return mentioned, text.strip()


def message_to_event(
    source: Mapping[str, Any],
    *,
    room_id: str,
    bot: BotIdentity,
    is_direct: bool,
    sender_name: str = "",
    known_bots: Iterable[str] = (),
) -> IncomingMessage | None:
    """An ``m.room.message`` as an IncomingMessage; None for own messages, edits and non-text.

    The task's thread is the message's ``m.thread`` root when it was written in a thread,
    else the message itself (a new task's thread is rooted at the user's message).
    """
    if source.get("type") != "m.room.message":
        return None
    sender, event_id = source.get("sender"), source.get("event_id")
    if not isinstance(sender, str) or not isinstance(event_id, str) or sender == bot.user_id:
        return None
    content = _content(source)
    body, msgtype = content.get("body"), content.get("msgtype")
    if not isinstance(body, str) or msgtype not in TEXT_TYPES or is_edit(source):
        return None
    rel = _relation(content)
    root = rel.get("event_id") if rel.get("rel_type") == "m.thread" else None
    in_thread = isinstance(root, str) and bool(root)
    if "m.in_reply_to" in rel:
        body = strip_reply_fallback(body)
    mentioned, text = find_mention(content, body, bot)
    return IncomingMessage(
        ref=MessageRef(ChatRef(PLATFORM, room_id, root if in_thread else event_id), event_id),
        author=User(
            PLATFORM,
            sender,
            sender_name or sender,
            is_bot=msgtype == "m.notice" or sender in set(known_bots),
        ),
        text=text,
        mentions_bot=mentioned,
        is_direct=is_direct,
        event_id=event_id,
        in_thread=in_thread,
        received_at=_timestamp(source),
        raw=source,
    )


def reaction_to_event(
    source: Mapping[str, Any],
    *,
    room_id: str,
    bot: BotIdentity,
    sender_name: str = "",
    target_chat: ChatRef | None = None,
    known_bots: Iterable[str] = (),
) -> Reaction | None:
    """An ``m.reaction`` (annotation) as a Reaction; None for the bot's own and malformed ones.

    ``target_chat`` is the reacted message's chat when the adapter knows it (a prompt or report
    it posted); otherwise the room itself.
    """
    if source.get("type") != "m.reaction":
        return None
    sender, event_id = source.get("sender"), source.get("event_id")
    if not isinstance(sender, str) or sender == bot.user_id or not isinstance(event_id, str):
        return None
    rel = _relation(_content(source))
    target, key = rel.get("event_id"), rel.get("key")
    if rel.get("rel_type") != "m.annotation" or not isinstance(target, str):
        return None
    if not isinstance(key, str) or not key:
        return None
    chat = target_chat or ChatRef(PLATFORM, room_id)
    return Reaction(
        target=MessageRef(chat, target),
        key=key,
        user=User(PLATFORM, sender, sender_name or sender, is_bot=sender in set(known_bots)),
        event_id=event_id,
        raw=source,
    )


def reaction_target(source: Mapping[str, Any]) -> str | None:
    """The event id an ``m.reaction`` annotates, or None."""
    rel = _relation(_content(source))
    target = rel.get("event_id")
    return target if rel.get("rel_type") == "m.annotation" and isinstance(target, str) else None


def event_body(source: Mapping[str, Any]) -> str | None:
    """The ``body`` of an event's content, or None."""
    body = _content(source).get("body")
    return body if isinstance(body, str) else None


def edited_text(source: Mapping[str, Any]) -> str | None:
    """The new text an ``m.replace`` event carries, or None for anything else."""
    if not is_edit(source):
        return None
    new = _content(source).get("m.new_content")
    body = new.get("body") if isinstance(new, Mapping) else None
    return body if isinstance(body, str) else None


def invite_sender(invite_state: Iterable[Mapping[str, Any]], bot_user_id: str) -> str | None:
    """Who invited the bot, from a room's ``invite_state``; None when it cannot be told."""
    for event in invite_state:
        if (
            event.get("type") == "m.room.member"
            and event.get("state_key") == bot_user_id
            and _content(event).get("membership") == "invite"
        ):
            sender = event.get("sender")
            return sender if isinstance(sender, str) else None
    return None


def invite_is_direct(invite_state: Iterable[Mapping[str, Any]], bot_user_id: str) -> bool:
    """True when the bot's invite marks the room as a direct chat (``is_direct``)."""
    for event in invite_state:
        if event.get("type") == "m.room.member" and event.get("state_key") == bot_user_id:
            return _content(event).get("is_direct") is True
    return False
