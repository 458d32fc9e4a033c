"""Per-channel settings stored in the kv table: today the `local-only` flag."""

from __future__ import annotations

from core.clock import SystemClock
from core.events import ChatRef
from core.ports import Clock
from core.storage.kv import KVStore

_PREFIX = "local_only:"


def _key(chat: ChatRef) -> str:
    # Per channel, not per thread: the flag covers every task started in the channel.
    return f"{_PREFIX}{chat.platform}:{chat.channel_id}"


class ChannelSettings:
    """Reads and writes per-channel flags; a channel in local-only mode never calls the cloud."""

    def __init__(self, kv: KVStore, *, clock: Clock | None = None) -> None:
        self._kv = kv
        self._clock = clock or SystemClock()

    async def is_local_only(self, chat: ChatRef) -> bool:
        """True when `local-only on` was set for the channel of ``chat``."""
        return await self._kv.get(_key(chat)) == "on"

    async def set_local_only(self, chat: ChatRef, on: bool) -> None:
        """Turn local-only mode on or off for the channel of ``chat``."""
        if on:
            await self._kv.set(_key(chat), "on", now=self._clock.now())
        else:
            await self._kv.delete(_key(chat))
