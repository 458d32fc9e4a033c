"""The driver's Matrix side: a real Synapse, a person who mentions the bot, her sync.

Synapse (``tests/fakes/synapse.py``) runs as this process's child, so its CPU is not the app's.
Ana creates a room with the bot and Bob in it (three members: a group room, not a DM) and
mentions the bot there; her nio client syncs and reads the bot's thread posts and edits. Times
are Synapse's ``origin_server_ts`` (ms) of the mention and of each post or edit: when the
server accepted it, as with the Slack and Discord fakes, and the same clock for both ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import tempfile
from pathlib import Path
from typing import Any

from bench.e2e.protocol import Unavailable, Write

# Everything new in a sync, however many events a burst of 50 tasks makes.
_FILTER = {"room": {"timeline": {"limit": 1000}}, "presence": {"types": []}}


class MatrixSide:
    """Synapse plus Ana's client; ``async with MatrixSide() as side``."""

    def __init__(self) -> None:
        self.called = asyncio.Event()
        self._log: list[Write] = []
        self._seen = 0
        self._ts: dict[str, float] = {}  # event id -> origin_server_ts (s)
        self._roots: dict[str, str] = {}  # the bot's post -> its thread
        self._members: set[str] = set()
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> MatrixSide:
        if importlib.util.find_spec("synapse") is None:
            raise Unavailable("matrix-synapse is not installed (pip install -e '.[dev]')")
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        import httpx
        import nio

        from tests.fakes.synapse import SynapseServer, SynapseStartError

        tmp = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="hearth-bench-hs-"))
        server = SynapseServer(Path(tmp))
        try:
            await asyncio.to_thread(server.start)
        except (SynapseStartError, OSError) as exc:
            raise Unavailable(f"Synapse did not start: {str(exc).splitlines()[0]}") from exc
        self._stack.push_async_callback(asyncio.to_thread, server.stop)
        self.server = server
        self.bot = await server.aregister("hearth")
        ana = await server.aregister("ana")
        bob = await server.aregister("bob")
        config = nio.AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)
        self.client = nio.AsyncClient(server.url, ana.user_id, config=config)
        self.client.restore_login(ana.user_id, ana.device_id, ana.access_token)
        self._stack.push_async_callback(self.client.close)
        created = await self.client.room_create(
            invite=[self.bot.user_id, bob.user_id], preset=nio.RoomPreset.private_chat
        )
        if not isinstance(created, nio.RoomCreateResponse):
            raise RuntimeError(f"could not create the bench room: {created}")
        self.room = created.room_id
        async with httpx.AsyncClient(timeout=10) as http:
            joined = await http.post(
                f"{server.url}/_matrix/client/v3/join/{self.room}",
                headers={"Authorization": f"Bearer {bob.access_token}"},
                json={},
            )
            joined.raise_for_status()
        self.ana, self.bob = ana, bob
        first = await self.client.sync(timeout=0, sync_filter=_FILTER)
        if not isinstance(first, nio.SyncResponse):
            raise RuntimeError(f"Ana's first sync failed: {first}")
        self._take(first)
        task = asyncio.create_task(self._sync(), name="bench:ana-sync")
        self._stack.push_async_callback(_cancel, task)

    def addresses(self) -> dict[str, Any]:
        return {
            "env": {
                "MATRIX_HOMESERVER": self.server.url,
                "MATRIX_USER_ID": self.bot.user_id,
                "MATRIX_ACCESS_TOKEN": self.bot.access_token,
            },
            "user": f"matrix:{self.ana.user_id}",
            "admin": f"matrix:{self.bob.user_id}",
            "device_id": self.bot.device_id,
            "room": self.room,
        }

    async def _sync(self) -> None:
        import nio

        while True:
            resp = await self.client.sync(timeout=30_000, sync_filter=_FILTER)
            if isinstance(resp, nio.SyncResponse):
                self._take(resp)
            else:
                await asyncio.sleep(0.1)

    def _take(self, resp: Any) -> None:
        """Note the room's new events: members, mention times, the bot's posts and edits."""
        info = resp.rooms.join.get(self.room)
        for event in info.timeline.events if info else []:
            self._event(event.source)
        self.called.set()

    def _event(self, source: dict[str, Any]) -> None:
        event_id, sender = source.get("event_id", ""), source.get("sender")
        self._ts[event_id] = source.get("origin_server_ts", 0) / 1000
        content = source.get("content") or {}
        if source.get("type") == "m.room.member":
            if content.get("membership") == "join":
                self._members.add(str(source.get("state_key")))
            return
        if sender != self.bot.user_id or source.get("type") != "m.room.message":
            return
        rel = content.get("m.relates_to") or {}
        if rel.get("rel_type") == "m.thread":
            self._roots[event_id] = rel["event_id"]
            text, root, post = str(content.get("body", "")), rel["event_id"], True
        elif rel.get("rel_type") == "m.replace" and rel.get("event_id") in self._roots:
            new = content.get("m.new_content") or {}
            text, root, post = str(new.get("body", "")), self._roots[rel["event_id"]], False
        else:
            return
        self._log.append(Write(self._ts[event_id], root, text, post))

    async def wait_socket(self) -> None:
        async with asyncio.timeout(60):
            while self.bot.user_id not in self._members:
                self.called.clear()
                await self.called.wait()

    async def mention(self, text: str) -> str:
        import nio

        content = {
            "msgtype": "m.text",
            "body": f"{self.bot.user_id} {text}",
            "m.mentions": {"user_ids": [self.bot.user_id]},
        }
        resp = await self.client.room_send(self.room, "m.room.message", content)
        if not isinstance(resp, nio.RoomSendResponse):
            raise RuntimeError(f"Ana could not send: {resp}")
        return str(resp.event_id)

    def start(self, root: str) -> float:
        return self._ts[root]

    def writes(self) -> list[Write]:
        out = self._log[self._seen :]
        self._seen += len(out)
        return out


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
