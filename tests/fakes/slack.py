"""FakeSlack: a loopback aiohttp fake of Slack's Web API and Socket Mode, for the real SDKs.

The unmodified ``slack_sdk.AsyncWebClient(base_url=fake.base_url)`` and bolt's
``AsyncSocketModeHandler`` talk to it. Served:

- ``POST /api/{method}`` (JSON or form bodies, ``Authorization: Bearer``): ``auth.test``,
  ``chat.postMessage`` (keeps message state, ``msg_too_long`` over 40 000 chars),
  ``chat.update`` (``message_not_found``, ``cant_update_message``), ``reactions.add``
  (``already_reacted``), ``conversations.open`` (one user: DM channel ``D<user>``),
  ``apps.connections.open`` (needs the ``xapp-`` token),
  ``files.getUploadURLExternal`` + ``POST /upload/{id}`` + ``files.completeUploadExternal``
  (what ``files_upload_v2`` does; the file lands in ``files`` and its message), ``files.info``
  (``share_delay`` hides a completed file's share for that many answers); any other
  method answers ``unknown_method``. ``rate_limit(method, times, retry_after)`` makes the next
  calls answer HTTP 429 ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After``.
- ``GET /link``: the Socket Mode websocket: ``hello`` on connect, envelopes pushed with
  ``send_envelope``, acks recorded in ``acks``.

Inbound HTTP Events are sent to the app with ``post_signed`` (real v0 signatures, like Slack);
payload builders (``mention``, ``dm``, ``thread_reply``, ``reaction_added``, ``button_click``)
produce the documented shapes with unique event ids.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.loopback import serve

TEAM_ID = "T0FAKE"
APP_ID = "A0FAKE"


@dataclass
class SlackMessage:
    """A message as the fake server stores it."""

    channel: str
    ts: str
    text: str
    user: str
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    bot_id: str | None = None
    edits: int = 0
    history: list[str] = field(default_factory=list)  # every text it ever had, in order
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (name, user)
    files: list[str] = field(default_factory=list)  # ids of files shared in this message

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Every button element currently in the message's blocks."""
        return [
            element
            for block in self.blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("type") == "button"
        ]

    @property
    def block_text(self) -> str:
        """All section / context text of the blocks, joined by newlines."""
        out = []
        for block in self.blocks:
            if isinstance(block.get("text"), dict):
                out.append(block["text"].get("text", ""))
            for element in block.get("elements", []):
                if element.get("type") == "mrkdwn":
                    out.append(element.get("text", ""))
        return "\n".join(out)


@dataclass
class SlackFile:
    """A file uploaded the files_upload_v2 way (URL, bytes, then completed into a channel)."""

    id: str
    filename: str
    length: int
    data: bytes = b""
    title: str = ""
    channel: str | None = None
    thread_ts: str | None = None
    message_ts: str | None = None  # the message that shares it, once completed
    hidden_shares: int = 0  # files.info answers still to give without the share


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as received."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when it arrived
    status: int  # HTTP status answered


