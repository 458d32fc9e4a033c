"""Out through Discord's REST API: posts into task threads, edits, reactions, approval prompts.

A top-level mention's task lives in a public thread started from that message on first post
(thread id = message id); where threads cannot be created it lives in replies to the message.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import discord

from adapters.discord.buttons import approval_view, render_closed, render_outcome, render_prompt
from adapters.discord.places import Places
from adapters.discord.translate import platform_errors
from core.errors import MessageTooLong, PlatformError
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, MessageRef

log = logging.getLogger(__name__)

# Codes Discord answers when a thread cannot be started here: missing access / permissions,
# "cannot execute action on this channel type", "invalid form body" for e.g. a DM message.
_NO_THREAD_CODES = frozenset({50001, 50013, 50024, 50035})
_THREAD_EXISTS = 160004


class Rest:
    """Posts, edits and reacts as the bot; remembers where each message went."""

    def __init__(
        self,
        places: Places,
        client: Callable[[], discord.Client | None],
        limit: Callable[[], int],
    ) -> None:
        self._places = places
        self._client = client  # the running client, None between sessions
        self._limit = limit  # the adapter's max_message_chars, read at each use

    def _require_client(self) -> discord.Client:
        client = self._client()
        if client is None or client.is_closed() or client.user is None:
            raise PlatformError("discord adapter is not connected")
        return client

    def _check_length(self, text: str) -> None:
        limit = self._limit()
        if len(text) > limit:
            raise MessageTooLong(f"{len(text)} characters; Discord allows {limit}")

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Post into the chat's thread (creating it from the user's message on first use)."""
        return await self._send(chat, text)

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """The file as a message attachment (multipart upload), the caption as its text."""
        return await self._send(chat, caption, file=discord.File(io.BytesIO(data), filename))

    async def _send(
        self,
        chat: ChatRef,
        text: str,
        *,
        view: discord.ui.View | None = None,
        file: discord.File | None = None,
    ) -> MessageRef:
        self._check_length(text)
        client = self._require_client()
        places = self._places
        # Two first posts at once (progress card + answer) must not both start the thread.
        async with places.lock(chat.key):
            target, reply_to = await self._target(client, chat)
        channel = client.get_partial_messageable(int(target))
        kwargs: dict[str, Any] = {}
        if reply_to is not None:
            kwargs["reference"] = discord.MessageReference(
                message_id=int(reply_to), channel_id=int(target), fail_if_not_exists=False
            )
        if view is not None:
            kwargs["view"] = view
        if file is not None:
            kwargs["file"] = file
        with platform_errors("post"):
            message = await channel.send(text or "\u200b", **kwargs)
        mid = str(message.id)
        places.locations[mid] = target
        if chat.key in places.reply_mode:
            places.reply_chats[mid] = chat
        return MessageRef(chat, mid)

    async def _target(self, client: discord.Client, chat: ChatRef) -> tuple[str, str | None]:
        """``(Discord channel to send to, message to reply to)`` for a chat."""
        places = self._places
        if chat.thread_id is None:
            return chat.channel_id, places.dm_reply.pop(chat.channel_id, None)
        thread_id = chat.thread_id
        if chat.key in places.reply_mode:
            return chat.channel_id, thread_id
        if thread_id in places.threads or isinstance(
            client.get_channel(int(thread_id)), discord.Thread
        ):
            return thread_id, None
        try:
            with platform_errors("create thread"):
                await client.http.start_thread_with_message(
                    int(chat.channel_id),
                    int(thread_id),
                    name=places.thread_names.pop(thread_id, "hearth task"),
                    auto_archive_duration=1440,
                )
        except PlatformError as exc:
            cause = exc.__cause__
            code = getattr(cause, "code", None)
            if code == _THREAD_EXISTS:
                places.threads[thread_id] = chat.channel_id
                return thread_id, None
            if isinstance(cause, discord.Forbidden) or code in _NO_THREAD_CODES:
                log.info("discord: no thread allowed in %s (%s); replying instead", chat.key, exc)
                places.reply_mode[chat.key] = True
                return chat.channel_id, thread_id
            raise
        places.threads[thread_id] = chat.channel_id
        return thread_id, None

    async def _edit(self, ref: MessageRef, action: str, **fields: Any) -> None:
        client = self._require_client()
        homes = self._places.homes(ref)
        for i, home in enumerate(homes):
            message = client.get_partial_messageable(int(home)).get_partial_message(
                int(ref.message_id)
            )
            try:
                with platform_errors(action):
                    await message.edit(**fields)
            except PlatformError as exc:
                if isinstance(exc.__cause__, discord.NotFound) and i + 1 < len(homes):
                    continue
                raise
            self._places.locations[ref.message_id] = home
            return

    async def edit(self, ref: MessageRef, text: str) -> None:
        """Replace the text of a bot message."""
        self._check_length(text)
        await self._edit(ref, "edit", content=text or "\u200b")

    async def react(self, ref: MessageRef, key: str) -> None:
        """Add a unicode emoji reaction."""
        client = self._require_client()
        home = self._places.homes(ref)[0]
        message = client.get_partial_messageable(int(home)).get_partial_message(
            int(ref.message_id)
        )
        with platform_errors("react"):
            await message.add_reaction(key)

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Post the prompt with Approve / Reject buttons (custom_id ``appr:<id>:<decision>``)."""
        text = render_prompt(request, limit=self._limit())
        ref = await self._send(chat, text, view=approval_view(request.id))
        self._places.prompts[ref.message_id] = text
        return ref

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Show the outcome under the prompt and remove the buttons."""
        text = self._places.prompts.pop(prompt.message_id, None)
        if text is None:
            text = await self._fetch_text(prompt)
        limit = self._limit()
        body = render_closed(text, outcome, limit=limit) if text else render_outcome(outcome)
        await self._edit(prompt, "close approval", content=body, view=None)

    async def _fetch_text(self, ref: MessageRef) -> str:
        """The current text of a message (prompts posted before a restart)."""
        client = self._require_client()
        for home in self._places.homes(ref):
            try:
                with platform_errors("fetch"):
                    data = await client.http.get_message(int(home), int(ref.message_id))
            except PlatformError as exc:
                log.info("discord: prompt %s not in %s: %s", ref.message_id, home, exc)
                continue
            self._places.locations[ref.message_id] = home
            return str(data.get("content") or "")
        return ""
