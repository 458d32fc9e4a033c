"""DiscordAdapter: hearth on Discord through discord.py (gateway in, REST out).

client (the discord.py client, intents, endpoints) · inbound (gateway events to core events) ·
rest (posts, threads, edits, reactions, prompts) · places (what it remembers about where things
live) · buttons (the approval components) · translate (pure mapping).
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from adapters.discord.client import HearthClient, new_client, redirect
from adapters.discord.inbound import Inbound
from adapters.discord.places import Places
from adapters.discord.rest import Rest
from adapters.discord.translate import PLATFORM
from core.clock import SystemClock
from core.errors import PlatformError
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, MessageRef
from core.ports import Capabilities, Clock, EventSink

log = logging.getLogger(__name__)

DEFAULT_CAPABILITIES = Capabilities(max_message_chars=2000, min_edit_interval=1.0, buttons=True)


class DiscordAdapter:
    """ChatAdapter for Discord: mentions and DMs in, threads, streamed edits and buttons out.

    A top-level mention's task lives in a public thread started from that message (thread id
    = message id); where threads cannot be created it lives in replies to the message instead.
    The core paces edits (one pacer per chat); discord.py itself handles Discord's rate-limit
    buckets, and a 429 that still reaches us becomes ``RateLimited``. ``api_url`` and
    ``gateway_url`` point discord.py at a Discord-compatible server, a proxy or a test fake.
    """

    platform = PLATFORM

    def __init__(
        self,
        *,
        token: str,
        capabilities: Capabilities | None = None,
        client_options: dict[str, Any] | None = None,
        clock: Clock | None = None,
        api_url: str | None = None,
        gateway_url: str | None = None,
    ) -> None:
        self.capabilities = capabilities or DEFAULT_CAPABILITIES
        self._api_url = api_url.rstrip("/") if api_url else None
        self._gateway_url = gateway_url
        self._token = token
        self._options = dict(client_options or {})
        self._clock: Clock = clock or SystemClock()
        self._client: HearthClient | None = None
        self.message_content = True  # False after Discord refused the privileged intent
        places = Places()
        self._inbound = Inbound(places, lambda: self._client)
        self._rest = Rest(
            places, lambda: self._client, lambda: self.capabilities.max_message_chars
        )

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a gateway session is up."""
        client = self._client
        return client is not None and client.up and not client.is_closed()

    async def run(self, sink: EventSink) -> None:
        """Connect and deliver events until cancelled; discord.py resumes dropped sessions.

        If Discord refuses the privileged message content intent (close code 4014), the adapter
        reconnects without it and works on mentions and DMs only.
        """
        if self._client is not None:
            raise RuntimeError("DiscordAdapter.run is already running")
        redirect(self._api_url, self._gateway_url)
        self._inbound.sink = sink
        try:
            while True:
                client = new_client(
                    self._inbound, message_content=self.message_content, options=self._options
                )
                self._client = client
                try:
                    async with client:
                        await client.start(self._token, reconnect=True)
                    return
                except discord.PrivilegedIntentsRequired as exc:
                    if not self.message_content:
                        raise PlatformError(f"discord refused the intents: {exc}") from exc
                    log.warning(
                        "discord: the Message Content intent is not enabled for this bot in "
                        "the Developer Portal; continuing without it (only mentions and DMs "
                        "are seen)"
                    )
                    self.message_content = False
                except discord.LoginFailure as exc:
                    raise PlatformError("discord rejected DISCORD_TOKEN") from exc
                finally:
                    client.up = False
        finally:
            self._client = None
            self._inbound.sink = None

    # -- outbound (adapters.discord.rest) ----------------------------------------------------

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Post into the chat's thread (creating it from the user's message on first use)."""
        return await self._rest.post(chat, text)

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """The image as a message attachment: ``post_file``."""
        return await self.post_file(chat, data, filename, caption, "")

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """The file as a message attachment (multipart upload), the caption as its text.

        Discord types an attachment by its file name; ``mime`` is not sent.
        """
        return await self._rest.post_file(chat, data, filename, caption)

    async def edit(self, ref: MessageRef, text: str) -> None:
        """Replace the text of a bot message."""
        await self._rest.edit(ref, text)

    async def react(self, ref: MessageRef, key: str) -> None:
        """Add a unicode emoji reaction."""
        await self._rest.react(ref, key)

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Post the prompt with Approve / Reject buttons (custom_id ``appr:<id>:<decision>``)."""
        return await self._rest.ask_approval(chat, request)

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Show the outcome under the prompt and remove the buttons."""
        await self._rest.close_approval(prompt, outcome)
