"""ProgressCard: one status message per task, edited in place within the platform's edit rate.

Shows the plan steps (✅ done, ⏳ running, ❌ failed, ◻️ pending), the current tool, whether
the local model or Claude is working, tokens and cost. Updates are coalesced: at most one
edit per ``capabilities.min_edit_interval``; ``RateLimited`` postpones the next edit.
"""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum

from core.clock import SystemClock
from core.errors import PlatformError, RateLimited
from core.events import ChatRef, MessageRef
from core.metrics import Metrics
from core.ports import ChatAdapter, Clock

log = logging.getLogger(__name__)

MAX_FAILED_EDITS = 5


class StepState(StrEnum):
    """The state of one plan step."""

    PENDING = "◻️"
    RUNNING = "⏳"
    DONE = "✅"
    FAILED = "❌"


class ProgressCard:
    """The task's status message; call ``start()``, update freely, then ``close()``."""

    def __init__(
        self,
        adapter: ChatAdapter,
        chat: ChatRef,
        *,
        title: str,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._adapter = adapter
        self._chat = chat
        self._title = " ".join(title.split())
        self._clock = clock or SystemClock()
        self._metrics = metrics or Metrics()
        self._interval = adapter.capabilities.min_edit_interval
        self._limit = adapter.capabilities.max_message_chars
        self.steps: list[str] = []
        self.states: list[StepState] = []
        self.labels: list[str] = []
        self.activity = ""
        self.tokens: dict[str, int] = {}
        self.cost_usd = 0.0
        self.status = "⏳ Working on"
        self.ref: MessageRef | None = None
        self._shown = ""
        self._next_allowed = float("-inf")
        self._closed = False
        self._failed_edits = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> MessageRef | None:
        """Post the card and start the edit loop; a failed post leaves the task running."""
        text = self.render()
        try:
            self.ref = await self._adapter.post(self._chat, text)
            self._shown = text
            self._metrics.inc("hearth_chat_posts_total", platform=self._chat.platform)
        except PlatformError as exc:
            log.warning("could not post the progress card in %s: %s", self._chat.key, exc)
        self._next_allowed = self._clock.monotonic() + self._interval
        self._task = asyncio.create_task(self._loop(), name=f"progress:{self._chat.key}")
        return self.ref

    def set_plan(self, steps: list[str]) -> None:
        """Show the plan; every step starts pending."""
        self.steps = list(steps)
        self.states = [StepState.PENDING] * len(steps)
        self.labels = [""] * len(steps)
        self._touch()

    def step(self, index: int, state: StepState, label: str | None = None) -> None:
        """Set a step's state (and optionally who works on it, e.g. "Claude")."""
        if 0 <= index < len(self.states):
            self.states[index] = state
            if label is not None:
                self.labels[index] = label
            self._touch()

    def set_activity(self, text: str) -> None:
        """What is happening right now (current tool, thinking, escalating)."""
        self.activity = text
        self._touch()

    def add_usage(self, who: str, tokens: int, cost_usd: float) -> None:
        """Count tokens for ``who`` ("local" or "Claude") and add to the cost."""
        self.tokens[who] = self.tokens.get(who, 0) + tokens
        self.cost_usd += cost_usd
        self._touch()

    def render(self) -> str:
        """The card's text, cut to the platform limit."""
        title = self._title if len(self._title) <= 120 else self._title[:119] + "…"
        lines = [f"{self.status}: {title}"]
        for i, (step, state) in enumerate(zip(self.steps, self.states, strict=True)):
            label = f" — {self.labels[i]}" if self.labels[i] else ""
            lines.append(f"{state.value} {i + 1}. {step}{label}")
        if self.activity and not self._closed:
            lines.append(f"🔧 {self.activity}")
        if self.tokens:
            usage = " · ".join(f"{who}: {n:,} tokens" for who, n in self.tokens.items())
            lines.append(f"{usage} · ${self.cost_usd:.4f}")
        text = "\n".join(lines)
        if len(text) > self._limit:
            text = text[: self._limit - 1] + "…"
        return text

    async def close(self, status: str) -> None:
        """Show the final status (e.g. "✅ Done") and wait until the last edit is made."""
        self.status = status
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await self._task

    def _touch(self) -> None:
        if not self._closed:
            self._wake.set()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            delay = self._next_allowed - self._clock.monotonic()
            if delay > 0:
                await self._clock.sleep(delay)  # updates meanwhile are coalesced
            final = self._closed
            shown = await self._flush()
            if final and (shown or self._failed_edits > MAX_FAILED_EDITS):
                return

    async def _flush(self) -> bool:
        """Edit the card if its text changed; False when the edit failed (retry is armed)."""
        text = self.render()
        if self.ref is None or text == self._shown:
            return True
        try:
            await self._adapter.edit(self.ref, text)
        except RateLimited as exc:
            self._next_allowed = self._clock.monotonic() + exc.retry_after
            self._failed_edits += 1
            if self._failed_edits <= MAX_FAILED_EDITS:
                self._wake.set()
            return False
        except PlatformError as exc:
            log.warning("progress card edit failed in %s: %s", self._chat.key, exc)
            self._failed_edits += 1
            self._next_allowed = self._clock.monotonic() + max(self._interval, 1.0)
            if self._failed_edits <= MAX_FAILED_EDITS:
                self._wake.set()
            return False
        self._failed_edits = 0
        self._shown = text
        self._metrics.inc("hearth_chat_edits_total", platform=self._chat.platform)
        self._next_allowed = self._clock.monotonic() + self._interval
        return True
