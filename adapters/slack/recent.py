"""What the Slack adapter remembers, bounded: posted messages' threads, threads hearth is in,
open approval prompts, and events already delivered."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from core.events import ApprovalRequest

log = logging.getLogger(__name__)

_REMEMBERED = 5000  # bounded memory of thread ids and open prompts


class Recent:
    """The adapter's memories, each forgetting its oldest entries beyond a bound."""

    def __init__(self) -> None:
        # thread ts per message ts we posted (so a Reaction's target equals the posted ref),
        # threads the core cares about (replies there are forwarded), open approval prompts.
        self.posted: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self.threads: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.prompts: OrderedDict[tuple[str, str], ApprovalRequest] = OrderedDict()
        # Slack redelivers an event (same event_id) when our ack was late; the dispatcher's
        # persisted events_seen is the durable guard, this one keeps retries off the sink.
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def redelivered(self, event_id: str) -> bool:
        """True when ``event_id`` was seen before (and remember it now)."""
        if not event_id:
            return False
        key = ("event", event_id)
        if key in self._seen:
            log.info("slack: dropping redelivered event %s", event_id)
            return True
        remember(self._seen, key, None)
        return False


def remember(store: OrderedDict[tuple[str, str], Any], key: tuple[str, str], value: Any) -> None:
    """Write ``key`` as the newest entry of ``store`` and forget beyond the bound."""
    store[key] = value
    store.move_to_end(key)
    while len(store) > _REMEMBERED:
        store.popitem(last=False)
