"""Per-channel settings stored in the kv table: today the `local-only` flag."""

from __future__ import annotations

from core.clock import SystemClock
from core.events import ChatRef
from core.ports import Clock
from core.storage.kv import KVStore

_PREFIX = "local_only:"
_CACHED = 10_000  # channels whose settings are kept in memory


class _Cached:
    """The kv rows of one kind of channel setting, read once and written through.

    Only this process writes them (chat commands), so the copy is exact, and asking costs
    no database round trip on the path to a task's first post.
    """

    def __init__(self, kv: KVStore, clock: Clock) -> None:
        self._kv = kv
        self._clock = clock
        self._rows: dict[str, str | None] = {}

    async def get(self, key: str) -> str | None:
        if key not in self._rows:
            if len(self._rows) >= _CACHED:
                self._rows.clear()
            self._rows[key] = await self._kv.get(key)
        return self._rows[key]

    async def set(self, key: str, value: str | None) -> None:
        self._rows.pop(key, None)  # a failed write must not leave a stale copy
        if value is None:
            await self._kv.delete(key)
        else:
            await self._kv.set(key, value, now=self._clock.now())
        self._rows[key] = value


def _key(chat: ChatRef) -> str:
    # Per channel, not per thread: the flag covers every task started in the channel.
    return f"{_PREFIX}{chat.platform}:{chat.channel_id}"


class ChannelSettings:
    """Reads and writes per-channel flags; a channel in local-only mode never calls the cloud."""

    def __init__(self, kv: KVStore, *, clock: Clock | None = None) -> None:
        self._rows = _Cached(kv, clock or SystemClock())

    async def is_local_only(self, chat: ChatRef) -> bool:
        """True when `local-only on` was set for the channel of ``chat``."""
        return await self._rows.get(_key(chat)) == "on"

    async def set_local_only(self, chat: ChatRef, on: bool) -> None:
        """Turn local-only mode on or off for the channel of ``chat``."""
        await self._rows.set(_key(chat), "on" if on else None)


_TASKS_PREFIX = "channel_tasks:"
_BUDGET_PREFIX = "channel_budget:"
TASK_POLICIES = ("everyone", "approvers")


def _channel(chat: ChatRef) -> str:
    return f"{chat.platform}:{chat.channel_id}"


def parse_budget_share(text: str) -> str:
    """``25%`` or ``$2`` / ``2`` (USD a day) as stored; ValueError with the expected forms."""
    raw = text.strip().replace(" ", "")
    try:
        if raw.endswith("%"):
            value = float(raw[:-1])
            if not 0 < value <= 100:
                raise ValueError
            return f"{value:g}%"
        value = float(raw.removeprefix("$"))
        if value < 0:
            raise ValueError
        return f"{value:.2f}"
    except ValueError:
        raise ValueError(
            f"{text!r} is not a budget share: write a share of DAILY_BUDGET_USD like `25%`, "
            "dollars a day like `$2`, or `off`"
        ) from None


def budget_cap_usd(share: str | None, daily_usd: float | None) -> float | None:
    """The channel's daily cap in USD from its stored share (None = no channel cap)."""
    if not share:
        return None
    if share.endswith("%"):
        return None if daily_usd is None else daily_usd * float(share[:-1]) / 100
    return float(share)


class ChannelPolicy:
    """Per-channel settings beyond local-only: who may start tasks, and a daily budget share."""

    def __init__(self, kv: KVStore, *, clock: Clock | None = None) -> None:
        self._kv = kv
        self._clock = clock or SystemClock()
        self._policies = _Cached(kv, self._clock)  # read before every task starts

    async def task_policy(self, chat: ChatRef) -> str:
        """``everyone`` (allowed users, the default) or ``approvers``."""
        return await self._policies.get(_TASKS_PREFIX + _channel(chat)) or "everyone"

    async def set_task_policy(self, chat: ChatRef, policy: str) -> None:
        """Set who may start tasks in the channel of ``chat``."""
        if policy not in TASK_POLICIES:
            raise ValueError(f"expected one of {', '.join(TASK_POLICIES)}")
        key = _TASKS_PREFIX + _channel(chat)
        await self._policies.set(key, None if policy == "everyone" else policy)

    async def timezone(self, chat: ChatRef, default: str = "UTC") -> str:
        """The channel's timezone for schedules (`settings tz`)."""
        return await channel_timezone(self._kv, chat, default)

    async def set_timezone(self, chat: ChatRef, name: str | None) -> None:
        """Set or clear (None) the channel's timezone."""
        await set_channel_timezone(self._kv, chat, name, now=self._clock.now())

    async def budget_share(self, chat: ChatRef) -> str | None:
        """The stored share (``25%`` or dollars like ``2.00``), or None."""
        return await self._kv.get(_BUDGET_PREFIX + _channel(chat))

    async def set_budget_share(self, chat: ChatRef, share: str | None) -> None:
        """Set (a value from parse_budget_share) or clear (None) the channel's budget share."""
        if share is None:
            await self._kv.delete(_BUDGET_PREFIX + _channel(chat))
        else:
            await self._kv.set(_BUDGET_PREFIX + _channel(chat), share, now=self._clock.now())


_TZ_PREFIX = "channel_tz:"


def check_timezone(name: str) -> str:
    """The IANA zone name as given, or ValueError naming the expected form."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a timezone: use an IANA name like Europe/Berlin or UTC"
        ) from None
    return name


async def channel_timezone(kv: KVStore, chat: ChatRef, default: str) -> str:
    """The channel's timezone for schedules (`settings tz`), else ``default`` (SCHEDULE_TZ)."""
    return await kv.get(_TZ_PREFIX + _channel(chat)) or default


async def set_channel_timezone(
    kv: KVStore, chat: ChatRef, name: str | None, *, now: float
) -> None:
    """Set (a checked IANA name) or clear the channel's timezone."""
    if name is None:
        await kv.delete(_TZ_PREFIX + _channel(chat))
    else:
        await kv.set(_TZ_PREFIX + _channel(chat), check_timezone(name), now=now)
