"""The driver's Slack and Discord sides: the loopback fakes, mentions, and the app's writes.

Times are ``time.monotonic()`` in the driver: a mention starts just before it is pushed to the
app, a write counts when the fake receives the request.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.e2e.protocol import Write

CHANNEL = "C0BENCH"


class SlackSide:
    """Socket Mode and the Web API (``tests/fakes/slack/``); mentions in a channel."""

    def __init__(self) -> None:
        from tests.fakes.slack import FakeSlack

        self.fake = FakeSlack()
        self.called = self.fake.called
        self._starts: dict[str, float] = {}
        self._seen = 0

    async def __aenter__(self) -> SlackSide:
        await self.fake.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.fake.__aexit__(*exc)

    def addresses(self) -> dict[str, Any]:
        return {
            "slack_url": self.fake.base_url,
            "bot_token": self.fake.bot_token,
            "app_token": self.fake.app_token,
        }

    async def wait_socket(self) -> None:
        await self.fake.wait_socket(timeout=30)

    async def mention(self, text: str) -> str:
        event = self.fake.mention(CHANNEL, "UANA", text)
        root = str(event["event"]["ts"])
        self._starts[root] = time.monotonic()
        await self.fake.send_envelope(event, timeout=30)
        return root

    def start(self, root: str) -> float:
        return self._starts[root]

    def writes(self) -> list[Write]:
        out = []
        calls = self.fake.calls
        for call in calls[self._seen :]:
            if call.method == "chat.postMessage":
                root = call.params.get("thread_ts")
            elif call.method == "chat.update":
                msg = self.fake.messages.get(str(call.params.get("ts")))
                root = msg.thread_ts if msg else None
            else:
                continue
            if root:
                text = str(call.params.get("text") or "")
                out.append(Write(call.at, root, text, call.method == "chat.postMessage"))
        self._seen = len(calls)
        return out


def _timed_discord() -> Any:
    """FakeDiscord that notes when each bot message was created or edited, and where."""
    import asyncio

    from tests.fakes.discord import FakeDiscord

    class TimedDiscord(FakeDiscord):
        def __init__(self) -> None:
            super().__init__()
            self.called = asyncio.Event()
            self.log: list[Write] = []

        def _root(self, cid: str, mid: str) -> str:
            # A thread started from a message has the message's id; a reply names its message.
            if cid in self.threads:
                return cid
            return self.messages[mid].reference or cid

        async def _create_message(self, cid: str, body: dict[str, Any], files: Any = None) -> Any:
            at = time.monotonic()
            resp = await super()._create_message(cid, body, files)
            if resp.status == 200:
                msg = self.messages[json.loads(resp.body)["id"]]
                self._note(Write(at, self._root(cid, msg.id), msg.content, True))
            return resp

        async def _edit_message(self, cid: str, mid: str, body: dict[str, Any]) -> Any:
            at = time.monotonic()
            resp = await super()._edit_message(cid, mid, body)
            if resp.status == 200 and "content" in body:
                msg = self.messages[mid]
                self._note(Write(at, self._root(cid, mid), msg.content, False))
            return resp

        def _note(self, write: Write) -> None:
            self.log.append(write)
            self.called.set()

    return TimedDiscord()


class DiscordSide:
    """Gateway and REST (``tests/fakes/discord/``); Alice mentions the bot in #general."""

    def __init__(self) -> None:
        self.fake = _timed_discord()
        self.called = self.fake.called
        self._starts: dict[str, float] = {}
        self._seen = 0

    async def __aenter__(self) -> DiscordSide:
        await self.fake.start()  # not redirected: the app is pointed at it by URL
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.fake.stop()

    def addresses(self) -> dict[str, Any]:
        from tests.fakes.discord import ALICE, BOB, TOKEN

        return {
            "env": {
                "DISCORD_TOKEN": TOKEN,
                "DISCORD_API_URL": f"{self.fake.url}/api/v10",
                "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{self.fake.port}/gw/",
            },
            "user": f"discord:{ALICE['id']}",
            "admin": f"discord:{BOB['id']}",
        }

    async def wait_socket(self) -> None:
        await self.fake.wait_for(lambda: self.fake.sessions and self.fake.identify, timeout=30)

    async def mention(self, text: str) -> str:
        from tests.fakes.discord import GENERAL_ID

        at = time.monotonic()
        msg = await self.fake.user_message(GENERAL_ID, text)
        self._starts[msg.id] = at
        return str(msg.id)

    def start(self, root: str) -> float:
        return self._starts[root]

    def writes(self) -> list[Write]:
        out = self.fake.log[self._seen :]
        self._seen += len(out)
        return out
