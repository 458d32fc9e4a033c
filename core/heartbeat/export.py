"""Export heartbeat ticks as JSONL (prompt, decision, label) for preference tuning (DPO pairs)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TextIO

from core.clock import utc
from core.storage.ticks import TickStore

_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, *, now: float) -> float:
    """``--since`` as epoch seconds: "7d", "24h", "30m" ago, or an ISO date/time (UTC if naive)."""
    value = text.strip()
    ago = _AGO.match(value.lower())
    if ago:
        return now - float(ago.group(1)) * _UNITS[ago.group(2)]
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"--since {text!r} is invalid: expected e.g. 7d, 24h, 30m or 2026-11-01[T09:00]"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


async def export_ticks(
    store: TickStore, out: TextIO, *, labeled_only: bool = False, since: float | None = None
) -> int:
    """Write one JSON object per tick to ``out``; returns how many were written.

    Each line: ``at`` (ISO 8601 UTC), ``prompt`` (the chat messages the model saw, or null when
    the model was not asked), ``decision`` (the model's answer, or the rules' decision),
    ``source`` (model|fallback|rules), ``severity`` (effective) and ``label``
    (chosen|rejected|null). A 👍 tick is a "chosen" completion for its prompt, a 👎 tick a
    "rejected" one.
    """
    count = 0
    for row in await store.history(since=since, labeled_only=labeled_only):
        line = {
            "at": utc(row.at).isoformat(timespec="seconds"),
            "prompt": json.loads(row.prompt) if row.prompt else None,
            "decision": row.decision,
            "source": row.source,
            "severity": row.severity,
            "label": row.label,
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    return count
