"""SlackAdapter: slack-bolt in Socket Mode or HTTP Events mode, behind core.ports.ChatAdapter.

inbound (bolt listeners to core events) · outbound (posts, edits, prompts, files) · webapi
(error translation, one-shot retries) · recent (bounded memory) · translate, mrkdwn (pure).
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, MessageRef
from core.ports import Capabilities, EventSink

from .inbound import Inbound
from .outbound import Outbound
from .recent import Recent
from .webapi import call, web_client

log = logging.getLogger(__name__)

# Slack: ~1 message/s/channel for posts, chat.update is Tier 3 (50+/min); a section holds 3000
# characters, so streamed frames stay well under the 4000 Slack recommends for `text`.
DEFAULT_CAPABILITIES = Capabilities(
    max_message_chars=3000, min_edit_interval=1.2, buttons=True, threads=True, reactions=True
)
EVENTS_PATH = "/slack/events"


class SlackAdapter:
    """Slack through slack-bolt: mentions, DMs and thread replies in; posts, edits, buttons out.

    Socket Mode (``app_token``) is the default and needs no public URL; without an app token
    the bolt app is served over HTTP on ``http_addr`` and every request's v0 signature is
    checked with ``signing_secret``. The same listeners run either way; each one acks first
    (bolt acks events before running listeners) and only hands a ``core.events`` value to the
    sink. Streaming edits are never retried here: ``edit`` raises ``RateLimited`` so the
    renderer paces itself. One-shot posts (answers, notices, prompts, reactions) are retried
    on 429 after ``Retry-After`` so nothing is lost.
    """

    platform = "slack"

    def __init__(
        self,
        *,
        bot_token: str,
        app_token: str | None = None,
        signing_secret: str | None = None,
        api_url: str | None = None,
        http_addr: str = "127.0.0.1:3000",
        capabilities: Capabilities | None = None,
    ) -> None:
        if not app_token and not signing_secret:
            raise ValueError("SlackAdapter needs app_token (Socket Mode) or signing_secret (HTTP)")
        self.capabilities = capabilities or DEFAULT_CAPABILITIES
        self._app_token = app_token
        self._signing_secret = signing_secret
        self._http_addr = http_addr
        self._client = web_client(bot_token, api_url)
        self._handler: AsyncSocketModeHandler | None = None
        self._http_up = False
        self._ready = asyncio.Event()
        self._bound_port: int | None = None
        recent = Recent()
        self._outbound = Outbound(self._client, recent)
        self._inbound = Inbound(recent, self._outbound)

    # ------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        """True while the websocket (Socket Mode) or the HTTP listener is up."""
        if self._handler is not None:
            client = self._handler.client
            session = client.current_session
            return not client.closed and session is not None and not session.closed
        return self._http_up

    @property
    def bound_port(self) -> int | None:
        """The port HTTP Events mode listens on (useful with port 0), once running."""
        return self._bound_port

    async def wait_ready(self) -> None:
        """Wait until ``run`` has connected (Socket Mode) or is listening (HTTP mode)."""
        await self._ready.wait()

    async def run(self, sink: EventSink) -> None:
        """Connect, deliver events to ``sink`` until cancelled, then close everything.

        Raises ``PlatformError`` when the bot token is rejected, so the app's supervisor logs
        it and retries with backoff. Socket Mode reconnects on its own after connection loss.
        """
        # One pooled HTTP session for every Web API call while running: without it slack_sdk
        # opens (and on real Slack, TLS-handshakes) a new connection per call.
        session = aiohttp.ClientSession()
        self._client.session = session
        try:
            await self._run(sink)
        finally:
            self._client.session = None
            await session.close()

    async def _run(self, sink: EventSink) -> None:
        auth = await call("auth.test", self._client.auth_test())
        self._inbound.bot_user_id = auth.get("user_id")
        app = self._inbound.build_app(
            self._client, app_token=self._app_token, signing_secret=self._signing_secret
        )
        self._inbound.sink = sink
        try:
            if self._app_token:
                await self._run_socket_mode(app, self._app_token)
            else:
                await self._run_http(app)
        finally:
            self._ready.clear()
            self._inbound.sink = None

    async def _run_socket_mode(self, app: AsyncApp, app_token: str) -> None:
        # The SDK's connect() retries a failing apps.connections.open forever, logging each
        # time; asking for the first URL here turns a bad app token into one clear error.
        opened = await call(
            "apps.connections.open", self._client.apps_connections_open(app_token=app_token)
        )
        handler = AsyncSocketModeHandler(app, app_token, web_client=self._client)
        handler.client.wss_uri = str(opened["url"])
        self._handler = handler
        try:
            await handler.connect_async()
            log.info("slack: connected in Socket Mode as %s", self._inbound.bot_user_id)
            self._ready.set()
            await asyncio.Event().wait()  # the SDK's own tasks receive; we wait to be cancelled
        finally:
            self._handler = None
            await handler.close_async()

    async def _run_http(self, app: AsyncApp) -> None:
        host, _, port = self._http_addr.rpartition(":")
        runner = web.AppRunner(app.web_app(path=EVENTS_PATH), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port))
            await site.start()
            self._bound_port = int(runner.addresses[0][1])
            self._http_up = True
            log.info("slack: HTTP Events mode on %s:%s%s", host, self._bound_port, EVENTS_PATH)
            self._ready.set()
            await asyncio.Event().wait()
        finally:
            self._http_up = False
            await runner.cleanup()

    # ------------------------------------------------------------ outbound (outbound.py)

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """``chat.postMessage`` in the chat's thread, text rendered as mrkdwn."""
        return await self._outbound.post(chat, text)

    async def edit(self, ref: MessageRef, text: str) -> None:
        """``chat.update``; a 429 raises ``RateLimited`` at once so the renderer sets the pace."""
        await self._outbound.edit(ref, text)

    async def react(self, ref: MessageRef, key: str) -> None:
        """``reactions.add``; reacting twice with the same emoji is not an error."""
        await self._outbound.react(ref, key)

    async def open_direct(self, user_id: str) -> ChatRef:
        """The DM with ``user_id`` (``conversations.open``), e.g. to tell an admin something."""
        return await self._outbound.open_direct(user_id)

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Post the Block Kit prompt: command in a code block, cwd, task, requester, buttons."""
        return await self._outbound.ask_approval(chat, request)

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Rewrite the prompt without buttons, showing who decided and when (or the expiry)."""
        await self._outbound.close_approval(prompt, outcome)

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """An image is a file to Slack: ``post_file``, its type guessed from the name."""
        return await self.post_file(chat, data, filename, caption, "")

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """``files_upload_v2`` into the chat (its thread if any), the caption as its comment.

        Slack types the file by its name (``mime`` is not part of the API); see
        ``Outbound.post_file`` for which message the returned ref is.
        """
        return await self._outbound.post_file(chat, data, filename, caption)
