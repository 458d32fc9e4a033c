"""FakeDiscord: the server's state and lifecycle; REST, gateway and users are its mixins."""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import Callable
from typing import Any

import yarl
from aiohttp import web

from tests.fakes.discord.gateway import Gateway
from tests.fakes.discord.payloads import (
    BOT_ID,
    GENERAL_ID,
    LOCKED_ID,
    TOKEN,
    FakeMessage,
    InteractionRecord,
    guild,
    iso,
    text_channel,
    user_payload,
)
from tests.fakes.discord.rest import Rest
from tests.fakes.discord.users import Users
from tests.fakes.loopback import serve


class FakeDiscord(Users, Gateway, Rest):
    """Discord REST v10 + gateway v10 on 127.0.0.1, with scripted rate limits."""

    def __init__(self, *, token: str = TOKEN, content_intent_allowed: bool = True) -> None:
        self.token = token
        # False = the privileged intent is not enabled in the Developer Portal: an IDENTIFY
        # asking for it is closed with 4014, as Discord does.
        self.content_intent_allowed = content_intent_allowed
        # Snowflakes carry their creation time (ms since the Discord epoch, 2015) in bit 22+.
        self.ids = itertools.count((int(time.time() * 1000) - 1_420_070_400_000) << 22)
        self.channels: dict[str, dict[str, Any]] = {
            GENERAL_ID: text_channel(GENERAL_ID, "general", 0),
            LOCKED_ID: text_channel(LOCKED_ID, "locked", 1),
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

    def snowflake(self) -> str:
        """A fresh, increasing id."""
        return str(next(self.ids))

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

    def _channel_payload(self, cid: str) -> dict[str, Any]:
        if cid in self.threads:
            return self.threads[cid]
        return self.channels[cid]

    def _guild_id_of(self, cid: str) -> str | None:
        return self._channel_payload(cid).get("guild_id")

    def _guild(self) -> dict[str, Any]:
        return guild(self.channels, self.threads)

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
            "author": user_payload(msg.author),
            "content": msg.content,
            "timestamp": iso(),
            "edited_timestamp": iso() if msg.edits else None,
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
