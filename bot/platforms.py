"""The chat platforms Settings enable, and the terminal chat; each SDK is imported only when
configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import Settings
from core.ports import ChatAdapter

if TYPE_CHECKING:
    from adapters.console import ConsoleAdapter


def platform_adapters(settings: Settings) -> dict[str, ChatAdapter]:
    """Slack, Discord and Matrix adapters for what is configured."""
    adapters: dict[str, ChatAdapter] = {}
    inviters = settings.allowed_users | settings.admins
    if settings.slack:
        from adapters.slack import SlackAdapter

        s = settings.slack
        adapters["slack"] = SlackAdapter(
            bot_token=s.bot_token,
            app_token=s.app_token,
            signing_secret=s.signing_secret,
            api_url=s.api_url,
            http_addr=s.http_addr,
        )
    if settings.discord:
        from adapters.discord import DiscordAdapter

        adapters["discord"] = DiscordAdapter(
            token=settings.discord.token,
            api_url=settings.discord.api_url,
            gateway_url=settings.discord.gateway_url,
        )
    if settings.matrix:
        from adapters.matrix import MatrixAdapter

        m = settings.matrix
        adapters["matrix"] = MatrixAdapter(
            homeserver=m.homeserver,
            user_id=m.user_id,
            access_token=m.access_token,
            password=m.password,
            store_dir=settings.data_dir / "matrix",
            allowed_inviters=frozenset(u for u in inviters if u.startswith("matrix:")),
            device_id=m.device_id,
            trust=m.trust,  # type: ignore[arg-type]
            accept_direct_invites=settings.pairing,
        )
    return adapters


def terminal_adapter(settings: Settings) -> ConsoleAdapter:
    """The terminal chat; its prompt may be drawn before the rest of hearth is built."""
    from adapters.console import ConsoleAdapter  # prompt_toolkit and rich: only for the chat

    return ConsoleAdapter(
        history=settings.data_dir / "chat_history", files_dir=settings.data_dir / "files"
    )
