"""SlackAdapter: slack-bolt in Socket Mode or HTTP Events mode, behind core.ports.ChatAdapter."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from core.errors import PlatformError, RateLimited
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, Event, MessageRef
from core.ports import Capabilities, EventSink

from . import translate
from .mrkdwn import to_mrkdwn

log = logging.getLogger(__name__)

# Slack: ~1 message/s/channel for posts, chat.update is Tier 3 (50+/min); a section holds 3000
# characters, so streamed frames stay well under the 4000 Slack recommends for `text`.
DEFAULT_CAPABILITIES = Capabilities(
    max_message_chars=3000, min_edit_interval=1.2, buttons=True, threads=True, reactions=True
)
EVENTS_PATH = "/slack/events"
_ONE_SHOT_RETRIES = 3  # post/react/approval prompts: retried on 429, never lost
_MAX_ONE_SHOT_WAIT = 30.0  # a longer Retry-After is handed to the caller as RateLimited
_SHARE_CHECKS = 3  # files.info asks while an uploaded file's share message is not there yet
_SHARE_WAIT = 0.2  # seconds before the first ask, growing linearly
_REMEMBERED = 5000  # bounded memory of thread ids and open prompts


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
        base_url = api_url or AsyncWebClient.BASE_URL
        # slack_sdk joins method names onto base_url; without the slash "…/api" + "chat.update"
        # silently becomes "…/chat.update".
        self._client = AsyncWebClient(
            token=bot_token, base_url=base_url if base_url.endswith("/") else base_url + "/"
        )
        self._sink: EventSink | None = None
        self._bot_user_id: str | None = None
        self._handler: AsyncSocketModeHandler | None = None
        self._http_up = False
        self._ready = asyncio.Event()
        self._bound_port: int | None = None
        # thread ts per message ts we posted (so a Reaction's target equals the posted ref),
        # threads the core cares about (replies there are forwarded), open approval prompts.
        self._posted: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._threads: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._prompts: OrderedDict[tuple[str, str], ApprovalRequest] = OrderedDict()
        # Slack redelivers an event (same event_id) when our ack was late; the dispatcher's
        # persisted events_seen is the durable guard, this one keeps retries off the sink.
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

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
        auth = await self._call("auth.test", self._client.auth_test())
        self._bot_user_id = auth.get("user_id")
        app = self._build_app()
        self._sink = sink
        try:
            if self._app_token:
                await self._run_socket_mode(app, self._app_token)
            else:
                await self._run_http(app)
        finally:
            self._ready.clear()
            self._sink = None

    async def _run_socket_mode(self, app: AsyncApp, app_token: str) -> None:
        # The SDK's connect() retries a failing apps.connections.open forever, logging each
        # time; asking for the first URL here turns a bad app token into one clear error.
        opened = await self._call(
            "apps.connections.open", self._client.apps_connections_open(app_token=app_token)
        )
        handler = AsyncSocketModeHandler(app, app_token, web_client=self._client)
        handler.client.wss_uri = str(opened["url"])
        self._handler = handler
        try:
            await handler.connect_async()
            log.info("slack: connected in Socket Mode as %s", self._bot_user_id)
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

    def _build_app(self) -> AsyncApp:
        if self._app_token:
            # Socket Mode requests are not signed; an explicit "" also stops bolt from falling
            # back to SLACK_SIGNING_SECRET in the environment (only bot/config.py reads it).
            app = AsyncApp(
                client=self._client, signing_secret="", request_verification_enabled=False
            )
        else:
            app = AsyncApp(client=self._client, signing_secret=self._signing_secret or "")

        async def on_message(body: dict[str, Any]) -> None:
            await self._on_message(body)

        async def on_reaction(body: dict[str, Any]) -> None:
            key = _item_key(body)
            thread = self._posted.get(key) if key else None
            event = translate.reaction(body, bot_user_id=self._bot_user_id, thread_id=thread)
            if event is not None and not self._redelivered(event.event_id):
                await self._deliver(event)

        async def on_action(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
            await ack()  # within Slack's 3 s, before anything else
            response = translate.approval_response(body)
            if response is None:
                log.warning("slack: ignoring an unknown button payload %r", body.get("actions"))
                return
            await self._deliver(response)

        app.event("app_mention")(on_message)
        app.event("message")(on_message)
        app.event("reaction_added")(on_reaction)
        app.action(re.compile(r"^appr:"))(on_action)

        async def on_command(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
            await ack()  # Slack's 3 s window: acknowledge first, answer in a thread after
            await self._on_slash(body)

        app.command(translate.SLASH_COMMAND)(on_command)
        return app

    async def _on_slash(self, body: dict[str, Any]) -> None:
        parsed = translate.slash_command(body)
        if parsed is None:
            return
        channel, user, text, trigger = parsed
        if self._redelivered(f"cmd:{trigger}" if trigger else ""):
            return
        # A slash command has no message of its own: the answer's thread hangs off a root
        # message that shows who asked what.
        shown = f"**{user.display_name or user.id}** asked: `{translate.SLASH_COMMAND} {text}`"
        try:
            root = await self.post(ChatRef(translate.PLATFORM, channel), shown)
        except PlatformError:
            log.exception("slack: could not post the root of a /hearth thread in %s", channel)
            return
        _remember(self._threads, (channel, root.message_id), None)
        await self._deliver(translate.slash_message(channel, user, text, root.message_id, trigger))

    async def _on_message(self, body: dict[str, Any]) -> None:
        message = translate.incoming_message(body, bot_user_id=self._bot_user_id)
        if message is None or self._redelivered(message.event_id):
            return
        chat = message.ref.chat
        thread_key = (chat.channel_id, chat.thread_id or "")
        # Plain thread replies are only forwarded from threads hearth is part of, so channel
        # chatter never reaches the core.
        plain_reply = message.in_thread and not (message.mentions_bot or message.is_direct)
        if plain_reply and thread_key not in self._threads:
            return
        _remember(self._threads, thread_key, None)
        await self._deliver(message)

    def _redelivered(self, event_id: str) -> bool:
        if not event_id:
            return False
        key = ("event", event_id)
        if key in self._seen:
            log.info("slack: dropping redelivered event %s", event_id)
            return True
        _remember(self._seen, key, None)
        return False

    async def _deliver(self, event: Event | None) -> None:
        sink = self._sink
        if event is None or sink is None:
            return
        try:
            await sink(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("slack: the event sink failed on %s", type(event).__name__)

    # ------------------------------------------------------------ outbound

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """``chat.postMessage`` in the chat's thread, text rendered as mrkdwn."""
        resp = await self._one_shot(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=chat.channel_id,
                thread_ts=chat.thread_id,
                text=to_mrkdwn(text),
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        return self._posted_ref(chat, resp)

    async def edit(self, ref: MessageRef, text: str) -> None:
        """``chat.update``; a 429 raises ``RateLimited`` at once so the renderer sets the pace."""
        await self._call(
            "chat.update",
            self._client.chat_update(
                channel=ref.chat.channel_id, ts=ref.message_id, text=to_mrkdwn(text)
            ),
        )

    async def react(self, ref: MessageRef, key: str) -> None:
        """``reactions.add``; reacting twice with the same emoji is not an error."""
        name = translate.reaction_name(key)
        try:
            await self._one_shot(
                "reactions.add",
                lambda: self._client.reactions_add(
                    channel=ref.chat.channel_id, timestamp=ref.message_id, name=name
                ),
            )
        except PlatformError as e:
            if "already_reacted" not in str(e):
                raise

    async def open_direct(self, user_id: str) -> ChatRef:
        """The DM with ``user_id`` (``conversations.open``), e.g. to tell an admin something."""
        resp = await self._one_shot(
            "conversations.open", lambda: self._client.conversations_open(users=user_id)
        )
        channel = resp.get("channel") or {}
        return ChatRef(self.platform, str(channel.get("id") or ""))

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Post the Block Kit prompt: command in a code block, cwd, task, requester, buttons."""
        text, blocks = translate.approval_prompt(request)
        resp = await self._one_shot(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=chat.channel_id, thread_ts=chat.thread_id, text=text, blocks=blocks
            ),
        )
        ref = self._posted_ref(chat, resp)
        _remember(self._prompts, (chat.channel_id, ref.message_id), request)
        return ref

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Rewrite the prompt without buttons, showing who decided and when (or the expiry)."""
        key = (prompt.chat.channel_id, prompt.message_id)
        request = self._prompts.pop(key, None)
        text, blocks = translate.closed_prompt(request, outcome)
        await self._one_shot(
            "chat.update",
            lambda: self._client.chat_update(
                channel=prompt.chat.channel_id, ts=prompt.message_id, text=text, blocks=blocks
            ),
        )

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """An image is a file to Slack: ``post_file``, its type guessed from the name."""
        return await self.post_file(chat, data, filename, caption, "")

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """``files_upload_v2`` into the chat (its thread if any), the caption as its comment.

        Slack types the file by its name (``mime`` is not part of the API). The returned ref is
        the message sharing the file; when Slack has not shared it yet, ``files.info`` is asked
        (a few times) so what is posted next lands below the file.
        """
        resp = await self._one_shot(
            "files.completeUploadExternal",
            lambda: self._client.files_upload_v2(
                channel=chat.channel_id,
                thread_ts=chat.thread_id,
                file=data,
                filename=filename,
                title=filename,
                initial_comment=to_mrkdwn(caption),
            ),
        )
        file = resp.get("file") or {}
        file_id = str(file.get("id") or "")
        for attempt in range(_SHARE_CHECKS):
            ts = _share_ts(file, chat.channel_id)
            if ts or not file_id:
                break
            await asyncio.sleep(_SHARE_WAIT * (attempt + 1))
            try:
                info = await self._one_shot(
                    "files.info", lambda: self._client.files_info(file=file_id)
                )
            except PlatformError as exc:  # e.g. an app installed without files:read
                log.info("slack: cannot see whether file %s is shared yet: %s", file_id, exc)
                break
            file = info.get("file") or {}
        ts = _share_ts(file, chat.channel_id)
        if ts:
            return MessageRef(chat, ts)
        log.info("slack: file %s is not shared in %s yet", file_id, chat.channel_id)
        return MessageRef(chat, file_id)

    # ------------------------------------------------------------ plumbing

    def _posted_ref(self, chat: ChatRef, resp: AsyncSlackResponse) -> MessageRef:
        ts = str(resp.get("ts") or "")
        if not ts:
            raise PlatformError("slack chat.postMessage: no ts in the response")
        _remember(self._posted, (chat.channel_id, ts), chat.thread_id)
        if chat.thread_id:
            _remember(self._threads, (chat.channel_id, chat.thread_id), None)
        return MessageRef(chat, ts)

    async def _one_shot(
        self, method: str, call: Callable[[], Awaitable[AsyncSlackResponse]]
    ) -> AsyncSlackResponse:
        for attempt in range(_ONE_SHOT_RETRIES + 1):
            try:
                return await self._call(method, call())
            except RateLimited as e:
                if attempt == _ONE_SHOT_RETRIES or e.retry_after > _MAX_ONE_SHOT_WAIT:
                    raise
                log.info("slack %s: rate limited, retrying in %.1fs", method, e.retry_after)
                await asyncio.sleep(e.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(self, method: str, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
        """Await one Web API call, translating SDK errors into ``core.errors``."""
        try:
            return await call
        except SlackApiError as e:
            resp = e.response
            raise translate.api_error(
                method, resp.status_code, str(resp.get("error") or ""), resp.headers or {}
            ) from e
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as e:
            raise PlatformError(f"slack {method}: {type(e).__name__}: {e}") from e


def _share_ts(file: dict[str, Any], channel: str) -> str:
    """The ts of the message that shares ``file`` in ``channel`` ("" while not shared)."""
    for scope in ("public", "private"):
        for share in ((file.get("shares") or {}).get(scope) or {}).get(channel, []):
            if share.get("ts"):
                return str(share["ts"])
    return ""


def _item_key(body: dict[str, Any]) -> tuple[str, str] | None:
    item = (body.get("event") or {}).get("item") or {}
    channel, ts = item.get("channel"), item.get("ts")
    return (channel, ts) if isinstance(channel, str) and isinstance(ts, str) else None


def _remember(store: OrderedDict[tuple[str, str], Any], key: tuple[str, str], value: Any) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > _REMEMBERED:
        store.popitem(last=False)
