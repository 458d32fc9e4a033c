"""Fixtures for Matrix tests: a session-wide real Synapse, a human nio client, a running bot."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import nio
import pytest

from adapters.matrix import MatrixAdapter
from core.events import Event
from core.ports import Capabilities
from tests.fakes.synapse import Registration, SynapseServer

WAIT = 15.0  # upper bound for any single wait on the real server; never a timing assertion


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    """One real Synapse for the whole test session (skipped when it is not installed)."""
    if importlib.util.find_spec("synapse") is None:
        pytest.skip("matrix-synapse is not installed (pip install -e '.[dev]')")
    server = SynapseServer(tmp_path_factory.mktemp("synapse"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Recorder:
    """A recording event sink with a bounded wait."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    async def __call__(self, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = WAIT) -> Event:
        """The first recorded event matching ``predicate`` (waits for it)."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                await self._changed.wait()


class Human:
    """A person on the homeserver: an unmodified nio client that syncs in the background."""

    def __init__(
        self, hs: SynapseServer, reg: Registration, store_path: Path | None = None
    ) -> None:
        self.reg = reg
        self.user_id = reg.user_id
        # With a store path the human's client has encryption on, as Element has by default.
        config = nio.AsyncClientConfig(
            encryption_enabled=store_path is not None, store_sync_tokens=False
        )
        self.client = nio.AsyncClient(
            hs.url, reg.user_id, store_path=str(store_path) if store_path else "", config=config
        )
        self.client.restore_login(reg.user_id, reg.device_id, reg.access_token)
        self.timeline: list[dict[str, Any]] = []  # every room event seen, in sync order
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Initial sync, then keep syncing in a background task."""
        await self.client.sync(timeout=0)
        await self.keys()
        self._task = asyncio.create_task(self._loop(), name=f"human:{self.user_id}")

    async def keys(self) -> None:
        """What Element does between syncs: move keys, and trust every device it sees."""
        client = self.client
        if client.olm is None:
            return
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        for device in client.device_store:
            if not client.olm.is_device_verified(device):
                client.verify_device(device)

    async def _loop(self) -> None:
        while True:
            resp = await self.client.sync(timeout=1000 if self.client.olm else 5000)
            if not isinstance(resp, nio.SyncResponse):
                await asyncio.sleep(0.1)
                continue
            await self.keys()
            async with self._changed:
                for room_id, info in resp.rooms.join.items():
                    for event in info.timeline.events:
                        self.timeline.append({**event.source, "room_id": room_id})
                self._changed.notify_all()

    async def close(self) -> None:
        """Stop syncing and close the HTTP session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def create_room(
        self, *, invite: list[str], direct: bool = False, encrypted: bool = False
    ) -> str:
        """A new private room with ``invite`` invited."""
        state = []
        if encrypted:
            state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        resp = await self.client.room_create(
            invite=invite,
            is_direct=direct,
            initial_state=state,
            preset=nio.RoomPreset.trusted_private_chat if direct else nio.RoomPreset.private_chat,
        )
        assert isinstance(resp, nio.RoomCreateResponse), resp
        return resp.room_id

    async def send(self, room_id: str, content: dict[str, Any]) -> str:
        """Send a raw ``m.room.message`` content; returns the event id."""
        resp = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(resp, nio.RoomSendResponse), resp
        return resp.event_id

    async def say(self, room_id: str, text: str, *, thread: str | None = None) -> str:
        """Send plain text, optionally inside the thread rooted at ``thread``."""
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if thread:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": thread},
            }
        return await self.send(room_id, content)

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        """Annotate ``event_id`` with ``key``."""
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        resp = await self.client.room_send(
            room_id, "m.reaction", content, ignore_unverified_devices=True
        )
        assert isinstance(resp, nio.RoomSendResponse), resp
        return resp.event_id

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = WAIT
    ) -> dict[str, Any]:
        """The first timeline event matching ``predicate`` (waits for it)."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for event in self.timeline:
                    if predicate(event):
                        return event
                await self._changed.wait()

    async def wait_until(self, check: Callable[[], bool], timeout: float = WAIT) -> None:
        """Wait until ``check()`` holds after some sync."""
        async with asyncio.timeout(timeout), self._changed:
            while not check():
                await self._changed.wait()

    async def wait_joined(self, room_id: str, user_id: str) -> None:
        """Wait until ``user_id`` has joined ``room_id`` (an invite is not enough)."""
        await self.wait_for(
            lambda e: (
                e.get("room_id") == room_id
                and e.get("type") == "m.room.member"
                and e.get("state_key") == user_id
                and e.get("content", {}).get("membership") == "join"
            )
        )

    def content_of(self, event_id: str) -> dict[str, Any]:
        """What a client shows for ``event_id``: the newest edit's ``m.new_content``, if any."""
        original = next((e for e in self.timeline if e.get("event_id") == event_id), None)
        if original is None:
            return {}
        content = original["content"]
        for event in self.timeline:
            rel = event.get("content", {}).get("m.relates_to", {})
            if (
                rel.get("rel_type") == "m.replace"
                and rel.get("event_id") == event_id
                and event.get("sender") == original["sender"]
            ):
                content = event["content"]["m.new_content"]
        return content

    def edits_of(self, event_id: str) -> int:
        """How many ``m.replace`` edits of ``event_id`` this client has seen."""
        return sum(
            1
            for e in self.timeline
            if e.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.replace"
            and e["content"]["m.relates_to"].get("event_id") == event_id
        )

    def bot_messages(self, room_id: str, bot_id: str) -> list[dict[str, Any]]:
        """The bot's original (non-edit) messages in ``room_id``."""
        return [
            e
            for e in self.timeline
            if e.get("room_id") == room_id
            and e.get("sender") == bot_id
            and e.get("type") == "m.room.message"
            and e.get("content", {}).get("m.relates_to", {}).get("rel_type") != "m.replace"
        ]


