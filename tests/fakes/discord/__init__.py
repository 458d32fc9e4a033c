"""A loopback fake of Discord REST v10 + gateway v10 that the unmodified discord.py talks to.

Point discord.py at it with ``fake.redirect()`` (overrides ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` and restores them on ``stop()``). It keeps
server-side state a user would see (message text, edit counts, components, reactions, threads,
ephemeral replies) and reproduces the quirks in TESTING-NOTES §3: exact ``application/json``
content type, ``Via`` header and JSON body on 429, ``attachment_size_limit`` on interactions, and
blank ``content`` for guild messages that do not mention the bot when the message-content intent
was not sent in IDENTIFY.

server (state, lifecycle) · rest · gateway · users (what a test does as a user) · payloads.
"""

from tests.fakes.discord.payloads import (
    ALICE,
    BOB,
    BOT_ID,
    BOT_USER,
    GENERAL_ID,
    GUILD_ID,
    LOCKED_ID,
    MESSAGE_CONTENT_INTENT,
    OTHER_BOT,
    TOKEN,
    FakeMessage,
    InteractionRecord,
)
from tests.fakes.discord.server import FakeDiscord

__all__ = [
    "ALICE",
    "BOB",
    "BOT_ID",
    "BOT_USER",
    "GENERAL_ID",
    "GUILD_ID",
    "LOCKED_ID",
    "MESSAGE_CONTENT_INTENT",
    "OTHER_BOT",
    "TOKEN",
    "FakeDiscord",
    "FakeMessage",
    "InteractionRecord",
]
