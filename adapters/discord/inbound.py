"""Gateway events in: messages, reactions, button clicks and /hearth, as core events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import discord

from adapters.discord.places import Places, thread_name
from adapters.discord.translate import (
    PLATFORM,
    SLASH_COMMAND,
    channel_info,
    slash_to_incoming,
    to_approval_response,
    to_incoming,
    to_reaction,
    to_user,
)
from core.events import Decision, Event, User
from core.ports import EventSink, deliver

log = logging.getLogger(__name__)


class Inbound:
    """Turns what the gateway delivers into core events; remembers where each one came from."""

    def __init__(self, places: Places, client: Callable[[], discord.Client | None]) -> None:
        self._places = places
        self._client = client  # the running client, None between sessions
        self.sink: EventSink | None = None  # set while the adapter runs

    @property
    def bot_id(self) -> str:
        """The bot's own user id ("" before the gateway said who it is)."""
        client = self._client()
        return str(client.user.id) if client is not None and client.user is not None else ""

    async def _deliver(self, event: Event) -> None:
        if self.sink is not None:
            # Task boundary: discord.py runs each event handler as its own task.
            await deliver(self.sink, event, "discord")

    async def on_message(self, message: discord.Message) -> None:
        """A message was created somewhere the bot can see."""
        places = self._places
        where = channel_info(message.channel, thread_parents=places.threads)
        if where.kind == "thread" and where.parent_id:
            places.threads[where.id] = where.parent_id
        reply_chat = None
        if where.kind == "channel" and message.reference and message.reference.message_id:
            reply_chat = places.reply_chats.get(str(message.reference.message_id))
        event = to_incoming(message, bot_id=self.bot_id, where=where, reply_chat=reply_chat)
        if event is None:
            return
        if where.kind == "channel" and event.ref.chat.thread_id == event.ref.message_id:
            places.thread_names[event.ref.message_id] = thread_name(event.text)
        if event.is_direct:
            places.dm_reply[where.id] = event.ref.message_id
        await self._deliver(event)

    async def on_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        """Someone added a reaction (cached message or not)."""
        if str(payload.user_id) == self.bot_id:
            return
        client = self._client()
        person: Any = payload.member or (client.get_user(payload.user_id) if client else None)
        user = to_user(person) if person is not None else User(PLATFORM, str(payload.user_id))
        if user.is_bot:
            return
        channel = client.get_channel(payload.channel_id) if client else None
        where = self._places.where(channel, payload.channel_id, payload.guild_id)
        await self._deliver(to_reaction(payload, user=user, where=where))

    async def on_click(
        self, interaction: discord.Interaction, approval_id: str, decision: Decision
    ) -> None:
        """A click on an approval button."""
        # Every click goes to the broker, which refuses non-approvers and records the attempt in
        # the audit trail, as on the other platforms.
        try:
            # Acknowledge at once (type 6): the buttons stay until the broker closes the prompt.
            await interaction.response.defer()
        except discord.HTTPException as exc:
            # Too late to answer (the 3 s window passed); the decision itself still counts.
            log.warning("discord: could not answer interaction %s: %s", interaction.id, exc)
        channel = interaction.channel
        where = self._places.where(channel, interaction.channel_id or 0, interaction.guild_id)
        event = to_approval_response(approval_id, decision, interaction=interaction, where=where)
        await self._deliver(event)

    async def on_slash(self, interaction: discord.Interaction, text: str) -> None:
        """``/hearth text``: answered at once, then handled like a mention."""
        places = self._places
        user = to_user(interaction.user)
        shown = f"**{user.display_name or user.id}** asked: `/{SLASH_COMMAND} {text}`"
        try:
            # The response is the acknowledgement (Discord's 3 s window) and the message the
            # answer's thread starts from.
            sent = await interaction.response.send_message(shown[:2000])
        except discord.HTTPException as exc:
            log.warning("discord: could not answer /%s: %s", SLASH_COMMAND, exc)
            return
        resource = sent.resource
        mid = sent.message_id or (resource.id if isinstance(resource, discord.Message) else None)
        if mid is None:
            log.warning("discord: no message for the /%s response", SLASH_COMMAND)
            return
        where = places.where(
            interaction.channel, interaction.channel_id or 0, interaction.guild_id
        )
        event = slash_to_incoming(
            user, text, where=where, message_id=str(mid), interaction_id=str(interaction.id)
        )
        places.locations[str(mid)] = where.id
        if where.kind == "channel":
            places.thread_names[str(mid)] = thread_name(event.text)
        elif where.kind == "dm":
            places.dm_reply[where.id] = str(mid)
        await self._deliver(event)
