"""Slack events in: bolt listeners that ack first and hand only ``core.events`` to the sink."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from core.errors import PlatformError
from core.events import ChatRef, Event
from core.ports import EventSink, deliver

from . import translate
from .outbound import Outbound
from .recent import Recent, remember

log = logging.getLogger(__name__)


class Inbound:
    """Mentions, DMs, replies in hearth's threads, reactions, button clicks and /hearth."""

    def __init__(self, recent: Recent, outbound: Outbound) -> None:
        self._recent = recent
        self._outbound = outbound  # a slash command's thread hangs off a message we post
        self.sink: EventSink | None = None  # set while the adapter runs
        self.bot_user_id: str | None = None

    def build_app(
        self, client: AsyncWebClient, *, app_token: str | None, signing_secret: str | None
    ) -> AsyncApp:
        """The bolt app with hearth's listeners (Socket Mode with ``app_token``, else HTTP)."""
        if app_token:
            # Socket Mode requests are not signed; an explicit "" also stops bolt from falling
            # back to SLACK_SIGNING_SECRET in the environment (only bot/config.py reads it).
            app = AsyncApp(client=client, signing_secret="", request_verification_enabled=False)
        else:
            app = AsyncApp(client=client, signing_secret=signing_secret or "")

        async def on_message(body: dict[str, Any]) -> None:
            await self._on_message(body)

        async def on_reaction(body: dict[str, Any]) -> None:
            key = _item_key(body)
            thread = self._recent.posted.get(key) if key else None
            event = translate.reaction(body, bot_user_id=self.bot_user_id, thread_id=thread)
            if event is not None and not self._recent.redelivered(event.event_id):
                await self._deliver(event)

        async def on_action(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
            await ack()  # within Slack's 3 s, before anything else
            response = translate.approval_response(body)
            if response is None:
                log.warning("slack: ignoring an unknown button payload %r", body.get("actions"))
                return
            await self._deliver(response)

        app.event("app_mention")(on_message)
        app.event("message")(on_message)
        app.event("reaction_added")(on_reaction)
        app.action(re.compile(r"^appr:"))(on_action)

        async def on_command(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
            await ack()  # Slack's 3 s window: acknowledge first, answer in a thread after
            await self._on_slash(body)

        app.command(translate.SLASH_COMMAND)(on_command)
        return app

    async def _on_slash(self, body: dict[str, Any]) -> None:
        parsed = translate.slash_command(body)
        if parsed is None:
            return
        channel, user, text, trigger = parsed
        if self._recent.redelivered(f"cmd:{trigger}" if trigger else ""):
            return
        # A slash command has no message of its own: the answer's thread hangs off a root
        # message that shows who asked what.
        shown = f"**{user.display_name or user.id}** asked: `{translate.SLASH_COMMAND} {text}`"
        try:
            root = await self._outbound.post(ChatRef(translate.PLATFORM, channel), shown)
        except PlatformError:
            log.exception("slack: could not post the root of a /hearth thread in %s", channel)
            return
        remember(self._recent.threads, (channel, root.message_id), None)
        await self._deliver(translate.slash_message(channel, user, text, root.message_id, trigger))

    async def _on_message(self, body: dict[str, Any]) -> None:
        message = translate.incoming_message(body, bot_user_id=self.bot_user_id)
        if message is None or self._recent.redelivered(message.event_id):
            return
        chat = message.ref.chat
        thread_key = (chat.channel_id, chat.thread_id or "")
        # Plain thread replies are only forwarded from threads hearth is part of, so channel
        # chatter never reaches the core.
        plain_reply = message.in_thread and not (message.mentions_bot or message.is_direct)
        if plain_reply and thread_key not in self._recent.threads:
            return
        remember(self._recent.threads, thread_key, None)
        await self._deliver(message)

    async def _deliver(self, event: Event | None) -> None:
        if event is not None and self.sink is not None:
            await deliver(self.sink, event, "slack")


def _item_key(body: dict[str, Any]) -> tuple[str, str] | None:
    item = (body.get("event") or {}).get("item") or {}
    channel, ts = item.get("channel"), item.get("ts")
    return (channel, ts) if isinstance(channel, str) and isinstance(ts, str) else None
