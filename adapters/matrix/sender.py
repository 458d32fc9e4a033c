"""Sender: hearth's events and media out to the homeserver through the running nio client.

Every event goes out with one transaction id however often it is retried, so the homeserver
stores it once even when a response was lost. A 429 is waited out within a budget where the
caller may wait (posts, reactions) and raised at once as ``RateLimited`` where the caller paces
itself (edits, through the chat's EditPacer).
"""

from __future__ import annotations

import contextlib
import io
import logging
import uuid
from typing import Any

import aiohttp
import nio

from adapters.matrix import compose, translate
from core.errors import MessageTooLong, PlatformError, RateLimited
from core.events import ChatRef, MessageRef
from core.ports import Clock

log = logging.getLogger(__name__)

TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, nio.LocalProtocolError)


class Sender:
    """Sends through ``client`` while the adapter runs (None before and after)."""

    def __init__(self, clock: Clock, retry_budget: float) -> None:
        self._clock = clock
        self._retry_budget = retry_budget
        self.client: nio.AsyncClient | None = None

    def require_client(self) -> nio.AsyncClient:
        """The connected client; PlatformError when there is none."""
        if self.client is None or not self.client.access_token:
            raise PlatformError("the Matrix adapter is not connected")
        return self.client

    async def send(
        self, room_id: str, event_type: str, content: dict[str, Any], *, wait: bool
    ) -> str:
        """Send one event; returns its id. ``wait``: sleep through 429s within the budget.

        The transaction id stays the same across retries, so the homeserver stores the event
        once even when a response was lost.
        """
        if compose.content_size(content) > compose.MAX_EVENT_BYTES:
            raise MessageTooLong(f"Matrix event of {compose.content_size(content)} bytes")
        client = self.require_client()
        if client.olm is not None and room_id not in client.rooms:
            await self._wait_for_room(client, room_id)
        tx_id = str(uuid.uuid4())
        waited = 0.0
        while True:
            try:
                resp = await client.room_send(
                    room_id, event_type, content, tx_id=tx_id, ignore_unverified_devices=True
                )
            except TRANSPORT_ERRORS as exc:
                raise PlatformError(f"Matrix send to {room_id} failed: {exc!r}") from exc
            if isinstance(resp, nio.RoomSendResponse):
                return resp.event_id
            code = getattr(resp, "status_code", None)
            if code in {"M_LIMIT_EXCEEDED", 429, "429"}:
                retry_after = (getattr(resp, "retry_after_ms", None) or 5000) / 1000
                if not wait or waited + retry_after > self._retry_budget:
                    raise RateLimited(retry_after)
                log.info("matrix: rate limited in %s, waiting %.1fs", room_id, retry_after)
                await self._clock.sleep(retry_after)
                waited += retry_after
                continue
            if code == "M_TOO_LARGE":
                raise MessageTooLong(f"Matrix refused the event as too large: {resp}")
            raise PlatformError(f"Matrix send to {room_id} failed: {resp}")

    async def _wait_for_room(self, client: nio.AsyncClient, room_id: str) -> None:
        """Wait for the sync loop to learn a just-joined room: its encryption state decides
        whether nio encrypts, so nothing is sent into a room nio does not know yet."""
        for _ in range(200):
            await self._clock.sleep(0.05)
            if room_id in client.rooms:
                return
        raise PlatformError(f"Matrix room {room_id} is not known to this client (not joined?)")

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Post ``text`` (Markdown) with an HTML body, in the chat's ``m.thread`` if any."""
        content = compose.message_content(text, thread_id=chat.thread_id)
        event_id = await self.send(chat.channel_id, "m.room.message", content, wait=True)
        return MessageRef(chat, event_id)

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """Upload to the media repository first, then an ``m.image`` event pointing at it.

        In an encrypted room the picture is encrypted before upload (an ``EncryptedFile``), so
        the homeserver never holds it in the clear.
        """
        uri, keys = await self._upload(chat, data, filename, compose.image_type(filename))
        content = compose.image_content(
            uri, filename, caption, data, thread_id=chat.thread_id, keys=keys
        )
        event_id = await self.send(chat.channel_id, "m.room.message", content, wait=True)
        return MessageRef(chat, event_id)

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """Upload to the media repository, then an ``m.file`` event; encrypted like images."""
        mime = mime or compose.file_type(filename)
        uri, keys = await self._upload(chat, data, filename, mime)
        content = compose.file_content(
            uri, filename, caption, data, mime, thread_id=chat.thread_id, keys=keys
        )
        event_id = await self.send(chat.channel_id, "m.room.message", content, wait=True)
        return MessageRef(chat, event_id)

    async def _upload(
        self, chat: ChatRef, data: bytes, filename: str, mime: str
    ) -> tuple[str, dict[str, Any] | None]:
        """``(mxc uri, decryption keys or None)``; encrypted first in an encrypted room."""
        client = self.require_client()
        if client.olm is not None and chat.channel_id not in client.rooms:
            # Whether to encrypt is the room's state: never upload before it is known.
            await self._wait_for_room(client, chat.channel_id)
        room = client.rooms.get(chat.channel_id)
        encrypt = client.olm is not None and room is not None and room.encrypted
        # Ciphertext has no type of its own: the real one stays in the (encrypted) event's info.
        mimetype = "application/octet-stream" if encrypt else mime
        try:
            resp, keys = await client.upload(
                io.BytesIO(data),
                content_type=mimetype,
                filename=filename,
                encrypt=encrypt,
                filesize=len(data),
            )
        except TRANSPORT_ERRORS as exc:
            raise PlatformError(f"Matrix media upload failed: {exc!r}") from exc
        if not isinstance(resp, nio.UploadResponse):
            raise PlatformError(f"Matrix media upload failed: {resp}")
        return resp.content_uri, keys

    async def edit(self, ref: MessageRef, text: str, *, wait: bool = False) -> None:
        """Replace a message's text with an ``m.replace`` event; 429 → RateLimited unless
        ``wait``."""
        content = compose.edit_content(ref.message_id, text)
        await self.send(ref.chat.channel_id, "m.room.message", content, wait=wait)

    async def react(self, ref: MessageRef, key: str) -> None:
        """Annotate a message with the emoji ``key``."""
        content = compose.reaction_content(ref.message_id, key)
        await self.send(ref.chat.channel_id, "m.reaction", content, wait=True)

    async def fetch_body(self, ref: MessageRef) -> str | None:
        """The body of a message (after a restart the prompt text is not in memory)."""
        client = self.require_client()
        with contextlib.suppress(*TRANSPORT_ERRORS):
            resp = await client.room_get_event(ref.chat.channel_id, ref.message_id)
            if isinstance(resp, nio.RoomGetEventResponse):
                event = resp.event
                if isinstance(event, nio.MegolmEvent) and client.olm is not None:
                    with contextlib.suppress(nio.EncryptionError):
                        event = client.decrypt_event(event)
                return translate.event_body(event.source)
            log.warning("matrix: could not fetch prompt %s: %s", ref.message_id, resp)
        return None
