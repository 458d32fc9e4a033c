"""The fake's REST v10: messages, edits (with a rate-limit bucket), threads, reactions,
interaction callbacks and application commands.

A mixin of FakeDiscord: it reads and writes the fake's state.
"""

from __future__ import annotations

import collections
import json
import math
import time
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from tests.fakes.discord.payloads import (
    APP_ID,
    BOT_ID,
    BOT_USER,
    GUILD_ID,
    InteractionRecord,
    application,
    error_response,
    iso,
    json_response,
    user_payload,
)


class Rest:
    """The REST routes discord.py calls."""

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        self.requests.append((request.method, path))
        if request.headers.get("Authorization") != f"Bot {self.token}" and not path.startswith(
            "/interactions/"
        ):
            return error_response(401, 0, "401: Unauthorized")
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
                return json_response({**user_payload(BOT_USER), "verified": True, "flags": 0})
            case ("GET", ["oauth2", "applications", "@me"]):
                return json_response(application())
            case ("POST", ["channels", cid, "messages"]):
                return await self._create_message(cid, body, files)
            case ("GET", ["channels", cid, "messages", mid]):
                msg = self.messages.get(mid)
                if msg is None or msg.channel_id != cid:
                    return error_response(404, 10008, "Unknown Message")
                return json_response(self._message_payload(msg))
            case ("PATCH", ["channels", cid, "messages", mid]):
                return await self._edit_message(cid, mid, body)
            case ("POST", ["channels", cid, "messages", mid, "threads"]):
                return await self._create_thread(cid, mid, body)
            case ("PUT", ["channels", cid, "messages", mid, "reactions", emoji, "@me"]):
                msg = self.messages.get(mid)
                if msg is None or msg.channel_id != cid:
                    return error_response(404, 10008, "Unknown Message")
                msg.reactions.append((BOT_ID, emoji))
                return web.Response(status=204)
            case ("POST", ["interactions", iid, token, "callback"]):
                return self._interaction_callback(iid, token, body)
            case ("PUT", ["applications", app_id, "commands"]) if app_id == APP_ID:
                self.app_commands = [
                    {**c, "id": self.snowflake(), "application_id": APP_ID, "version": "1"}
                    for c in body  # type: ignore[union-attr]
                ]
                return json_response(self.app_commands)
        return error_response(404, 0, f"404: Not Found ({request.method} {path})")

    def _known_channel(self, cid: str) -> bool:
        return cid in self.channels or cid in self.threads

    async def _create_message(
        self, cid: str, body: dict[str, Any], files: list[tuple[str, str, bytes]] | None = None
    ) -> web.Response:
        if not self._known_channel(cid):
            return error_response(404, 10003, "Unknown Channel")
        content = body.get("content") or ""
        if files and self.refuse_attachments:
            return error_response(413, 40005, "Request entity too large")
        if len(content) > 2000:
            return json_response(
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
        return json_response(self._message_payload(msg))

    async def _edit_message(self, cid: str, mid: str, body: dict[str, Any]) -> web.Response:
        msg = self.messages.get(mid)
        if msg is None or msg.channel_id != cid:
            return error_response(404, 10008, "Unknown Message")
        if msg.author["id"] != BOT_ID:
            return error_response(403, 50005, "Cannot edit a message authored by another user")
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
                return error_response(400, 50035, "Invalid Form Body")
            msg.content = content
            msg.history.append(content)
        if "components" in body:
            msg.components = body["components"] or []
        msg.edits += 1
        data = self._message_payload(msg)
        await self.dispatch("MESSAGE_UPDATE", data)
        return json_response(data, headers=bucket_headers)

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
        return json_response({**body, "global": False}, 429, headers)

    async def _create_thread(self, cid: str, mid: str, body: dict[str, Any]) -> web.Response:
        if cid not in self.channels:
            return error_response(404, 10003, "Unknown Channel")
        if cid in self.no_thread_channels:
            return error_response(403, 50013, "Missing Permissions")
        if mid not in self.messages:
            return error_response(404, 10008, "Unknown Message")
        if mid in self.threads:
            return error_response(
                400, 160004, "A thread has already been created for this message"
            )
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
                "archive_timestamp": iso(),
                "locked": False,
            },
        }
        self.threads[mid] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return json_response(thread, 201)

    def _interaction_callback(self, iid: str, token: str, body: dict[str, Any]) -> web.Response:
        record = self.interactions.get(iid)
        if record is None or record.token != token:
            return error_response(404, 10062, "Unknown interaction")
        if time.monotonic() - record.created > 3.0:
            return error_response(404, 10062, "Unknown interaction")  # the 3 s window has passed
        if record.callbacks:
            return error_response(400, 40060, "Interaction has already been acknowledged.")
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
        return json_response(
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
