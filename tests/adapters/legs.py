"""One "leg" per platform for the adapter contract suite: a running adapter and its server.

Each leg starts the real adapter against its server (loopback fakes for Slack and Discord, a
real Synapse for Matrix, a pipe for the console) and reads back what a user would see there.
"""

from __future__ import annotations

import asyncio
import html
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from core.events import ChatRef, Event, IncomingMessage, MessageRef, User
from core.ports import Capabilities, ChatAdapter, EventSink

WAIT = 15.0
LIMIT = 400  # a small message limit so a "long" answer is quick to stream on every platform
INTERVAL = 0.05  # edit pacing for the tests (the real intervals are checked by the bench)


class Sink:
    """Forwards to the core once it exists; records every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.target: EventSink | None = None
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()
        if self.target is not None:
            await self.target(event)

    async def wait_for(self, check: Callable[[Event], bool]) -> Event:
        """The first event matching ``check``."""
        async with asyncio.timeout(WAIT), self._changed:
            while True:
                for event in self.events:
                    if check(event):
                        return event
                await self._changed.wait()


class Leg(Protocol):
    """What the contract suite needs from each platform."""

    platform: str
    adapter: ChatAdapter
    approver: User  # may decide approvals
    stranger: User | None  # may not (None: the platform has one user only)
    can_rate_limit: bool
    tracks_edits: bool  # False: a transcript (the terminal) rather than editable messages

    async def mention(self, text: str) -> IncomingMessage:
        """A user mentions the bot with ``text``; the delivered event."""

    async def texts(self, chat: ChatRef) -> list[str]:
        """The bot's messages in ``chat`` as a user sees them now, oldest first."""

    async def edits(self, ref: MessageRef) -> int:
        """How often the server saw ``ref`` edited."""

    async def prompt_text(self, ref: MessageRef) -> str:
        """The visible text of an approval prompt (with its outcome once closed)."""

    async def click(self, ref: MessageRef, approval_id: str, who: User) -> None:
        """``who`` presses Approve (or reacts ✅) on the prompt."""

    async def refused(self, chat: ChatRef, who: User) -> bool:
        """True once ``who`` was visibly told they may not decide."""

    async def rate_limit_next_edits(self) -> None:
        """Make the server answer the next edits with 429."""


def caps(real: Capabilities) -> Capabilities:
    """The platform's capabilities with the small test limit and pacing."""
    return Capabilities(
        max_message_chars=LIMIT,
        min_edit_interval=INTERVAL,
        buttons=real.buttons,
        threads=real.threads,
        reactions=real.reactions,
    )


