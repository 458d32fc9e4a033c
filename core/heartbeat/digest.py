"""The digest: a day of stored ticks as text (also for the terminal) and as a PNG timeline."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from core.clock import utc
from core.heartbeat.chart import Layout, Span, draw_timeline
from core.heartbeat.report import DigestStats, render_digest
from core.heartbeat.values import Perception
from core.storage.ticks import TickRow, TickStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Digest:
    """The digest's text, and its picture when one was drawn."""

    text: str
    png: bytes | None = None
    layout: Layout | None = None
    filename: str = "heartbeat.png"


def model_calls_per_day(rows: Sequence[TickRow]) -> dict[str, tuple[int, int]]:
    """UTC day -> (model calls, of which fell back to rules) over stored ticks."""
    out: dict[str, tuple[int, int]] = {}
    for row in rows:
        if row.source in ("model", "fallback"):
            day = utc(row.at).strftime("%Y-%m-%d")
            calls, fallbacks = out.get(day, (0, 0))
            out[day] = (calls + 1, fallbacks + (row.source == "fallback"))
    return out


def stats_of(rows: Sequence[TickRow]) -> DigestStats:
    """Counts for the text digest."""
    failing: Counter[str] = Counter()
    for row in rows:
        for check, status in Perception.loads(row.perception, row.at).statuses().items():
            if status != "ok":
                failing[check] += 1
    return DigestStats(
        ticks=len(rows),
        by_severity={s: sum(r.severity == s for r in rows) for s in ("ok", "warning", "critical")},
        by_source=dict(Counter(r.source for r in rows)),
        reports=sum(r.reported for r in rows),
        labeled=dict(Counter(r.label for r in rows if r.label)),
        failing_checks=dict(failing),
        model_calls=model_calls_per_day(rows),
    )


async def build_digest(
    store: TickStore,
    *,
    now: float,
    hours: float,
    current: Perception | None = None,
    interval: float = 600.0,
    picture: bool = True,
) -> Digest:
    """Text (always) and PNG (when ``picture``) of the ticks of the last ``hours``."""
    since = now - hours * 3600
    rows = await store.history(since=since)
    if current is None and rows:
        current = Perception.loads(rows[-1].perception, rows[-1].at)
    text = render_digest(stats_of(rows), current, hours=hours)
    if not picture:
        return Digest(text)
    ticks = [
        Span(
            r.at,
            r.at,
            Perception.loads(r.perception, r.at).statuses(),
            reported=r.reported,
            actions=bool(r.decision.get("actions")),
        )
        for r in rows
    ]
    try:
        png, layout = draw_timeline(
            ticks,
            since=since,
            until=now,
            model_calls=model_calls_per_day(rows),
            interval=interval,
        )
    except (ImportError, OSError, ValueError) as exc:
        # The text digest is the fallback: a picture that cannot be drawn costs nothing else.
        log.warning("heartbeat digest picture not drawn: %s", exc)
        return Digest(text)
    return Digest(text, png, layout, f"heartbeat-{utc(now):%Y-%m-%d-%H%M}.png")
