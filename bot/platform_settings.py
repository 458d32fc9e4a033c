"""The chat platforms' settings: Slack, Discord and Matrix credentials and endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.env_reader import EnvReader
from core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """Slack credentials: Socket Mode (app token) or HTTP Events (signing secret)."""

    bot_token: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    api_url: str | None = None  # Web API base URL override, ends with "/"
    http_addr: str = "127.0.0.1:3000"  # where HTTP Events mode listens

    @property
    def socket_mode(self) -> bool:
        """Socket Mode is the default whenever an app token is present."""
        return self.app_token is not None


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """Discord bot token, and where its REST API and gateway are (a proxy or a test fake)."""

    token: str = field(repr=False)
    api_url: str | None = None  # REST base, e.g. http://127.0.0.1:8081/api/v10
    gateway_url: str | None = None  # gateway websocket, e.g. ws://127.0.0.1:8081/


@dataclass(frozen=True, slots=True)
class MatrixSettings:
    """Matrix homeserver and bot account."""

    homeserver: str
    user_id: str
    access_token: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    device_id: str | None = None
    trust: str = "allowed"  # MATRIX_TRUST: allowed | all | verified


def slack_settings(r: EnvReader) -> SlackSettings | None:
    bot = r.optional("SLACK_BOT_TOKEN")
    app = r.optional("SLACK_APP_TOKEN")
    secret = r.optional("SLACK_SIGNING_SECRET")
    if not (bot or app or secret):
        return None
    if not bot:
        raise ConfigError(
            "SLACK_BOT_TOKEN is required when SLACK_APP_TOKEN or "
            "SLACK_SIGNING_SECRET is set (it starts with xoxb-)"
        )
    if not (app or secret):
        raise ConfigError(
            "SLACK_APP_TOKEN (Socket Mode, starts with xapp-) or "
            "SLACK_SIGNING_SECRET (HTTP Events mode) is required with SLACK_BOT_TOKEN"
        )
    if app and not app.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    api_url = r.optional_url("SLACK_API_URL")
    if api_url and not api_url.endswith("/"):
        api_url += "/"  # slack_sdk joins method names onto it
    return SlackSettings(
        bot_token=bot,
        app_token=app,
        signing_secret=secret,
        api_url=api_url,
        http_addr=r.addr("SLACK_HTTP_ADDR") or "127.0.0.1:3000",
    )


def discord_settings(r: EnvReader) -> DiscordSettings | None:
    token = r.optional("DISCORD_TOKEN")
    if not token:
        return None
    return DiscordSettings(
        token=token,
        api_url=r.optional_url("DISCORD_API_URL"),
        gateway_url=_ws_url(r, "DISCORD_GATEWAY_URL"),
    )


def _ws_url(r: EnvReader, name: str) -> str | None:
    raw = r.optional(name)
    if raw is not None and not raw.startswith(("ws://", "wss://")):
        raise ConfigError(f"{name}={raw!r} is invalid: expected a ws:// or wss:// URL")
    return raw


def matrix_settings(r: EnvReader) -> MatrixSettings | None:
    hs = r.optional_url("MATRIX_HOMESERVER")
    user = r.optional("MATRIX_USER_ID")
    token = r.optional("MATRIX_ACCESS_TOKEN")
    password = r.optional("MATRIX_PASSWORD")
    if not (hs or user or token or password):
        return None
    if not hs:
        raise ConfigError(
            "MATRIX_HOMESERVER is required for Matrix (e.g. https://matrix.example.org)"
        )
    if not user or not user.startswith("@") or ":" not in user:
        raise ConfigError("MATRIX_USER_ID must be a full Matrix id like @hearth:example.org")
    if not (token or password):
        raise ConfigError("MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD is required for Matrix")
    return MatrixSettings(
        homeserver=hs,
        user_id=user,
        access_token=token,
        password=password,
        device_id=r.optional("MATRIX_DEVICE_ID"),
        trust=r.choice("MATRIX_TRUST", "allowed", {"allowed", "all", "verified"}),
    )
