"""Budget: hard daily spend caps (global and per user) checked before every cloud call."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.clock import SystemClock
from core.events import ChatRef
from core.llm.prices import cost_usd
from core.ports import Clock
from core.storage.usage import UsageStore
from core.usage import day_start

log = logging.getLogger(__name__)

WARN_AT = (0.5, 0.75, 0.9)


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    """Whether a cloud call may be made; ``reason`` says why not, in words for the thread."""

    allowed: bool
    reason: str = ""
    spent_today: float = 0.0
    estimate: float = 0.0


def estimate_cost(provider: str, model: str, prompt_tokens: int, max_completion: int) -> float:
    """Upper-bound cost of a call: the prompt plus the completion cap, at list price."""
    return cost_usd(provider, model, prompt_tokens, max_completion)


class Budget:
    """Daily caps in USD (UTC day). A call that would pass a cap is refused before it is made.

    ``None`` caps mean unlimited. Warnings at 50/75/90 % are returned once per cap and day.
    """

    def __init__(
        self,
        store: UsageStore,
        *,
        daily_usd: float | None,
        user_daily_usd: float | None,
        clock: Clock | None = None,
        channel_cap: Callable[[ChatRef], Awaitable[float | None]] | None = None,
    ) -> None:
        self._store = store
        self._channel_cap = channel_cap  # a channel's daily share (`settings budget`)
        self._daily = daily_usd
        self._user_daily = user_daily_usd
        self._clock = clock or SystemClock()
        self._warned: set[tuple[float, str, float]] = set()  # (day, scope, level)

    @property
    def limited(self) -> bool:
        """True when any cap is set."""
        return self._daily is not None or self._user_daily is not None

    async def check(
        self, user: str | None, estimate: float, *, channel: ChatRef | None = None
    ) -> BudgetCheck:
        """Refuse when ``estimate`` on top of today's spend would pass a cap."""
        since = day_start(self._clock.now())
        if channel is not None and self._channel_cap is not None:
            cap = await self._channel_cap(channel)
            if cap is not None:
                here = await self._store.spent_in_channel(
                    since, platform=channel.platform, channel_id=channel.channel_id
                )
                if here + estimate > cap:
                    return BudgetCheck(
                        False,
                        f"this channel's daily budget share (${cap:.2f}, `settings budget`) "
                        f"would be passed: ${here:.4f} spent here today, this call could cost "
                        f"up to ${estimate:.4f}",
                        here,
                        estimate,
                    )
        spent = await self._store.spent_usd(since)
        if self._daily is not None and spent + estimate > self._daily:
            return BudgetCheck(
                False,
                f"the daily budget (DAILY_BUDGET_USD=${self._daily:.2f}) would be passed: "
                f"${spent:.4f} spent today, this call could cost up to ${estimate:.4f}",
                spent,
                estimate,
            )
        if user is not None and self._user_daily is not None:
            mine = await self._store.spent_usd(since, user=user)
            if mine + estimate > self._user_daily:
                return BudgetCheck(
                    False,
                    f"your daily budget (USER_DAILY_BUDGET_USD=${self._user_daily:.2f}) would "
                    f"be passed: ${mine:.4f} spent today, this call could cost up to "
                    f"${estimate:.4f}",
                    mine,
                    estimate,
                )
        return BudgetCheck(True, spent_today=spent, estimate=estimate)

    async def warnings(self, user: str | None) -> list[str]:
        """Newly crossed 50/75/90 % levels (each reported once per cap per day)."""
        day = day_start(self._clock.now())
        out: list[str] = []
        scopes: list[tuple[str, float | None, str | None]] = [("daily", self._daily, None)]
        if user is not None:
            scopes.append((f"user {user}", self._user_daily, user))
        for scope, cap, who in scopes:
            if not cap:
                continue
            spent = await self._store.spent_usd(day, user=who)
            crossed = [lvl for lvl in WARN_AT if spent >= cap * lvl]
            if not crossed:
                continue
            level = max(crossed)
            key = (day, scope, level)
            if key in self._warned:
                continue
            self._warned.update((day, scope, lvl) for lvl in crossed)
            out.append(
                f"⚠️ {int(level * 100)}% of the {scope} budget used: "
                f"${spent:.4f} of ${cap:.2f} today"
            )
        return out
