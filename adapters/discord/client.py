"""The discord.py client: intents, endpoints, and gateway events handed to ``Inbound``."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from adapters.discord.buttons import ApprovalButton
from adapters.discord.inbound import Inbound
from adapters.discord.translate import SLASH_COMMAND
from core.approvals.payload import unpack_payload
from core.events import Decision

log = logging.getLogger(__name__)


def build_intents(*, message_content: bool = True) -> discord.Intents:
    """Guilds, guild and DM messages and reactions, plus the privileged message content."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.guild_reactions = True
    intents.dm_reactions = True
    intents.message_content = message_content
    return intents


def redirect(api_url: str | None, gateway_url: str | None) -> None:
    """Point discord.py at a Discord-compatible server, a proxy or a test fake."""
    # discord.py keeps its endpoints as class attributes: one Discord server per process.
    if api_url:
        discord.http.Route.BASE = api_url
    if gateway_url:
        import yarl

        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def new_client(
    inbound: Inbound, *, message_content: bool, options: dict[str, Any]
) -> HearthClient:
    """A client with hearth's defaults; ``options`` (discord.Client keywords) override them."""
    defaults: dict[str, Any] = {
        "intents": build_intents(message_content=message_content),
        # Model output must never ping @everyone, roles or users.
        "allowed_mentions": discord.AllowedMentions.none(),
        # discord.py sleeps through short 429s itself; longer ones surface as RateLimited.
        "max_ratelimit_timeout": 30.0,
    }
    defaults.update(options)
    return HearthClient(inbound, **defaults)


class HearthClient(discord.Client):
    """discord.Client that forwards gateway events to ``Inbound`` and knows if it is up."""

    def __init__(self, inbound: Inbound, **options: Any) -> None:
        super().__init__(**options)
        self._inbound = inbound
        self.up = False  # a gateway session is established

    async def setup_hook(self) -> None:
        """Register the approval buttons and the /hearth application command."""
        self.add_dynamic_items(ApprovalButton)
        tree = app_commands.CommandTree(self)
        inbound = self._inbound

        @app_commands.command(
            name=SLASH_COMMAND,
            description="Ask hearth: a task, a command (help, skills) or run <skill>",
        )
        @app_commands.describe(text="what you want, as you would write it after @hearth")
        async def hearth(interaction: discord.Interaction, text: str) -> None:
            await inbound.on_slash(interaction, text)

        tree.add_command(hearth)
        try:
            await tree.sync()  # global commands: PUT /applications/{id}/commands
        except discord.HTTPException as exc:
            log.warning("discord: could not register the /%s command: %s", SLASH_COMMAND, exc)

    async def on_ready(self) -> None:
        """Gateway session established (also after a full re-identify)."""
        self.up = True
        log.info("discord connected as %s (id %s)", self.user, self.user and self.user.id)

    async def on_resumed(self) -> None:
        """Gateway session resumed after a drop."""
        self.up = True

    async def on_disconnect(self) -> None:
        """Gateway dropped; discord.py reconnects or resumes by itself."""
        self.up = False

    async def on_message(self, message: discord.Message) -> None:
        """A message was created somewhere the bot can see."""
        await self._inbound.on_message(message)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """Someone added a reaction (cached message or not)."""
        await self._inbound.on_reaction(payload)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A click on an approval button that is no longer on its message (a stale client
        view of a closed prompt): discord.py cannot route it, so it is answered here."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: Any = interaction.data or {}
        custom_id = data.get("custom_id")
        parsed = unpack_payload(custom_id) if isinstance(custom_id, str) else None
        if parsed is None or interaction.message is None:
            return
        view = discord.ui.View.from_message(interaction.message, timeout=None)
        if any(getattr(i, "custom_id", None) == custom_id for i in view.walk_children()):
            return  # the button is there: ApprovalButton handles the click
        await self._inbound.on_click(interaction, *parsed)

    async def handle_approval_click(
        self, interaction: discord.Interaction, approval_id: str, decision: Decision
    ) -> None:
        """Called by ApprovalButton.callback."""
        await self._inbound.on_click(interaction, approval_id, decision)