async def until(check: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll ``check`` until truthy."""
    async with asyncio.timeout(timeout):
        while not (value := check()):
            await asyncio.sleep(0.01)
    return value


# -- Slack --------------------------------------------------------------------------------------


@dataclass
class SlackLeg:
    """SlackAdapter (Socket Mode) against the loopback Slack fake."""

    adapter: Any
    fake: Any
    sink: Sink
    platform: str = "slack"
    approver: User = field(default_factory=lambda: User("slack", "UAPPROVER", "ana"))
    stranger: User | None = field(default_factory=lambda: User("slack", "USTRANGER", "eve"))
    can_rate_limit: bool = True
    tracks_edits: bool = True

    async def mention(self, text: str) -> IncomingMessage:
        event = self.fake.mention("C1", self.approver.id, text)
        await self.fake.send_envelope(event)
        ts = event["event"]["ts"]
        got = await self.sink.wait_for(
            lambda e: isinstance(e, IncomingMessage) and e.ref.message_id == ts
        )
        assert isinstance(got, IncomingMessage)
        return got

    def _messages(self, chat: ChatRef) -> list[Any]:
        return [
            m
            for m in self.fake.messages.values()
            if m.channel == chat.channel_id
            and m.thread_ts == chat.thread_id
            and m.user == self.fake.bot_user_id
        ]

    async def texts(self, chat: ChatRef) -> list[str]:
        return [m.text for m in self._messages(chat)]

    async def edits(self, ref: MessageRef) -> int:
        return int(self.fake.messages[ref.message_id].edits)

    async def prompt_text(self, ref: MessageRef) -> str:
        message = self.fake.messages[ref.message_id]
        return html.unescape(message.block_text)  # Slack shows &amp; as &

    async def click(self, ref: MessageRef, approval_id: str, who: User) -> None:
        message = self.fake.messages[ref.message_id]
        ids = [b["action_id"] for b in message.buttons]
        action = next(a for a in ids if a.endswith("approve"))
        await self.fake.send_envelope(self.fake.button_click(who.id, message, action))

    async def refused(self, chat: ChatRef, who: User) -> bool:
        return any("only approvers" in t for t in await self.texts(chat))

    async def rate_limit_next_edits(self) -> None:
        self.fake.rate_limit("chat.update", times=5, retry_after=0.3)


@asynccontextmanager
async def slack_leg(tmp_path: Path) -> AsyncIterator[SlackLeg]:
    from adapters.slack import DEFAULT_CAPABILITIES, SlackAdapter
    from tests.fakes.slack import FakeSlack

    async with FakeSlack() as fake:
        sink = Sink()
        adapter = SlackAdapter(
            bot_token=fake.bot_token,
            app_token=fake.app_token,
            api_url=fake.base_url,
            capabilities=caps(DEFAULT_CAPABILITIES),
        )
        task = asyncio.create_task(adapter.run(sink), name="contract:slack")
        try:
            async with asyncio.timeout(WAIT):
                await adapter.wait_ready()
            yield SlackLeg(adapter, fake, sink)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


# -- Discord ------------------------------------------------------------------------------------


@dataclass
class DiscordLeg:
    """DiscordAdapter (unmodified discord.py) against the loopback Discord fake."""

    adapter: Any
    fake: Any
    sink: Sink
    platform: str = "discord"
    approver: User = field(default_factory=lambda: User("discord", "", "Alice"))
    stranger: User | None = field(default_factory=lambda: User("discord", "", "Bob"))
    can_rate_limit: bool = True
    tracks_edits: bool = True

    def __post_init__(self) -> None:
        from tests.fakes.discord import ALICE, BOB

        self.approver = User("discord", ALICE["id"], "Alice")
        self.stranger = User("discord", BOB["id"], "Bob")

    async def mention(self, text: str) -> IncomingMessage:
        from tests.fakes.discord import GENERAL_ID

        asked = await self.fake.user_message(GENERAL_ID, text)
        got = await self.sink.wait_for(
            lambda e: isinstance(e, IncomingMessage) and e.ref.message_id == asked.id
        )
        assert isinstance(got, IncomingMessage)
        return got

    async def texts(self, chat: ChatRef) -> list[str]:
        where = chat.thread_id or chat.channel_id
        return [m.content for m in self.fake.messages_in(where)]

    async def edits(self, ref: MessageRef) -> int:
        return int(self.fake.messages[ref.message_id].edits)

    async def prompt_text(self, ref: MessageRef) -> str:
        return str(self.fake.messages[ref.message_id].content)

    async def click(self, ref: MessageRef, approval_id: str, who: User) -> None:
        from tests.fakes.discord import ALICE, BOB

        user = ALICE if who.id == ALICE["id"] else BOB
        custom = next(c for c in self.fake.messages[ref.message_id].custom_ids() if "approve" in c)
        self.last_click = await self.fake.click(ref.message_id, custom, user=user)

    async def refused(self, chat: ChatRef, who: User) -> bool:
        # Told in the thread, or privately (an ephemeral reply to the interaction).
        record = getattr(self, "last_click", None)
        private = record is not None and any(
            "approvers" in text for text in self.fake.ephemeral_replies(record)
        )
        return private or any("only approvers" in t for t in await self.texts(chat))

    async def rate_limit_next_edits(self) -> None:
        self.fake.edit_429 = [(0.3, False)] * 5  # not retried by discord.py itself


@asynccontextmanager
async def discord_leg(tmp_path: Path) -> AsyncIterator[DiscordLeg]:
    from adapters.discord import DEFAULT_CAPABILITIES, DiscordAdapter
    from tests.fakes.discord import TOKEN, FakeDiscord

    async with FakeDiscord() as fake:
        sink = Sink()
        adapter = DiscordAdapter(
            token=TOKEN,
            capabilities=caps(DEFAULT_CAPABILITIES),
            client_options={"guild_ready_timeout": 0.05},
            api_url=f"{fake.url}/api/v10",
            gateway_url=f"ws://127.0.0.1:{fake.port}/gw/",
        )
        task = asyncio.create_task(adapter.run(sink), name="contract:discord")
        try:
            await until(lambda: adapter.connected or task.done())
            if task.done():
                task.result()
            yield DiscordLeg(adapter, fake, sink)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


# -- Matrix -------------------------------------------------------------------------------------


@dataclass
class MatrixLeg:
    """MatrixAdapter (unmodified matrix-nio) against a real Synapse; a human nio client."""

    adapter: Any
    synapse: Any
    human: Any
    other: Any
    room: str
    bot_id: str
    sink: Sink
    platform: str = "matrix"
    approver: User = field(default_factory=lambda: User("matrix", ""))
    stranger: User | None = None
    can_rate_limit: bool = True
    tracks_edits: bool = True

    async def mention(self, text: str) -> IncomingMessage:
        event_id = await self.human.say(self.room, f"{self.bot_id} {text}")
        got = await self.sink.wait_for(
            lambda e: isinstance(e, IncomingMessage) and e.ref.message_id == event_id
        )
        assert isinstance(got, IncomingMessage)
        return got

    def _bot_events(self, chat: ChatRef) -> list[dict[str, Any]]:
        out = []
        for e in self.human.timeline:
            content = e.get("content", {})
            rel = content.get("m.relates_to", {})
            if (
                e.get("room_id") == chat.channel_id
                and e.get("sender") == self.bot_id
                and e.get("type") == "m.room.message"
                and rel.get("rel_type") != "m.replace"
                and (chat.thread_id is None or rel.get("event_id") == chat.thread_id)
            ):
                out.append(e)
        return out

    async def texts(self, chat: ChatRef) -> list[str]:
        await self._settle()
        return [
            self.human.content_of(e["event_id"]).get("body", "") for e in self._bot_events(chat)
        ]

    async def _settle(self) -> None:
        # What the bot sent is read back by the human's sync: wait for one more round trip.
        marker = await self.other.say(self.room, "sync marker")
        await self.human.wait_for(lambda e: e.get("event_id") == marker)

    async def edits(self, ref: MessageRef) -> int:
        await self._settle()
        return sum(
            1
            for e in self.human.timeline
            if e.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.replace"
            and e["content"]["m.relates_to"].get("event_id") == ref.message_id
        )

    async def prompt_text(self, ref: MessageRef) -> str:
        await self._settle()
        return str(self.human.content_of(ref.message_id).get("body", ""))

    async def click(self, ref: MessageRef, approval_id: str, who: User) -> None:
        client = self.human if who.id == self.human.user_id else self.other
        await client.react(self.room, ref.message_id, "✅")

    async def refused(self, chat: ChatRef, who: User) -> bool:
        await self.human.wait_for(
            lambda e: (
                e.get("sender") == self.bot_id
                and "only approvers" in e.get("content", {}).get("body", "")
            )
        )
        return True

    async def rate_limit_next_edits(self) -> None:
        # Synapse's own limiter, tightened for the bot: a burst of 2, then one event per second.
        from urllib.parse import quote

        import httpx

        async with httpx.AsyncClient(timeout=10.0) as http:
            resp = await http.post(
                f"{self.synapse.url}/_synapse/admin/v1/users/{quote(self.bot_id)}/"
                "override_ratelimit",
                json={"messages_per_second": 1, "burst_count": 2},
                headers={"Authorization": f"Bearer {self.synapse.admin.access_token}"},
            )
            resp.raise_for_status()


@asynccontextmanager
async def matrix_leg(tmp_path: Path, synapse: Any) -> AsyncIterator[MatrixLeg]:
    from adapters.matrix import DEFAULT_CAPABILITIES, MatrixAdapter
    from tests.adapters.matrix.conftest import Human

    bot_reg = await synapse.aregister("bot")
    human = Human(synapse, await synapse.aregister("ana"))
    other = Human(synapse, await synapse.aregister("eve"))
    await human.start()
    await other.start()
    sink = Sink()
    adapter = MatrixAdapter(
        homeserver=synapse.url,
        user_id=bot_reg.user_id,
        access_token=bot_reg.access_token,
        password=None,
        store_dir=tmp_path / "matrix",
        allowed_inviters=frozenset({f"matrix:{human.user_id}"}),
        capabilities=caps(DEFAULT_CAPABILITIES),
        sync_timeout_ms=1000,
    )
    task = asyncio.create_task(adapter.run(sink), name="contract:matrix")
    try:
        await until(lambda: adapter.connected or task.done())
        if task.done():
            task.result()
        room = await human.create_room(invite=[bot_reg.user_id, other.user_id])
        await human.wait_joined(room, bot_reg.user_id)
        await other.client.join(room)
        await human.wait_joined(room, other.user_id)
        leg = MatrixLeg(adapter, synapse, human, other, room, bot_reg.user_id, sink)
        leg.approver = User("matrix", human.user_id, "ana")
        leg.stranger = User("matrix", other.user_id, "eve")
        yield leg
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await human.close()
        await other.close()


# -- console ------------------------------------------------------------------------------------


@dataclass
class ConsoleLeg:
    """The terminal chat: lines in on a pipe, what it prints read back."""

    adapter: Any
    stdin: asyncio.StreamReader
    out: io.StringIO
    sink: Sink
    platform: str = "console"
    approver: User = field(default_factory=lambda: User("console", "ana", "ana"))
    stranger: User | None = None  # the person at the terminal is the only user
    can_rate_limit: bool = False  # a terminal has no rate limit
    tracks_edits: bool = False

    async def mention(self, text: str) -> IncomingMessage:
        seen = len(self.sink.events)
        self.stdin.feed_data(text.encode() + b"\n")
        got = await self.sink.wait_for(
            lambda e: isinstance(e, IncomingMessage) and self.sink.events.index(e) >= seen
        )
        assert isinstance(got, IncomingMessage)
        return got

    async def texts(self, chat: ChatRef) -> list[str]:
        return [self.out.getvalue()]  # a terminal shows one running transcript

    async def edits(self, ref: MessageRef) -> int:
        raise NotImplementedError("a terminal prints what grew; there is no message to edit")

    async def prompt_text(self, ref: MessageRef) -> str:
        return self.out.getvalue()

    async def click(self, ref: MessageRef, approval_id: str, who: User) -> None:
        self.stdin.feed_data(b"y\n")

    async def refused(self, chat: ChatRef, who: User) -> bool:
        return False

    async def rate_limit_next_edits(self) -> None:
        raise NotImplementedError


@asynccontextmanager
async def console_leg(tmp_path: Path) -> AsyncIterator[ConsoleLeg]:
    from adapters.console import ConsoleAdapter

    stdin, out = asyncio.StreamReader(), io.StringIO()
    adapter = ConsoleAdapter(
        user=User("console", "ana", "ana"), stdin=stdin, stdout=out, files_dir=tmp_path / "files"
    )
    adapter.capabilities = caps(adapter.capabilities)
    sink = Sink()
    task = asyncio.create_task(adapter.run(sink), name="contract:console")
    try:
        await until(lambda: adapter.connected)
        yield ConsoleLeg(adapter, stdin, out, sink)
    finally:
        stdin.feed_eof()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
