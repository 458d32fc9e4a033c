"""Payload builders: events, slash commands and button clicks in Slack's documented shapes.

A mixin of FakeSlack: each builder stores what a user wrote and gives unique event ids.
"""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.slack.records import (
    APP_ID,
    TEAM_ID,
    SlackMessage,
    wire,
)


class Payloads:
    """What a test sends to the app as a Slack user."""

    def event_callback(self, event: dict[str, Any], *, event_id: str | None = None) -> dict:
        """Wrap ``event`` in an ``event_callback`` envelope with a fresh (or given) event id."""
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": {"event_ts": event.get("ts", self.new_ts()), **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def user_message(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> SlackMessage:
        """Store a message written by a human (so the thread exists server-side)."""
        ts = self.new_ts()
        message = SlackMessage(channel, ts, text, user, thread_ts, history=[text])
        self.messages[ts] = message
        return message

    def mention(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None, **kw: Any
    ) -> dict:
        """``app_mention`` for ``<@BOT> text`` (top level, or inside ``thread_ts``)."""
        full = f"<@{self.bot_user_id}> {text}"
        message = self.user_message(channel, user, full, thread_ts=thread_ts)
        event = {
            "type": "app_mention",
            "user": user,
            "text": full,
            "ts": message.ts,
            "channel": channel,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event_callback(event, **kw)

    def dm(self, channel: str, user: str, text: str, **kw: Any) -> dict:
        """``message`` in an ``im`` channel."""
        message = self.user_message(channel, user, text)
        event = {
            "type": "message",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": message.ts,
            "channel": channel,
        }
        return self.event_callback(event, **kw)

    def thread_reply(self, channel: str, user: str, text: str, thread_ts: str, **kw: Any) -> dict:
        """``message`` (channel) written inside an existing thread."""
        message = self.user_message(channel, user, text, thread_ts=thread_ts)
        event = {
            "type": "message",
            "channel_type": "channel",
            "user": user,
            "text": text,
            "ts": message.ts,
            "thread_ts": thread_ts,
            "parent_user_id": self.bot_user_id,
            "channel": channel,
        }
        return self.event_callback(event, **kw)

    def reaction_added(self, user: str, name: str, message: SlackMessage) -> dict:
        """``reaction_added`` on a stored message."""
        message.reactions.append((name, user))
        event = {
            "type": "reaction_added",
            "user": user,
            "reaction": name,
            "item": {"type": "message", "channel": message.channel, "ts": message.ts},
            "item_user": message.user,
            "event_ts": self.new_ts(),
        }
        return self.event_callback(event)

    def slash_command(self, channel: str, user: str, text: str, command: str = "/hearth") -> dict:
        """A slash command payload as Slack sends it (Socket Mode ``slash_commands``)."""
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"http://127.0.0.1:{self.port}/api/response",
            "trigger_id": f"trig-{next(self._ids)}",
        }

    def button_click(self, user: str, message: SlackMessage, action_id: str) -> dict:
        """``block_actions`` for a click on the button ``action_id`` of a stored message."""
        button = next((b for b in message.buttons if b["action_id"] == action_id), None)
        block_id = next(
            (
                b.get("block_id", "actions")
                for b in message.blocks
                if b.get("type") == "actions" and button in b.get("elements", [])
            ),
            "actions",
        )
        return {
            "type": "block_actions",
            "user": {
                "id": user,
                "username": user.lower(),
                "name": user.lower(),
                "team_id": TEAM_ID,
            },
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
                **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
            },
            "trigger_id": f"trig-{next(self._ids)}",
            "team": {"id": TEAM_ID, "domain": "fake"},
            "channel": {"id": message.channel, "name": "general"},
            "message": wire(message),
            "response_url": f"http://127.0.0.1:{self.port}/api/response",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": (button or {}).get("value", action_id),
                    "text": {"type": "plain_text", "text": "button"},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