class FakeSlack:
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

    # ------------------------------------------------------------ lifecycle

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

    # ------------------------------------------------------------ scripting and queries

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

    # ------------------------------------------------------------ Web API

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.api_connections.add(request.transport.get_extra_info("peername"))
        params = await _params(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        status, body, headers = self._answer(method, params, token)
        self.calls.append(ApiCall(method, params, time.monotonic(), status))
        self.called.set()  # watchers wait for this instead of polling
        return web.json_response(body, status=status, headers=headers)

    def _answer(
        self, method: str, params: dict[str, Any], token: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        pending = self._rate_limits.get(method)
        if pending:
            retry_after = pending.pop(0)
            return (
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(int(retry_after))},
            )
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        body = handler(params)
        return 200, body, {}

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "hearth",
            "team_id": TEAM_ID,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"}

    def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users") or "")
        if not users or "," in users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": f"D{users}"}}

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        text = params.get("text") or ""
        blocks = _blocks(params.get("blocks"))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        if len(text) > 40_000:
            return {"ok": False, "error": "msg_too_long"}
        ts = self.new_ts()
        thread_ts = params.get("thread_ts") or None
        message = SlackMessage(
            channel=channel,
            ts=ts,
            text=text,
            user=self.bot_user_id,
            thread_ts=thread_ts,
            blocks=blocks,
            bot_id=self.bot_id,
            history=[text],
        )
        self.messages[ts] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": _wire(message)}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get(str(params.get("ts")))
        if message is None or message.channel != params.get("channel"):
            return {"ok": False, "error": "message_not_found"}
        if message.user != self.bot_user_id:
            return {"ok": False, "error": "cant_update_message"}
        text = params.get("text") or ""
        if len(text) > 40_000:
            return {"ok": False, "error": "msg_too_long"}
        message.text = text
        # chat.update with only text removes the blocks (documented Slack behaviour).
        message.blocks = _blocks(params.get("blocks"))
        message.edits += 1
        message.history.append(text)
        return {"ok": True, "channel": message.channel, "ts": message.ts, "text": text}

    def _m_reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get(str(params.get("timestamp")))
        if message is None or message.channel != params.get("channel"):
            return {"ok": False, "error": "message_not_found"}
        name = str(params.get("name") or "")
        if (name, self.bot_user_id) in message.reactions:
            return {"ok": False, "error": "already_reacted"}
        message.reactions.append((name, self.bot_user_id))
        return {"ok": True}

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = str(params.get("filename") or ""), params.get("length")
        if not filename or not str(length or "").isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = SlackFile(file_id, filename, int(str(length)))
        url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
        return {"ok": True, "upload_url": url, "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        # Slack's upload URL takes the raw bytes (or a multipart form) and answers "OK - <size>".
        file = self.files.get(request.match_info["file_id"])
        if file is None:
            return web.Response(status=404, text="file not found")
        data = await request.read()
        if request.content_type.startswith("multipart/"):
            return web.Response(status=400, text="send the bytes as the body")
        file.data = data
        return web.Response(text=f"OK - {len(data)}")

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        items = params.get("files")
        items = json.loads(items) if isinstance(items, str) else items
        channel = params.get("channel_id") or None
        done = []
        for item in items or []:
            file = self.files.get(str(item.get("id")))
            if file is None or len(file.data) != file.length:
                return {"ok": False, "error": "file_upload_incomplete"}
            file.title, file.channel = str(item.get("title") or ""), channel
            if channel:
                file.thread_ts = params.get("thread_ts") or None
                comment = str(params.get("initial_comment") or "")
                message = SlackMessage(
                    channel=channel,
                    ts=self.new_ts(),
                    text=comment,
                    user=self.bot_user_id,
                    thread_ts=file.thread_ts,
                    bot_id=self.bot_id,
                    history=[comment],
                )
                message.files = [file.id]
                self.messages[message.ts] = message
                file.message_ts = message.ts
            file.hidden_shares = self.share_delay
            done.append(self._file_object(file, {} if self.share_delay else None))
        return {"ok": True, "files": done}

    def _m_files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(str(params.get("file") or ""))
        if file is None:
            return {"ok": False, "error": "file_not_found"}
        if file.hidden_shares:
            file.hidden_shares -= 1
            return {"ok": True, "file": self._file_object(file, {})}
        return {"ok": True, "file": self._file_object(file)}

    @staticmethod
    def _file_object(file: SlackFile, shares: dict[str, Any] | None = None) -> dict[str, Any]:
        if shares is None and file.channel and file.message_ts:
            shares = {"public": {file.channel: [{"ts": file.message_ts, "channel_name": ""}]}}
        return {
            "id": file.id,
            "name": file.filename,
            "title": file.title,
            "size": len(file.data),
            "shares": shares or {},
        }

    def new_ts(self) -> str:
        """A fresh, increasing Slack timestamp."""
        return f"{1_700_000_000 + next(self._ts)}.000100"

    # ------------------------------------------------------------ Socket Mode

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._ws = ws
        self.socket_connections += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake", "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._ws_ready.set()
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                envelope_id = data.get("envelope_id")
                if envelope_id:
                    self.acks[envelope_id] = data
                    waiter = self._ack_waiters.pop(envelope_id, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(data)
        finally:
            if self._ws is ws:
                self._ws = None
                self._ws_ready.clear()
        return ws

    async def wait_socket(self, timeout: float = 5.0) -> None:
        """Wait until a Socket Mode client is connected."""
        async with asyncio.timeout(timeout):
            await self._ws_ready.wait()

    async def drop_socket(self) -> None:
        """Close the current websocket from the server side (connection loss)."""
        if self._ws is not None:
            await self._ws.close()

    async def send_envelope(
        self, payload: dict[str, Any], *, timeout: float = 5.0, retry_attempt: int = 0
    ) -> dict[str, Any]:
        """Push ``payload`` over Socket Mode and return the client's ack."""
        await self.wait_socket(timeout)
        assert self._ws is not None
        envelope_id = f"env-{next(self._ids)}"
        if payload.get("command"):
            kind = "slash_commands"
        elif payload.get("type") == "block_actions":
            kind = "interactive"
        else:
            kind = "events_api"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": kind != "events_api",
            "payload": payload,
        }
        if kind == "events_api":
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": ""}
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._ack_waiters[envelope_id] = waiter
        await self._ws.send_json(envelope)
        async with asyncio.timeout(timeout):
            return await waiter

    # ------------------------------------------------------------ HTTP Events

    def sign(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        """``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` as Slack computes them."""
        ts = str(timestamp if timestamp is not None else int(time.time()))
        digest = hmac.new(
            self.signing_secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256
        ).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}

    async def post_signed(
        self, url: str, payload: dict[str, Any], *, signature: str | None = None
    ) -> tuple[int, str]:
        """POST ``payload`` to the app like Slack does; returns (status, body text).

        ``block_actions`` go form-encoded as ``payload=<json>``, everything else as JSON.
        ``signature`` overrides the computed one (to test rejection).
        """
        if payload.get("type") == "block_actions":
            body = "payload=" + urllib.parse.quote(json.dumps(payload))
            content_type = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(payload)
            content_type = "application/json"
        headers = {"Content-Type": content_type, **self.sign(body)}
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body.encode(), headers=headers) as resp,
        ):
            return resp.status, await resp.text()

    # ------------------------------------------------------------ payload builders

    def event_callback(self, event: dict[str, Any], *, event_id: str | None = None) -> dict:
        """Wrap ``event`` in an ``event_callback`` envelope with a fresh (or given) event id."""
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": {"event_ts": event.get("ts", self.new_ts()), **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def user_message(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> SlackMessage:
        """Store a message written by a human (so the thread exists server-side)."""
        ts = self.new_ts()
        message = SlackMessage(channel, ts, text, user, thread_ts, history=[text])
        self.messages[ts] = message
        return message

    def mention(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None, **kw: Any
    ) -> dict:
        """``app_mention`` for ``<@BOT> text`` (top level, or inside ``thread_ts``)."""
        full = f"<@{self.bot_user_id}> {text}"
        message = self.user_message(channel, user, full, thread_ts=thread_ts)
        event = {
            "type": "app_mention",
            "user": user,
            "text": full,
            "ts": message.ts,
            "channel": channel,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event_callback(event, **kw)

    def dm(self, channel: str, user: str, text: str, **kw: Any) -> dict:
        """``message`` in an ``im`` channel."""
        message = self.user_message(channel, user, text)
        event = {
            "type": "message",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": message.ts,
            "channel": channel,
        }
        return self.event_callback(event, **kw)

    def thread_reply(self, channel: str, user: str, text: str, thread_ts: str, **kw: Any) -> dict:
        """``message`` (channel) written inside an existing thread."""
        message = self.user_message(channel, user, text, thread_ts=thread_ts)
        event = {
            "type": "message",
            "channel_type": "channel",
            "user": user,
            "text": text,
            "ts": message.ts,
            "thread_ts": thread_ts,
            "parent_user_id": self.bot_user_id,
            "channel": channel,
        }
        return self.event_callback(event, **kw)

    def reaction_added(self, user: str, name: str, message: SlackMessage) -> dict:
        """``reaction_added`` on a stored message."""
        message.reactions.append((name, user))
        event = {
            "type": "reaction_added",
            "user": user,
            "reaction": name,
            "item": {"type": "message", "channel": message.channel, "ts": message.ts},
            "item_user": message.user,
            "event_ts": self.new_ts(),
        }
        return self.event_callback(event)

    def slash_command(self, channel: str, user: str, text: str, command: str = "/hearth") -> dict:
        """A slash command payload as Slack sends it (Socket Mode ``slash_commands``)."""
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"http://127.0.0.1:{self.port}/api/response",
            "trigger_id": f"trig-{next(self._ids)}",
        }

    def button_click(self, user: str, message: SlackMessage, action_id: str) -> dict:
        """``block_actions`` for a click on the button ``action_id`` of a stored message."""
        button = next((b for b in message.buttons if b["action_id"] == action_id), None)
        block_id = next(
            (
                b.get("block_id", "actions")
                for b in message.blocks
                if b.get("type") == "actions" and button in b.get("elements", [])
            ),
            "actions",
        )
        return {
            "type": "block_actions",
            "user": {
                "id": user,
                "username": user.lower(),
                "name": user.lower(),
                "team_id": TEAM_ID,
            },
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
                **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
            },
            "trigger_id": f"trig-{next(self._ids)}",
            "team": {"id": TEAM_ID, "domain": "fake"},
            "channel": {"id": message.channel, "name": "general"},
            "message": _wire(message),
            "response_url": f"http://127.0.0.1:{self.port}/api/response",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": (button or {}).get("value", action_id),
                    "text": {"type": "plain_text", "text": "button"},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }


async def _params(request: web.Request) -> dict[str, Any]:
    # slack_sdk sends some methods as JSON, some as forms and some (reactions.add) as a query
    # string on the POST; Slack accepts all three.
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        data = await request.json()
        params.update(data if isinstance(data, dict) else {})
    else:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):  # form-encoded bodies carry blocks as a JSON string
        value = json.loads(value)
    return list(value or [])


def _wire(message: SlackMessage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "message",
        "user": message.user,
        "text": message.text,
        "ts": message.ts,
    }
    if message.bot_id:
        out["bot_id"] = message.bot_id
    if message.blocks:
        out["blocks"] = message.blocks
    if message.thread_ts:
        out["thread_ts"] = message.thread_ts
    return out
