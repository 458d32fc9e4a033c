"""FakeSlack: the server's state, lifecycle, scripting and queries; Web API, delivery and
payload builders are its mixins."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from aiohttp import web

from tests.fakes.loopback import serve
from tests.fakes.slack.delivery import Delivery
from tests.fakes.slack.payloads import Payloads
from tests.fakes.slack.records import (
    ApiCall,
    SlackFile,
    SlackMessage,
)
from tests.fakes.slack.webapi import WebApi


class FakeSlack(WebApi, Delivery, Payloads):
    """Loopback Slack Web API + Socket Mode server; use ``async with FakeSlack() as fake``."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-fake-bot",
        app_token: str = "xapp-fake-app",
        signing_secret: str = "fake-signing-secret",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.calls: list[ApiCall] = []
        self.called = asyncio.Event()  # set on every Web API call (clear it, then wait)
        self.messages: dict[str, SlackMessage] = {}
        self.acks: dict[str, dict[str, Any]] = {}
        self.socket_connections = 0
        self.api_connections: set[object] = set()  # client (host, port) pairs seen by the Web API
        self.files: dict[str, SlackFile] = {}  # files.getUploadURLExternal → upload → complete
        # Real Slack may share a completed file a moment later: the complete answer and this
        # many files.info answers carry no shares yet.
        self.share_delay = 0
        self._rate_limits: dict[str, list[float]] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._ws: web.WebSocketResponse | None = None
        self._ws_ready = asyncio.Event()
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on 127.0.0.1 with a free port."""
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk GETs files.info
        app.router.add_get("/link", self._socket)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner, self.port = await serve(app, access_log=None)

    async def stop(self) -> None:
        """Close the websocket and the server."""
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """Web API base URL for ``AsyncWebClient(base_url=…)`` (ends with a slash)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def rate_limit(self, method: str, times: int = 1, retry_after: float = 0) -> None:
        """The next ``times`` calls of ``method`` answer 429 with ``Retry-After``."""
        self._rate_limits.setdefault(method, []).extend([retry_after] * times)

    def calls_of(self, method: str, *, ok_only: bool = False) -> list[ApiCall]:
        """Recorded calls of one method (optionally only the ones answered 200)."""
        return [c for c in self.calls if c.method == method and (not ok_only or c.status == 200)]

    def in_thread(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        """Messages the bot posted into one thread, oldest first."""
        return [
            m
            for m in self.messages.values()
            if m.channel == channel and m.thread_ts == thread_ts and m.user == self.bot_user_id
        ]
