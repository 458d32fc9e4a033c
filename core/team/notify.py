"""AdminNotifier: tells the admins about access requests — in ADMIN_CHANNEL, else in their DMs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from core.clock import SystemClock
from core.events import ChatRef, User
from core.ports import ChatAdapter, Clock
from core.storage.kv import KVStore

log = logging.getLogger(__name__)

_DM_PREFIX = "dm:"


@runtime_checkable
class DirectOpener(Protocol):
    """An adapter that can open a direct conversation with a user (Slack conversations.open)."""

    async def open_direct(self, user_id: str) -> ChatRef:
        """The DM with ``user_id`` (created when needed)."""
        ...


class AdminNotifier:
    """Posts a note for the admins: one post in ADMIN_CHANNEL, or one DM per reachable admin.

    An admin's DM is known once they have written to hearth directly, or opened by adapters
    that can (``open_direct``).
    """

    def __init__(
        self,
        adapters: Mapping[str, ChatAdapter],
        kv: KVStore,
        *,
        admins: frozenset[str],
        admin_channel: ChatRef | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._adapters = adapters
        self._kv = kv
        self._admins = admins
        self._channel = admin_channel
        self._clock = clock or SystemClock()

    async def remember_dm(self, user: User, chat: ChatRef) -> None:
        """Remember where ``user`` talks to hearth directly (top level, not a thread)."""
        key = f"{_DM_PREFIX}{user.qualified}"
        if await self._kv.get(key) != chat.channel_id:
            await self._kv.set(key, chat.channel_id, now=self._clock.now())

    async def dm_of(self, qualified: str) -> ChatRef | None:
        """The DM with ``qualified`` (``platform:id``), if known or openable."""
        platform, _, uid = qualified.partition(":")
        channel = await self._kv.get(f"{_DM_PREFIX}{qualified}")
        if channel:
            return ChatRef(platform, channel)
        adapter = self._adapters.get(platform)
        opener = getattr(adapter, "open_direct", None)
        if opener is None:
            return None
        try:
            return await opener(uid)
        except Exception:
            log.warning("could not open a DM with %s", qualified, exc_info=True)
            return None

    async def tell_admins(self, text: str) -> int:
        """Post ``text`` for the admins; returns how many places it reached."""
        if self._channel is not None:
            return await self._post(self._channel, text)
        told = 0
        for admin in sorted(self._admins):
            chat = await self.dm_of(admin)
            if chat is not None:
                told += await self._post(chat, text)
        if not told:
            log.warning(
                "no admin could be told (set ADMIN_CHANNEL, or DM hearth once as an admin): %s",
                text,
            )
        return told

    async def _post(self, chat: ChatRef, text: str) -> int:
        adapter = self._adapters.get(chat.platform)
        if adapter is None:
            return 0
        try:
            await adapter.post(chat, text)
            return 1
        except Exception:
            log.warning("could not post to %s", chat.key, exc_info=True)
            return 0
