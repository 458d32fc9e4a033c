"""Where things live on Discord: the adapter's bounded memory of threads, replies and messages.

A bot that runs for months must not grow without limit: every memory forgets its oldest
entries. Losing one only costs a fallback (a thread lookup, a fetch, one extra 404).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, TypeVar

from adapters.discord.translate import ChannelInfo, channel_info
from core.events import ChatRef, MessageRef

_K = TypeVar("_K")
_V = TypeVar("_V")


class Recent(OrderedDict[_K, _V]):
    """A dict that forgets its least recently written entries beyond ``limit``."""

    def __init__(self, limit: int = 10_000) -> None:
        super().__init__()
        self._limit = limit

    def __setitem__(self, key: _K, value: _V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self._limit:
            self.popitem(last=False)


class Places:
    """What the adapter learnt about where chats and bot messages live."""

    def __init__(self) -> None:
        self.threads: Recent[str, str] = Recent()  # thread id -> parent channel id
        self.reply_mode: Recent[str, bool] = Recent()  # chat keys whose task lives in replies
        self.reply_chats: Recent[str, ChatRef] = Recent()  # bot reply id -> task chat
        self.thread_names: Recent[str, str] = Recent()  # message id -> its thread's name
        self.dm_reply: Recent[str, str] = Recent()  # DM channel -> user message to answer
        self.locations: Recent[str, str] = Recent()  # bot message id -> channel holding it
        self.prompts: Recent[str, str] = Recent()  # prompt message id -> prompt text
        self._chat_locks: Recent[str, asyncio.Lock] = Recent()

    def lock(self, key: str) -> asyncio.Lock:
        """The lock of one chat: two first posts at once must not both start its thread."""
        lock = self._chat_locks.get(key)
        if lock is None:
            lock = self._chat_locks[key] = asyncio.Lock()
        return lock

    def where(self, channel: Any, channel_id: int, guild_id: int | None) -> ChannelInfo:
        """The kind of channel an event came from, also when discord.py has not cached it."""
        if channel is not None:
            return channel_info(channel, thread_parents=self.threads)
        cid = str(channel_id)
        if guild_id is None:
            return ChannelInfo(cid, "dm")
        if cid in self.threads:
            return ChannelInfo(cid, "thread", self.threads[cid])
        return ChannelInfo(cid, "channel")

    def homes(self, ref: MessageRef) -> list[str]:
        """Discord channels that may hold a bot message, most likely first."""
        known = self.locations.get(ref.message_id)
        if known:
            return [known]
        chat = ref.chat
        if chat.thread_id and chat.key not in self.reply_mode:
            return [chat.thread_id, chat.channel_id]
        return [chat.channel_id]


def thread_name(text: str) -> str:
    """The name of a thread started from a request: its first line, shortened."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return (first[:90] or "hearth task").strip() or "hearth task"
