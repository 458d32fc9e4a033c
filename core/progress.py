"""ProgressCard: one status message per task, edited in place within the platform's edit rate.

Shows the plan steps (✅ done, ⏳ running, ❌ failed, ◻️ pending), the current tool, whether
the local model or Claude is working, tokens and cost. Updates are coalesced: at most one
edit per ``capabilities.min_edit_interval``, through the chat's ``EditPacer`` (shared with
the answer and approval prompts), which also owns rate-limit handling.
"""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum

from core.clock import SystemClock
from core.errors import PlatformError
from core.events import ChatRef, MessageRef
from core.metrics import Metrics
from core.pacer import EditPacer
from core.ports import ChatAdapter, Clock

log = logging.getLogger(__name__)

WORKING = "⏳ Working on"
QUEUED = "⏳ Queued"


class StepState(StrEnum):
    """The state of one plan step."""

    PENDING = "◻️"
    RUNNING = "⏳"
    DONE = "✅"
    WARNED = "⚠️"  # finished, but something it needed was not approved
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
        pacer: EditPacer | None = None,
    ) -> None:
        self._adapter = adapter
        self._chat = chat
        self._title = " ".join(title.split())
        self._clock = clock or SystemClock()
        self._metrics = metrics or Metrics()
        self._pacer = pacer or EditPacer(
            adapter, key=chat.key, clock=self._clock, metrics=self._metrics
        )
        self._limit = adapter.capabilities.max_message_chars
        self.steps: list[str] = []
        self.states: list[StepState] = []
        self.labels: list[str] = []
        self.activity = ""
        self.tokens: dict[str, int] = {}
        self.cost_usd = 0.0
        self.status = WORKING
        self.waiting = ""  # why a queued task waits, under the title until it starts
        self.detail = ""  # why it ended so, under the steps (a failure's reason)
        self.ref: MessageRef | None = None
        self._posting: asyncio.Future[MessageRef | None] | None = None
        self._closed = False

    def queue(self, note: str) -> asyncio.Future[MessageRef | None]:
        """Post the card for a task still waiting for a slot; ``note`` says why it waits.

        The card is the thread's one sign that the task was taken, queued or not: when the
        task starts, the same card says so (no separate "queued" message).
        """
        self.status, self.waiting = QUEUED, note
        return self._begin()

    def start_soon(self) -> asyncio.Future[MessageRef | None]:
        """Begin posting the card (once), or show a queued card as working; the future is
        its ref, None when it was not posted."""
        if self.waiting and not self._closed:
            self.status, self.waiting = WORKING, ""
            self._touch()
        return self._begin()

    def _begin(self) -> asyncio.Future[MessageRef | None]:
        if self._posting is None:
            self._posting = asyncio.ensure_future(self._post())
        return self._posting

    async def start(self) -> MessageRef | None:
        """Post the card, or wait for the post already begun; a failed post leaves no card."""
        # Shielded: a task stopped while its card is in flight still gets its card closed.
        return await asyncio.shield(self.start_soon())

    async def _post(self) -> MessageRef | None:
        text = self.render()
        try:
            self.ref = await self._adapter.post(self._chat, text)
            self._pacer.wrote(self.ref, text)
            self._metrics.inc("hearth_chat_posts_total", platform=self._chat.platform)
        except PlatformError as exc:
            log.warning("could not post the progress card in %s: %s", self._chat.key, exc)
            return None
        if self._closed:  # the task ended while the card was in flight
            self._pacer.edit(self.ref, self.render())
        else:
            self._touch()  # updates made while the post was in flight
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
        if self.waiting:
            lines.append(self.waiting)
        for i, (step, state) in enumerate(zip(self.steps, self.states, strict=True)):
            label = f" — {self.labels[i]}" if self.labels[i] else ""
            lines.append(f"{state.value} {i + 1}. {step}{label}")
        if self.activity and not self._closed:
            lines.append(f"🔧 {self.activity}")
        if self.tokens:
            usage = " · ".join(f"{who}: {n:,} tokens" for who, n in self.tokens.items())
            lines.append(f"{usage} · ${self.cost_usd:.4f}")
        if self.detail and self._closed:
            lines.append(self.detail)
        text = "\n".join(lines)
        if len(text) > self._limit:
            text = text[: self._limit - 1] + "…"
        return text

    def close_soon(self, status: str, detail: str = "") -> asyncio.Future[bool] | None:
        """Queue the final status; the future is True once it is shown (None: no card)."""
        self.status = status
        self.detail = detail
        self.waiting = ""
        self._closed = True
        if self.ref is None:
            return None
        return self._pacer.edit(self.ref, self.render())

    async def close(self, status: str, detail: str = "") -> None:
        """Show the final status (e.g. "✅ Done") and wait until the last edit is made."""
        done = self.close_soon(status, detail)
        if done is not None:
            await done

    def _touch(self) -> None:
        if not self._closed and self.ref is not None:
            self._pacer.edit(self.ref, self.render(), draft=True)
