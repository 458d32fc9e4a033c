"""Discord's objects as the fake serves them: ids, users, channels, guild, messages, responses."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

MESSAGE_CONTENT_INTENT = 1 << 15
TOKEN = "test-token"
BOT_ID = "1100000000000000001"
APP_ID = "1100000000000000002"
GUILD_ID = "1100000000000000010"
GENERAL_ID = "1100000000000000020"  # a text channel where the bot may create threads
LOCKED_ID = "1100000000000000021"  # a text channel where thread creation is forbidden
ALICE = {"id": "1100000000000000101", "username": "alice", "global_name": "Alice"}
BOB = {"id": "1100000000000000102", "username": "bob", "global_name": "Bob"}
OTHER_BOT = {"id": "1100000000000000103", "username": "otherbot", "global_name": None, "bot": True}
BOT_USER = {"id": BOT_ID, "username": "hearth", "global_name": None, "bot": True}


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response with the exact content type discord.py expects."""
    # discord.py compares the header verbatim: "; charset=utf-8" would make it return text.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error_response(status: int, code: int, message: str, **extra: Any) -> web.Response:
    """A Discord error body: message and JSON error code."""
    return json_response({"message": message, "code": code, **extra}, status)


def iso(ts: float | None = None) -> str:
    """An ISO timestamp (now when ``ts`` is None)."""
    return datetime.fromtimestamp(ts or time.time(), UTC).isoformat()


def user_payload(u: dict[str, Any]) -> dict[str, Any]:
    """A user object."""
    return {
        "id": u["id"],
        "username": u["username"],
        "global_name": u.get("global_name"),
        "discriminator": "0",
        "avatar": None,
        "bot": u.get("bot", False),
    }


@dataclass
class FakeMessage:
    """A message as Discord stores it."""

    id: str
    channel_id: str
    author: dict[str, Any]
    content: str
    components: list[dict[str, Any]] = field(default_factory=list)
    reference: str | None = None  # id of the message this one replies to
    edits: int = 0
    history: list[str] = field(default_factory=list)  # every content it ever had
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (user id, emoji)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    # (filename, content type, bytes) of files sent as multipart attachments
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)

    @property
    def has_buttons(self) -> bool:
        """True while the message carries components."""
        return bool(self.components)

    def custom_ids(self) -> list[str]:
        """custom_id of every button on the message."""
        return [c["custom_id"] for row in self.components for c in row.get("components", [])]


@dataclass
class InteractionRecord:
    """A component interaction the fake sent, and the bot's callback(s) to it."""

    id: str
    token: str
    message_id: str
    user_id: str
    created: float
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    channel_id: str = ""  # where an application command was used
    response_id: str = ""  # the message an application command's response created


def text_channel(cid: str, name: str, position: int) -> dict[str, Any]:
    """A guild text channel."""
    return {
        "id": cid,
        "type": 0,
        "guild_id": GUILD_ID,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "default_auto_archive_duration": 1440,
    }


def member_payload(user: dict[str, Any]) -> dict[str, Any]:
    """A guild member object for ``user``."""
    return {
        "user": user_payload(user),
        "roles": [],
        "joined_at": iso(1_600_000_000),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": "2248473465835073",
    }


def application() -> dict[str, Any]:
    """The bot's application."""
    return {
        "id": APP_ID,
        "name": "hearth",
        "description": "",
        "icon": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "owner": user_payload(ALICE),
        "verify_key": "00",
        "flags": 0,
    }


def guild(
    channels: dict[str, dict[str, Any]], threads: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """GUILD_CREATE's guild: its text channels, threads and the bot as its one member."""
    listed = [dict(c) for c in channels.values() if c.get("guild_id") == GUILD_ID]
    for c in listed:
        c.pop("guild_id", None)
    return {
        "id": GUILD_ID,
        "name": "Test Guild",
        "icon": None,
        "owner_id": ALICE["id"],
        "afk_channel_id": None,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "premium_tier": 0,
        "system_channel_flags": 0,
        "nsfw_level": 0,
        "preferred_locale": "en-US",
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": [
            {
                "id": GUILD_ID,
                "name": "@everyone",
                "permissions": "2248473465835073",
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "members": [member_payload(BOT_USER)],
        "member_count": 1,
        "channels": listed,
        "threads": list(threads.values()),
        "presences": [],
        "voice_states": [],
        "large": False,
        "unavailable": False,
        "joined_at": iso(1_600_000_000),
    }