@pytest.fixture
async def make_human(
    synapse: SynapseServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Callable[..., Any]]:
    """Factory of started human clients (closed at teardown); ``encrypted`` as Element is."""
    humans: list[Human] = []

    async def make(prefix: str = "human", *, encrypted: bool = False) -> Human:
        store = tmp_path_factory.mktemp(f"{prefix}-keys") if encrypted else None
        human = Human(synapse, await synapse.aregister(prefix), store)
        await human.start()
        humans.append(human)
        return human

    yield make
    for human in humans:
        await human.close()


class BotProcess:
    """A MatrixAdapter running in a task, as bot/app.py would run it."""

    def __init__(
        self, adapter: MatrixAdapter, sink: Callable[[Event], Any], reg: Registration
    ) -> None:
        self.adapter = adapter
        self.reg = reg
        self.sink = sink
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Run the adapter and wait until its initial sync is done."""
        self.task = asyncio.create_task(self.adapter.run(self.sink), name="matrix-bot")
        async with asyncio.timeout(WAIT):
            while not self.adapter.connected:
                if self.task.done():
                    self.task.result()  # raises the startup error
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Cancel the adapter's run() and wait for its cleanup."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None


@pytest.fixture
async def make_bot(synapse: SynapseServer) -> AsyncIterator[Callable[..., Any]]:
    """Factory of running bots: ``await make_bot(reg, store_dir, allowed=..., sink=...)``."""
    bots: list[BotProcess] = []

    async def make(
        reg: Registration,
        store_dir: Path,
        *,
        allowed: frozenset[str] = frozenset(),
        sink: Callable[[Event], Any] | None = None,
        password_login: bool = False,
        capabilities: Capabilities | None = None,
        replay_skew: float = 5.0,
        start: bool = True,
        trust: str = "allowed",
    ) -> BotProcess:
        adapter = MatrixAdapter(
            homeserver=synapse.url,
            user_id=reg.user_id,
            access_token=None if password_login else reg.access_token,
            password=reg.password if password_login else None,
            store_dir=store_dir,
            allowed_inviters=allowed,
            capabilities=capabilities,
            sync_timeout_ms=5000,
            replay_skew=replay_skew,
            trust=trust,  # type: ignore[arg-type]
        )
        bot = BotProcess(adapter, sink or Recorder(), reg)
        bots.append(bot)
        if start:
            await bot.start()
        return bot

    yield make
    for bot in bots:
        await bot.stop()


FAST = Capabilities(max_message_chars=16_000, min_edit_interval=0.2, buttons=False)


async def ana_and_bot(
    synapse: SynapseServer, make_human: Callable[..., Any], make_bot: Callable[..., Any], tmp: Path
) -> tuple[Any, Registration, BotProcess]:
    """Ana, allowed to use hearth, and a bot (FAST edits) not started yet."""
    ana = await make_human("ana")
    reg = await synapse.aregister("hearth")
    bot = await make_bot(
        reg,
        tmp / "m",
        start=False,
        capabilities=FAST,
        allowed=frozenset({f"matrix:{ana.user_id}"}),
    )
    return ana, reg, bot


@contextlib.asynccontextmanager
async def running_hearth(
    tmp: Path, synapse: SynapseServer, reg: Registration, **env: str
) -> AsyncIterator[tuple[Any, Any]]:
    """hearth as ``hearth run`` builds it on ``synapse`` as ``reg``, with a fake Ollama;
    yields ``(ollama, app)`` once the Matrix adapter is connected."""
    from bot.config import Settings
    from bot.wiring import build_app
    from tests.fakes.ollama import FakeOllama

    async with FakeOllama() as ollama:
        (tmp / "ws").mkdir(exist_ok=True)
        settings = Settings.from_env(
            {
                "HEARTH_DATA_DIR": str(tmp / "data"),
                "HEARTH_WORKSPACE": str(tmp / "ws"),
                "OLLAMA_HOST": ollama.url,
                "MATRIX_HOMESERVER": synapse.url,
                "MATRIX_USER_ID": reg.user_id,
                "MATRIX_PASSWORD": reg.password,
                "VERIFICATION_ENABLED": "false",
                **env,
            }
        )
        app = build_app(settings, console=False)
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop))
        try:
            await app.ready.wait()
            async with asyncio.timeout(WAIT):
                while not app.adapters["matrix"].connected:
                    await asyncio.sleep(0.05)
            yield ollama, app
        finally:
            stop.set()
            await task
