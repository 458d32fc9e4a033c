"""A loopback fake of Discord REST v10 + gateway v10 that the unmodified discord.py talks to.

Point discord.py at it with ``fake.redirect()`` (overrides ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` and restores them on ``stop()``). It keeps
server-side state a user would see (message text, edit counts, components, reactions, threads,
ephemeral replies) and reproduces the quirks in TESTING-NOTES §3: exact ``application/json``
content type, ``Via`` header and JSON body on 429, ``attachment_size_limit`` on interactions, and
blank ``content`` for guild messages that do not mention the bot when the message-content intent
was not sent in IDENTIFY.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import yarl
from aiohttp import WSMsgType, web

from tests.fakes.loopback import serve

log = logging.getLogger(__name__)

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


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py compares the header verbatim: "; charset=utf-8" would make it return text.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return _json({"message": message, "code": code, **extra}, status)


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts or time.time(), UTC).isoformat()


def _user(u: dict[str, Any]) -> dict[str, Any]:
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


class FakeDiscord:
    """Discord REST v10 + gateway v10 on 127.0.0.1, with scripted rate limits."""

    def __init__(self, *, token: str = TOKEN, content_intent_allowed: bool = True) -> None:
        self.token = token
        # False = the privileged intent is not enabled in the Developer Portal: an IDENTIFY
        # asking for it is closed with 4014, as Discord does.
        self.content_intent_allowed = content_intent_allowed
        # Snowflakes carry their creation time (ms since the Discord epoch, 2015) in bit 22+.
        self.ids = itertools.count((int(time.time() * 1000) - 1_420_070_400_000) << 22)
        self.channels: dict[str, dict[str, Any]] = {
            GENERAL_ID: self._text_channel(GENERAL_ID, "general", 0),
            LOCKED_ID: self._text_channel(LOCKED_ID, "locked", 1),
        }
        self.no_thread_channels: set[str] = {LOCKED_ID}
        self.threads: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, FakeMessage] = {}
        self.interactions: dict[str, InteractionRecord] = {}
        self.app_commands: list[dict[str, Any]] = []  # registered with PUT …/commands
        self.requests: list[tuple[str, str]] = []  # (method, path) of every REST call
        self.bodies: list[tuple[str, str, dict[str, Any]]] = []  # (method, path, JSON body)
        self.identify: list[dict[str, Any]] = []  # IDENTIFY payloads received
        self.resumes = 0  # RESUME (op 6) received
        self.close_codes: list[int | None] = []  # how each gateway session was closed
        self.edit_429: list[tuple[float, bool]] = []  # scripted (retry_after, via) for edits
        self.refuse_attachments = False  # True: messages with files get 413 (entity too large)
        self.rate_limited: int = 0  # 429s answered
        # Edits allowed per channel per window (limit, seconds), announced in X-RateLimit-*.
        self.edit_bucket: tuple[int, float] = (50, 1.0)
        self._edit_window: dict[str, collections.deque[float]] = {}
        self.heartbeat_interval_ms = 41_250
        self.heartbeats = 0  # op 1 received
        self.sessions: list[web.WebSocketResponse] = []
        self.port = 0
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._saved: tuple[Any, Any] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the fake (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeDiscord:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_get("/gw/", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner, self.port = await serve(app, handle_signals=False)
        return self

    def redirect(self) -> None:
        """Point discord.py's REST and gateway URLs at this fake (undone by ``stop``)."""
        import discord.gateway
        import discord.http

        self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = f"{self.url}/api/v10"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
            f"ws://127.0.0.1:{self.port}/gw/"
        )

    async def stop(self) -> None:
        """Close sessions, stop listening, restore discord.py's URLs."""
        for ws in list(self.sessions):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._saved is not None:
            import discord.gateway
            import discord.http

            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        self.redirect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- what a test does as a user --------------------------------------------------------

    def snowflake(self) -> str:
        """A fresh, increasing id."""
        return str(next(self.ids))

    def dm_channel(self, user: dict[str, Any]) -> str:
        """The DM channel between ``user`` and the bot (created on first use)."""
        for cid, ch in self.channels.items():
            if ch["type"] == 1 and ch["recipients"][0]["id"] == user["id"]:
                return cid
        cid = self.snowflake()
        self.channels[cid] = {"id": cid, "type": 1, "recipients": [_user(user)]}
        return cid

    async def user_message(
        self,
        channel_id: str,
        text: str,
        *,
        author: dict[str, Any] = ALICE,
        mention: bool = True,
    ) -> FakeMessage:
        """``author`` writes ``text`` (prefixed with a bot mention when ``mention``)."""
        content = f"<@{BOT_ID}> {text}" if mention else text
        msg = self._store(channel_id, author, content)
        if mention:
            msg.mentions = [_user(BOT_USER)]
        await self.dispatch("MESSAGE_CREATE", self._message_event(msg))
        return msg

    async def click(
        self, message_id: str, custom_id: str, *, user: dict[str, Any] = ALICE
    ) -> InteractionRecord:
        """``user`` presses the button ``custom_id`` on a message (INTERACTION_CREATE type 3)."""
        msg = self.messages[message_id]
        iid, token = self.snowflake(), secrets.token_urlsafe(16)
        record = InteractionRecord(iid, token, message_id, user["id"], time.monotonic())
        self.interactions[iid] = record
        await self._interact(
            iid,
            token,
            user,
            msg.channel_id,
            type=3,
            data={"custom_id": custom_id, "component_type": 2},
            message=self._message_payload(msg),
        )
        return record

    async def slash(
        self, channel_id: str, name: str, text: str, *, user: dict[str, Any] = ALICE
    ) -> InteractionRecord:
        """``user`` runs the registered command ``/name text`` (INTERACTION_CREATE type 2)."""
        command = next(c for c in self.app_commands if c["name"] == name)
        iid, token = self.snowflake(), secrets.token_urlsafe(16)
        record = InteractionRecord(
            iid, token, "", user["id"], time.monotonic(), channel_id=channel_id
        )
        self.interactions[iid] = record
        option = command["options"][0]["name"]
        await self._interact(
            iid,
            token,
            user,
            channel_id,
            type=2,
            data={
                "id": command["id"],
                "name": name,
                "type": 1,
                "options": [{"name": option, "type": 3, "value": text}],
            },
        )
        return record

    async def _interact(
        self,
        iid: str,
        token: str,
        user: dict[str, Any],
        channel_id: str,
        *,
        type: int,
        data: dict[str, Any],
        **extra: Any,
    ) -> None:
        """Dispatch INTERACTION_CREATE as Discord sends it, in a guild channel or a DM."""
        channel = self._channel_payload(channel_id)
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": APP_ID,
            "type": type,
            "data": data,
            "channel": channel,
            "channel_id": channel_id,
            **extra,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": "2248473465835073",
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID},
            "context": 0,
            "attachment_size_limit": 10_485_760,
        }
        if "guild_id" in channel:
            payload["guild_id"] = GUILD_ID
            payload["guild_locale"] = "en-US"
            payload["member"] = self._member(user)
        else:
            payload["user"] = _user(user)
            payload["context"] = 1
        await self.dispatch("INTERACTION_CREATE", payload)

    async def react(self, message_id: str, emoji: str, *, user: dict[str, Any] = ALICE) -> None:
        """``user`` adds the unicode ``emoji`` to a message (MESSAGE_REACTION_ADD)."""
        msg = self.messages[message_id]
        msg.reactions.append((user["id"], emoji))
        payload: dict[str, Any] = {
            "user_id": user["id"],
            "channel_id": msg.channel_id,
            "message_id": msg.id,
            "emoji": {"id": None, "name": emoji},
            "type": 0,
            "burst": False,
            "message_author_id": msg.author["id"],
        }
        if "guild_id" in self._channel_payload(msg.channel_id):
            payload["guild_id"] = GUILD_ID
            payload["member"] = self._member(user)
        await self.dispatch("MESSAGE_REACTION_ADD", payload)

    def messages_in(self, channel_id: str, *, by_bot: bool = True) -> list[FakeMessage]:
        """Messages in one channel (or thread), in order, by the bot unless ``by_bot=False``."""
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and (not by_bot or m.author["id"] == BOT_ID)
        ]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Poll ``predicate`` until it is truthy (bounded); returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout:.1f}s")
            await asyncio.sleep(0.01)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) to every identified gateway session."""
        frame = json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data})
        for ws in list(self.sessions):
            if not ws.closed:
                await ws.send_str(frame)

    async def drop_connections(self) -> None:
        """Close every gateway session (as a network blip would)."""
        for ws in list(self.sessions):
            await ws.close(code=4000)

    # -- payloads --------------------------------------------------------------------------

    @staticmethod
    def _text_channel(cid: str, name: str, position: int) -> dict[str, Any]:
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

    def _channel_payload(self, cid: str) -> dict[str, Any]:
        if cid in self.threads:
            return self.threads[cid]
        return self.channels[cid]

    def _guild_id_of(self, cid: str) -> str | None:
        return self._channel_payload(cid).get("guild_id")

    @staticmethod
    def _member(user: dict[str, Any]) -> dict[str, Any]:
        return {
            "user": _user(user),
            "roles": [],
            "joined_at": _iso(1_600_000_000),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": "2248473465835073",
        }

    def _guild(self) -> dict[str, Any]:
        channels = [dict(c) for c in self.channels.values() if c.get("guild_id") == GUILD_ID]
        for c in channels:
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
            "members": [self._member(BOT_USER)],
            "member_count": 1,
            "channels": channels,
            "threads": list(self.threads.values()),
            "presences": [],
            "voice_states": [],
            "large": False,
            "unavailable": False,
            "joined_at": _iso(1_600_000_000),
        }

    def _store(
        self,
        channel_id: str,
        author: dict[str, Any],
        content: str,
        *,
        components: list[dict[str, Any]] | None = None,
        reference: str | None = None,
    ) -> FakeMessage:
        msg = FakeMessage(
            self.snowflake(),
            channel_id,
            author,
            content,
            components=components or [],
            reference=reference,
            history=[content],
        )
        self.messages[msg.id] = msg
        return msg

    def _message_payload(self, msg: FakeMessage) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": msg.id,
            "channel_id": msg.channel_id,
            "author": _user(msg.author),
            "content": msg.content,
            "timestamp": _iso(),
            "edited_timestamp": _iso() if msg.edits else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": msg.mentions,
            "mention_roles": [],
            "attachments": [
                {
                    "id": f"{msg.id}{i}",
                    "filename": name,
                    "size": len(data),
                    "content_type": kind,
                    "url": f"https://cdn.discordapp.com/attachments/{msg.channel_id}/{name}",
                    "proxy_url": f"https://media.discordapp.net/attachments/{msg.channel_id}/{name}",
                }
                for i, (name, kind, data) in enumerate(msg.attachments)
            ],
            "embeds": [],
            "pinned": False,
            "type": 19 if msg.reference else 0,
            "flags": 0,
            "components": msg.components,
        }
        guild_id = self._guild_id_of(msg.channel_id)
        if guild_id:
            out["guild_id"] = guild_id
        if msg.reference:
            out["message_reference"] = {
                "type": 0,
                "message_id": msg.reference,
                "channel_id": msg.channel_id,
                **({"guild_id": guild_id} if guild_id else {}),
            }
        return out

    def _message_event(self, msg: FakeMessage) -> dict[str, Any]:
        data = self._message_payload(msg)
        if "guild_id" in data:
            member = self._member(msg.author)
            member.pop("user")
            data["member"] = member
            mentioned = any(m["id"] == BOT_ID for m in msg.mentions)
            if not self._has_content_intent() and not mentioned and msg.author["id"] != BOT_ID:
                # What Discord does without the privileged intent (TESTING-NOTES §3.3).
                data.update(content="", embeds=[], attachments=[], components=[])
        return data

    def _has_content_intent(self) -> bool:
        return bool(self.identify) and bool(
            self.identify[-1].get("intents", 0) & MESSAGE_CONTENT_INTENT
        )

    @property
    def content_intent(self) -> bool:
        """Whether the current session asked for the message content intent."""
        return self._has_content_intent()

    # -- gateway ---------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        hello = {"heartbeat_interval": self.heartbeat_interval_ms}
        await ws.send_str(json.dumps({"op": 10, "d": hello}))
        try:
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                msg = json.loads(frame.data)
                op = msg.get("op")
                if op == 1:
                    self.heartbeats += 1
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    await self._on_identify(ws, msg["d"])
                elif op == 6:
                    self.resumes += 1
                    if msg["d"].get("token") != self.token:
                        await ws.close(code=4004)
                        break
                    self.sessions.append(ws)
                    await ws.send_str(
                        json.dumps({"op": 0, "t": "RESUMED", "s": next(self._seq), "d": {}})
                    )
        finally:
            if ws in self.sessions:
                self.sessions.remove(ws)
            self.close_codes.append(ws.close_code)
        return ws

    async def _on_identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identify.append(data)
        if data.get("intents", 0) & MESSAGE_CONTENT_INTENT and not self.content_intent_allowed:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.sessions.append(ws)
        ready = {
            "v": 10,
            "user": {**_user(BOT_USER), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": GUILD_ID, "unavailable": True}],
            "session_id": secrets.token_hex(8),
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gw/",
            "application": {"id": APP_ID, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
        await self.dispatch("GUILD_CREATE", self._guild())

    # -- REST ------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        self.requests.append((request.method, path))
        if request.headers.get("Authorization") != f"Bot {self.token}" and not path.startswith(
            "/interactions/"
        ):
            return _error(401, 0, "401: Unauthorized")
        body: dict[str, Any] = {}
        files: list[tuple[str, str, bytes]] = []
        if request.content_type.startswith("multipart/"):
            # Attachments: ``payload_json`` plus ``files[n]`` parts, as discord.py sends them.
            form = await request.post()
            body = json.loads(str(form.get("payload_json") or "{}"))
            for name, part in form.items():
                if name.startswith("files[") and isinstance(part, web.FileField):
                    files.append((part.filename, part.content_type, part.file.read()))
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else {}
        self.bodies.append((request.method, path, body))
        parts = [unquote(p) for p in path.strip("/").split("/")]
        match (request.method, parts):
            case ("GET", ["users", "@me"]):
                return _json({**_user(BOT_USER), "verified": True, "flags": 0})
            case ("GET", ["oauth2", "applications", "@me"]):
                return _json(self._application())
            case ("POST", ["channels", cid, "messages"]):
                return await self._create_message(cid, body, files)
            case ("GET", ["channels", cid, "messages", mid]):
                msg = self.messages.get(mid)
                if msg is None or msg.channel_id != cid:
                    return _error(404, 10008, "Unknown Message")
                return _json(self._message_payload(msg))
            case ("PATCH", ["channels", cid, "messages", mid]):
                return await self._edit_message(cid, mid, body)
            case ("POST", ["channels", cid, "messages", mid, "threads"]):
                return await self._create_thread(cid, mid, body)
            case ("PUT", ["channels", cid, "messages", mid, "reactions", emoji, "@me"]):
                msg = self.messages.get(mid)
                if msg is None or msg.channel_id != cid:
                    return _error(404, 10008, "Unknown Message")
                msg.reactions.append((BOT_ID, emoji))
                return web.Response(status=204)
            case ("POST", ["interactions", iid, token, "callback"]):
                return self._interaction_callback(iid, token, body)
            case ("PUT", ["applications", app_id, "commands"]) if app_id == APP_ID:
                self.app_commands = [
                    {**c, "id": self.snowflake(), "application_id": APP_ID, "version": "1"}
                    for c in body  # type: ignore[union-attr]
                ]
                return _json(self.app_commands)
        return _error(404, 0, f"404: Not Found ({request.method} {path})")

    @staticmethod
    def _application() -> dict[str, Any]:
        return {
            "id": APP_ID,
            "name": "hearth",
            "description": "",
            "icon": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": _user(ALICE),
            "verify_key": "00",
            "flags": 0,
        }

    def _known_channel(self, cid: str) -> bool:
        return cid in self.channels or cid in self.threads

    async def _create_message(
        self, cid: str, body: dict[str, Any], files: list[tuple[str, str, bytes]] | None = None
    ) -> web.Response:
        if not self._known_channel(cid):
            return _error(404, 10003, "Unknown Channel")
        content = body.get("content") or ""
        if files and self.refuse_attachments:
            return _error(413, 40005, "Request entity too large")
        if len(content) > 2000:
            return _json(
                {
                    "message": "Invalid Form Body",
                    "code": 50035,
                    "errors": {
                        "content": {
                            "_errors": [
                                {
                                    "code": "BASE_TYPE_MAX_LENGTH",
                                    "message": "Must be 2000 or fewer in length.",
                                }
                            ]
                        }
                    },
                },
                400,
            )
        ref = (body.get("message_reference") or {}).get("message_id")
        msg = self._store(
            cid,
            BOT_USER,
            content,
            components=body.get("components") or [],
            reference=str(ref) if ref else None,
        )
        msg.attachments = list(files or [])
        # Discord echoes the bot's own messages on the gateway; the bot must ignore them.
        await self.dispatch("MESSAGE_CREATE", self._message_event(msg))
        return _json(self._message_payload(msg))

    async def _edit_message(self, cid: str, mid: str, body: dict[str, Any]) -> web.Response:
        msg = self.messages.get(mid)
        if msg is None or msg.channel_id != cid:
            return _error(404, 10008, "Unknown Message")
        if msg.author["id"] != BOT_ID:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        if self.edit_429:
            retry_after, via = self.edit_429.pop(0)
            return self._too_many(retry_after, via=via)
        window = self._edit_window.setdefault(cid, collections.deque())
        now = time.monotonic()
        limit, per = self.edit_bucket
        while window and window[0] <= now - per:
            window.popleft()
        if len(window) >= limit:
            return self._too_many(window[0] + per - now, via=True)
        window.append(now)
        reset_after = window[0] + per - now
        bucket_headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit - len(window)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": "fake-edit-bucket",
        }
        if "content" in body:
            content = body["content"] or ""
            if len(content) > 2000:
                return _error(400, 50035, "Invalid Form Body")
            msg.content = content
            msg.history.append(content)
        if "components" in body:
            msg.components = body["components"] or []
        msg.edits += 1
        data = self._message_payload(msg)
        await self.dispatch("MESSAGE_UPDATE", data)
        return _json(data, headers=bucket_headers)

    def _too_many(self, retry_after: float, *, via: bool) -> web.Response:
        """A 429 in Discord's shape; without ``Via`` discord.py treats it as a Cloudflare ban."""
        self.rate_limited += 1
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Limit": str(self.edit_bucket[0]),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": "fake-edit-bucket",
            "X-RateLimit-Scope": "user",
        }
        if via:
            headers["Via"] = "1.1 google"
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        return _json({**body, "global": False}, 429, headers)

    async def _create_thread(self, cid: str, mid: str, body: dict[str, Any]) -> web.Response:
        if cid not in self.channels:
            return _error(404, 10003, "Unknown Channel")
        if cid in self.no_thread_channels:
            return _error(403, 50013, "Missing Permissions")
        if mid not in self.messages:
            return _error(404, 10008, "Unknown Message")
        if mid in self.threads:
            return _error(400, 160004, "A thread has already been created for this message")
        thread = {
            "id": mid,  # Discord gives a thread started from a message the message's id
            "type": 11,
            "guild_id": GUILD_ID,
            "parent_id": cid,
            "owner_id": BOT_ID,
            "name": body.get("name") or "thread",
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration") or 1440,
                "archive_timestamp": _iso(),
                "locked": False,
            },
        }
        self.threads[mid] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return _json(thread, 201)

    def _interaction_callback(self, iid: str, token: str, body: dict[str, Any]) -> web.Response:
        record = self.interactions.get(iid)
        if record is None or record.token != token:
            return _error(404, 10062, "Unknown interaction")
        if time.monotonic() - record.created > 3.0:
            return _error(404, 10062, "Unknown interaction")  # the 3 s window has passed
        if record.callbacks:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        record.callbacks.append(body)
        kind = body.get("type")
        data = body.get("data") or {}
        resource: dict[str, Any] = {"type": kind}
        if kind == 7:
            msg = self.messages[record.message_id]
            if "content" in data:
                msg.content = data["content"]
                msg.history.append(msg.content)
                msg.edits += 1
            if "components" in data:
                msg.components = data["components"] or []
            resource["message"] = self._message_payload(msg)
        elif kind == 4 and not record.message_id:  # an application command's visible answer
            msg = self._store(record.channel_id, BOT_USER, data.get("content", ""))
            record.response_id = msg.id
            resource["message"] = self._message_payload(msg)
        elif kind == 4:
            msg = self._store(self.messages[record.message_id].channel_id, BOT_USER, "")
            msg.content = data.get("content", "")
            resource["message"] = self._message_payload(msg)
            del self.messages[msg.id]  # ephemeral: only the clicking user sees it
        return _json(
            {
                "interaction": {
                    "id": iid,
                    "type": 3,
                    "response_message_loading": False,
                    **({"response_message_id": record.response_id} if record.response_id else {}),
                    "response_message_ephemeral": bool(data.get("flags", 0) & 64),
                },
                "resource": resource,
            }
        )

    def ephemeral_replies(self, interaction: InteractionRecord) -> list[str]:
        """Texts the clicking user alone saw in answer to ``interaction``."""
        return [
            (cb.get("data") or {}).get("content", "")
            for cb in interaction.callbacks
            if cb.get("type") == 4 and (cb.get("data") or {}).get("flags", 0) & 64
        ]
