"""How events reach the app: the Socket Mode websocket (envelopes, acks) and signed HTTP Events.

A mixin of FakeSlack: it reads and writes the fake's state.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.slack.records import (
    APP_ID,
)


class Delivery:
    """Socket Mode and HTTP Events, as Slack delivers to an app."""

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
