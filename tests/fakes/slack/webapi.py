"""The fake's Web API: ``POST /api/{method}``, uploads, scripted 429s; state a user would see.

A mixin of FakeSlack: it reads and writes the fake's state.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from tests.fakes.slack.records import (
    TEAM_ID,
    ApiCall,
    SlackFile,
    SlackMessage,
    blocks_of,
    file_object,
    request_params,
    wire,
)


class WebApi:
    """The Web API methods the SDK calls."""

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.api_connections.add(request.transport.get_extra_info("peername"))
        params = await request_params(request)
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
        blocks = blocks_of(params.get("blocks"))
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
        return {"ok": True, "channel": channel, "ts": ts, "message": wire(message)}

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
        message.blocks = blocks_of(params.get("blocks"))
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
            done.append(file_object(file, {} if self.share_delay else None))
        return {"ok": True, "files": done}

    def _m_files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(str(params.get("file") or ""))
        if file is None:
            return {"ok": False, "error": "file_not_found"}
        if file.hidden_shares:
            file.hidden_shares -= 1
            return {"ok": True, "file": file_object(file, {})}
        return {"ok": True, "file": file_object(file)}

    def new_ts(self) -> str:
        """A fresh, increasing Slack timestamp."""
        return f"{1_700_000_000 + next(self._ts)}.000100"
