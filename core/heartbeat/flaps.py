"""Per-check memory of what the channel heard, so a re-failure is never silent.

A check that fails again within the cooldown after its recovery was reported is *flapping*:
it gets one message per check per cooldown window, edited with the count and latest times, and
its recovery edits that same message. The book survives restarts (stored as JSON).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from core.clock import utc
from core.errors import PlatformError
from core.events import ChatRef, MessageRef
from core.heartbeat.values import Perception, ProbeResult
from core.ports import ChatAdapter

log = logging.getLogger(__name__)

MAX_TIMES = 4  # latest events shown in a flap message


@dataclass
class CheckLog:
    """What the channel last heard about one check, and its recent failures."""

    heard: str = "ok"  # the status the channel's last word on this check says
    alerted_at: float | None = None  # the full report that opened the current window
    failures: list[float] = field(default_factory=list)  # failure reports in the window
    recoveries: list[float] = field(default_factory=list)  # recovery reports in the window
    message: list[str] | None = None  # [platform, channel, thread, message id] of the flap msg

    def ref(self) -> MessageRef | None:
        """The flap message of the current window, if one was posted."""
        if not self.message:
            return None
        platform, channel, thread, mid = self.message
        return MessageRef(ChatRef(platform, channel, thread or None), mid)


class FlapBook:
    """Per-check logs; the Heartbeat asks it what to post or edit, then tells it what went out."""

    def __init__(self, cooldown: float) -> None:
        self._cooldown = cooldown
        self.logs: dict[str, CheckLog] = {}

    # -- persistence ------------------------------------------------------------------------------

    def dumps(self) -> str:
        """JSON for the key/value store."""
        return json.dumps({c: asdict(log) for c, log in self.logs.items()})

    def load(self, text: str | None) -> None:
        """Restore what ``dumps`` wrote (anything unreadable starts empty)."""
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        if isinstance(data, dict):
            self.logs = {
                str(c): CheckLog(**{k: v for k, v in d.items() if k in CheckLog.__annotations__})
                for c, d in data.items()
                if isinstance(d, dict)
            }

    def seed(self, statuses: Mapping[str, str]) -> None:
        """What the last full report said, for checks the book knows nothing of yet."""
        for check, status in statuses.items():
            self.logs.setdefault(check, CheckLog(heard=status))

    # -- questions --------------------------------------------------------------------------------

    def _log(self, check: str) -> CheckLog:
        return self.logs.setdefault(check, CheckLog())

    def in_window(self, check: str, now: float) -> bool:
        """True when the check's last full alert is less than a cooldown old."""
        at = self._log(check).alerted_at
        return at is not None and now - at < self._cooldown

    def message_of(self, check: str, now: float) -> MessageRef | None:
        """The check's own message of the current window, to edit instead of posting anew."""
        return self._log(check).ref() if self.in_window(check, now) else None

    def wrong(self, statuses: Mapping[str, str]) -> list[str]:
        """Checks whose current status differs from the channel's last word on them."""
        return [c for c, s in statuses.items() if self._log(c).heard != s]

    # -- what went out ----------------------------------------------------------------------------

    def full_report(self, statuses: Mapping[str, str], now: float) -> None:
        """A full report said ``statuses``: it opens a window for newly failing checks."""
        for check, status in statuses.items():
            log = self._log(check)
            if status != "ok" and log.heard == "ok":
                log.alerted_at, log.failures, log.recoveries = now, [now], []
                log.message = None
            elif status == "ok" and log.heard != "ok":
                log.recoveries.append(now)
            log.heard = status

    def said(self, check: str, status: str, now: float, ref: MessageRef) -> None:
        """The check's own message (``ref``, posted or edited) said ``check`` is ``status``."""
        log = self._log(check)
        if not self.in_window(check, now):
            log.alerted_at, log.failures, log.recoveries = now, [], []  # a new window
        if status == "ok":
            log.recoveries.append(now)
        else:
            log.failures.append(now)
        log.heard = status
        chat = ref.chat
        log.message = [chat.platform, chat.channel_id, chat.thread_id or "", ref.message_id]

    # -- the message ------------------------------------------------------------------------------

    def text(self, check: str, result: ProbeResult, now: float) -> str:
        """The check's own message as it will stand once ``result`` (seen at ``now``) is said."""
        log = self._log(check)
        fresh = not self.in_window(check, now)
        failures = ([] if fresh else log.failures) + ([] if result.ok else [now])
        recoveries = ([] if fresh else log.recoveries) + ([now] if result.ok else [])
        n = len(failures)
        span = _span(self._cooldown)
        icon = {"ok": "✅", "critical": "🔴"}.get(result.status, "⚠️")
        if result.ok:
            flapped = f" (flapping: failed {_times(n)} in the {span})" if n > 1 else ""
            head = f"{icon} **Heartbeat: {check} recovered**{flapped}"
        elif len(recoveries) and n > 1:
            since = now - recoveries[-1]
            head = (
                f"{icon} **Heartbeat: {check} is flapping** — failed again {_ago(since)} after "
                f"recovering: {_ordinal(n)} time in the {span}"
            )
        else:
            head = f"{icon} **Heartbeat: {check} {result.status.upper()}**"
        events = [(t, "failed") for t in failures] + [(t, "recovered") for t in recoveries]
        latest = sorted(events, reverse=True)[:MAX_TIMES]
        lines = [
            head,
            "Latest: " + ", ".join(f"{what} {utc(t):%H:%M:%S}" for t, what in latest) + " UTC",
            f"Now: {result.summary}" if not result.ok else "Now: ok",
        ]
        return "\n".join(lines)


def _span(seconds: float) -> str:
    return "last hour" if seconds == 3600 else f"last {_ago(seconds)}"


def _ago(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


async def say_checks(
    adapter: ChatAdapter,
    channel: ChatRef,
    book: FlapBook,
    checks: list[str],
    perception: Perception,
    now: float,
) -> list[MessageRef]:
    """Post or edit each check's own message; the book learns only what really went out."""
    results = {r.check: r for r in perception.results}
    out: list[MessageRef] = []
    for check in checks:
        result = results.get(check)
        if result is None:
            continue
        text = book.text(check, result, now)
        ref = book.message_of(check, now)
        try:
            if ref is not None:
                await adapter.edit(ref, text)
            else:
                ref = await adapter.post(channel, text)
        except PlatformError as exc:
            # Not marked as heard, so the next tick says it again.
            log.warning("heartbeat note on %s not sent: %s", check, exc)
            continue
        book.said(check, result.status, now, ref)
        out.append(ref)
    return out
