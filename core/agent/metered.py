"""MeteredLLM: wraps a client so every call is budget-checked (cloud) and recorded."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.agent.context import message_chars
from core.budget import Budget, estimate_cost
from core.errors import BudgetExceeded, LLMError
from core.events import ChatRef
from core.llm.base import LLMClient, Message, StreamEvent, ToolSpec, TurnEnd, Usage
from core.llm.prices import price_of
from core.usage import UsageRecorder

log = logging.getLogger(__name__)

UsageListener = Callable[[str, str, Usage, float], Awaitable[None]]  # provider, model, usage, $


@dataclass(frozen=True, slots=True)
class Meter:
    """Who pays for calls: the task and user, the recorder and the budget."""

    recorder: UsageRecorder
    budget: Budget | None
    task_id: str | None
    user: str | None
    on_usage: UsageListener | None = None
    cloud_max_tokens: int = 4096
    channel: ChatRef | None = None  # where the task runs (per-channel budget share)
    purpose_prefix: str = ""  # "scheduled:" for scheduled runs, so `usage` shows them apart


class MeteredLLM:
    """An LLMClient that checks the budget before cloud calls and records every call."""

    def __init__(self, inner: LLMClient, meter: Meter, *, purpose: str) -> None:
        self.inner = inner
        self.provider = inner.provider
        self.model = inner.model
        self.num_ctx = inner.num_ctx
        self._meter = meter
        self.purpose = purpose

    @property
    def is_cloud(self) -> bool:
        """True when calls cost money."""
        return price_of(self.provider, self.model).input_per_mtok > 0

    def with_purpose(self, purpose: str) -> MeteredLLM:
        """The same client and meter, recorded under another purpose."""
        return MeteredLLM(self.inner, self._meter, purpose=purpose)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str = "",
        tools: Sequence[ToolSpec] = (),
        format: dict[str, Any] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Check the budget (cloud only), stream, then record the TurnEnd's usage."""
        m = self._meter
        if self.is_cloud and m.budget is not None:
            estimate_tokens = message_chars(messages, system, tools) // 3 + 1  # generous
            estimate = estimate_cost(
                self.provider, self.model, estimate_tokens, m.cloud_max_tokens
            )
            check = await m.budget.check(m.user, estimate, channel=m.channel)
            if not check.allowed:
                raise BudgetExceeded(check.reason)
        try:
            async for event in self._recorded(messages, system, tools, format):
                yield event
        except LLMError as exc:
            # A call that failed is an error, not a call: `usage` shows the two apart.
            await m.recorder.record(
                provider=self.provider,
                model=self.model,
                purpose=m.purpose_prefix + self.purpose,
                usage=Usage(),
                task_id=m.task_id,
                user=m.user,
                error=str(exc) or type(exc).__name__,
            )
            raise

    async def _recorded(
        self,
        messages: Sequence[Message],
        system: str,
        tools: Sequence[ToolSpec],
        format: dict[str, Any] | None,
    ) -> AsyncIterator[StreamEvent]:
        m = self._meter
        async for event in self.inner.stream(messages, system=system, tools=tools, format=format):
            if isinstance(event, TurnEnd):
                row = await m.recorder.record(
                    provider=self.provider,
                    model=self.model,
                    purpose=m.purpose_prefix + self.purpose,
                    usage=event.usage,
                    task_id=m.task_id,
                    user=m.user,
                )
                if m.on_usage is not None:
                    await m.on_usage(self.provider, self.model, event.usage, row.cost_usd)
            yield event
