"""The fake's gateway v10: HELLO, IDENTIFY (intents, 4004, 4014), RESUME, heartbeats, DISPATCH.

A mixin of FakeDiscord: it reads and writes the fake's state.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord.payloads import (
    APP_ID,
    BOT_ID,
    BOT_USER,
    GUILD_ID,
    MESSAGE_CONTENT_INTENT,
    FakeMessage,
    member_payload,
    user_payload,
)


class Gateway:
    """Gateway sessions and the events dispatched to them."""

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

    def _message_event(self, msg: FakeMessage) -> dict[str, Any]:
        data = self._message_payload(msg)
        if "guild_id" in data:
            member = member_payload(msg.author)
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
            "user": {**user_payload(BOT_USER), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": GUILD_ID, "unavailable": True}],
            "session_id": secrets.token_hex(8),
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gw/",
            "application": {"id": APP_ID, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._seq), "d": ready}))
        await self.dispatch("GUILD_CREATE", self._guild())
