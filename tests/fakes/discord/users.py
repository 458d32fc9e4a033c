"""What a test does as a Discord user: write, click, run /commands, react, open a DM.

A mixin of FakeDiscord: each action is stored and dispatched on the gateway as Discord would.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from tests.fakes.discord.payloads import (
    ALICE,
    APP_ID,
    BOT_ID,
    BOT_USER,
    GUILD_ID,
    FakeMessage,
    InteractionRecord,
    member_payload,
    user_payload,
)


class Users:
    """The actions of people in the fake guild."""

    def dm_channel(self, user: dict[str, Any]) -> str:
        """The DM channel between ``user`` and the bot (created on first use)."""
        for cid, ch in self.channels.items():
            if ch["type"] == 1 and ch["recipients"][0]["id"] == user["id"]:
                return cid
        cid = self.snowflake()
        self.channels[cid] = {"id": cid, "type": 1, "recipients": [user_payload(user)]}
        return cid

    async def user_message(
        self,
        channel_id: str,
        text: str,
        *,
        author: dict[str, Any] = ALICE,
        mention: bool = True,
    ) -> FakeMessage:
        """``author`` writes ``text`` (prefixed with a bot mention when ``mention``)."""
        content = f"<@{BOT_ID}> {text}" if mention else text
        msg = self._store(channel_id, author, content)
        if mention:
            msg.mentions = [user_payload(BOT_USER)]
        await self.dispatch("MESSAGE_CREATE", self._message_event(msg))
        return msg

    async def click(
        self, message_id: str, custom_id: str, *, user: dict[str, Any] = ALICE
    ) -> InteractionRecord:
        """``user`` presses the button ``custom_id`` on a message (INTERACTION_CREATE type 3)."""
        msg = self.messages[message_id]
        iid, token = self.snowflake(), secrets.token_urlsafe(16)
        record = InteractionRecord(iid, token, message_id, user["id"], time.monotonic())
        self.interactions[iid] = record
        await self._interact(
            iid,
            token,
            user,
            msg.channel_id,
            type=3,
            data={"custom_id": custom_id, "component_type": 2},
            message=self._message_payload(msg),
        )
        return record

    async def slash(
        self, channel_id: str, name: str, text: str, *, user: dict[str, Any] = ALICE
    ) -> InteractionRecord:
        """``user`` runs the registered command ``/name text`` (INTERACTION_CREATE type 2)."""
        command = next(c for c in self.app_commands if c["name"] == name)
        iid, token = self.snowflake(), secrets.token_urlsafe(16)
        record = InteractionRecord(
            iid, token, "", user["id"], time.monotonic(), channel_id=channel_id
        )
        self.interactions[iid] = record
        option = command["options"][0]["name"]
        await self._interact(
            iid,
            token,
            user,
            channel_id,
            type=2,
            data={
                "id": command["id"],
                "name": name,
                "type": 1,
                "options": [{"name": option, "type": 3, "value": text}],
            },
        )
        return record

    async def _interact(
        self,
        iid: str,
        token: str,
        user: dict[str, Any],
        channel_id: str,
        *,
        type: int,
        data: dict[str, Any],
        **extra: Any,
    ) -> None:
        """Dispatch INTERACTION_CREATE as Discord sends it, in a guild channel or a DM."""
        channel = self._channel_payload(channel_id)
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": APP_ID,
            "type": type,
            "data": data,
            "channel": channel,
            "channel_id": channel_id,
            **extra,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": "2248473465835073",
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID},
            "context": 0,
            "attachment_size_limit": 10_485_760,
        }
        if "guild_id" in channel:
            payload["guild_id"] = GUILD_ID
            payload["guild_locale"] = "en-US"
            payload["member"] = member_payload(user)
        else:
            payload["user"] = user_payload(user)
            payload["context"] = 1
        await self.dispatch("INTERACTION_CREATE", payload)

    async def react(self, message_id: str, emoji: str, *, user: dict[str, Any] = ALICE) -> None:
        """``user`` adds the unicode ``emoji`` to a message (MESSAGE_REACTION_ADD)."""
        msg = self.messages[message_id]
        msg.reactions.append((user["id"], emoji))
        payload: dict[str, Any] = {
            "user_id": user["id"],
            "channel_id": msg.channel_id,
            "message_id": msg.id,
            "emoji": {"id": None, "name": emoji},
            "type": 0,
            "burst": False,
            "message_author_id": msg.author["id"],
        }
        if "guild_id" in self._channel_payload(msg.channel_id):
            payload["guild_id"] = GUILD_ID
            payload["member"] = member_payload(user)
        await self.dispatch("MESSAGE_REACTION_ADD", payload)
