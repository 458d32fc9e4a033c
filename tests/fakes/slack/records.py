"""What the fake Slack stores and how it reads and writes it: messages, files, calls."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

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


def file_object(file: SlackFile, shares: dict[str, Any] | None = None) -> dict[str, Any]:
    if shares is None and file.channel and file.message_ts:
        shares = {"public": {file.channel: [{"ts": file.message_ts, "channel_name": ""}]}}
    return {
        "id": file.id,
        "name": file.filename,
        "title": file.title,
        "size": len(file.data),
        "shares": shares or {},
    }


async def request_params(request: web.Request) -> dict[str, Any]:
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


def blocks_of(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):  # form-encoded bodies carry blocks as a JSON string
        value = json.loads(value)
    return list(value or [])


def wire(message: SlackMessage) -> dict[str, Any]:
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
