"""Out through Slack's Web API: posts in threads, edits, reactions, DMs, prompts and files."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from core.errors import PlatformError
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, MessageRef

from . import translate
from .mrkdwn import to_mrkdwn
from .recent import Recent, remember
from .webapi import call, one_shot

log = logging.getLogger(__name__)

_SHARE_CHECKS = 3  # files.info asks while an uploaded file's share message is not there yet
_SHARE_WAIT = 0.2  # seconds before the first ask, growing linearly


class Outbound:
    """Everything the bot writes to Slack; remembers the threads of what it posted."""

    def __init__(self, client: AsyncWebClient, recent: Recent) -> None:
        self._client = client
        self._recent = recent

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """``chat.postMessage`` in the chat's thread, text rendered as mrkdwn."""
        resp = await one_shot(
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
        await call(
            "chat.update",
            self._client.chat_update(
                channel=ref.chat.channel_id, ts=ref.message_id, text=to_mrkdwn(text)
            ),
        )

    async def react(self, ref: MessageRef, key: str) -> None:
        """``reactions.add``; reacting twice with the same emoji is not an error."""
        name = translate.reaction_name(key)
        try:
            await one_shot(
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
        resp = await one_shot(
            "conversations.open", lambda: self._client.conversations_open(users=user_id)
        )
        channel = resp.get("channel") or {}
        return ChatRef(translate.PLATFORM, str(channel.get("id") or ""))

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Post the Block Kit prompt: command in a code block, cwd, task, requester, buttons."""
        text, blocks = translate.approval_prompt(request)
        resp = await one_shot(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=chat.channel_id, thread_ts=chat.thread_id, text=text, blocks=blocks
            ),
        )
        ref = self._posted_ref(chat, resp)
        remember(self._recent.prompts, (chat.channel_id, ref.message_id), request)
        return ref

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Rewrite the prompt without buttons, showing who decided and when (or the expiry)."""
        key = (prompt.chat.channel_id, prompt.message_id)
        request = self._recent.prompts.pop(key, None)
        text, blocks = translate.closed_prompt(request, outcome)
        await one_shot(
            "chat.update",
            lambda: self._client.chat_update(
                channel=prompt.chat.channel_id, ts=prompt.message_id, text=text, blocks=blocks
            ),
        )

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """``files_upload_v2`` into the chat (its thread if any), the caption as its comment.

        The returned ref is the message sharing the file; when Slack has not shared it yet,
        ``files.info`` is asked (a few times) so what is posted next lands below the file.
        """
        resp = await one_shot(
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
                info = await one_shot("files.info", lambda: self._client.files_info(file=file_id))
            except PlatformError as exc:  # e.g. an app installed without files:read
                log.info("slack: cannot see whether file %s is shared yet: %s", file_id, exc)
                break
            file = info.get("file") or {}
        ts = _share_ts(file, chat.channel_id)
        if ts:
            return MessageRef(chat, ts)
        log.info("slack: file %s is not shared in %s yet", file_id, chat.channel_id)
        return MessageRef(chat, file_id)

    def _posted_ref(self, chat: ChatRef, resp: AsyncSlackResponse) -> MessageRef:
        ts = str(resp.get("ts") or "")
        if not ts:
            raise PlatformError("slack chat.postMessage: no ts in the response")
        remember(self._recent.posted, (chat.channel_id, ts), chat.thread_id)
        if chat.thread_id:
            remember(self._recent.threads, (chat.channel_id, chat.thread_id), None)
        return MessageRef(chat, ts)


def _share_ts(file: dict[str, Any], channel: str) -> str:
    """The ts of the message that shares ``file`` in ``channel`` ("" while not shared)."""
    for scope in ("public", "private"):
        for share in ((file.get("shares") or {}).get(scope) or {}).get(channel, []):
            if share.get("ts"):
                return str(share["ts"])
    return ""
