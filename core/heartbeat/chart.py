"""The digest's picture: one strip per check coloured by status over time, report and action
marks, and model calls / fallbacks per day. Drawn with Pillow, imported only when drawn."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.clock import utc

COLOURS = {
    "ok": (46, 160, 67),
    "warning": (230, 160, 0),
    "critical": (210, 40, 40),
    "none": (225, 225, 225),  # no tick covers this time
}
INK = (40, 40, 40)
GRID = (200, 200, 200)
REPORT_MARK = (30, 30, 30)
ACTION_MARK = (40, 90, 200)
CALLS_BAR = (70, 120, 200)
FALLBACK_BAR = (230, 120, 40)


@dataclass(frozen=True, slots=True)
class Span:
    """One tick's statuses, holding from ``start`` until ``end``."""

    start: float
    end: float
    statuses: Mapping[str, str]
    reported: bool = False
    actions: bool = False


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things are drawn, so tests can look at the pixel of a given check and time."""

    since: float
    until: float
    checks: tuple[str, ...]
    width: int = 1000
    left: int = 190
    right: int = 20
    top: int = 54
    row: int = 26
    gap: int = 6
    days_panel: int = 130

    @property
    def plot_width(self) -> int:
        """Pixels of the time axis."""
        return self.width - self.left - self.right

    @property
    def strips_bottom(self) -> int:
        """y just below the last strip."""
        return self.top + len(self.checks) * (self.row + self.gap)

    @property
    def height(self) -> int:
        """Total image height."""
        return self.strips_bottom + 30 + self.days_panel

    def x(self, t: float) -> int:
        """The x of time ``t`` on the strips."""
        frac = (t - self.since) / max(1.0, self.until - self.since)
        return self.left + round(min(1.0, max(0.0, frac)) * self.plot_width)

    def row_y(self, check: str) -> int:
        """The top y of ``check``'s strip."""
        return self.top + self.checks.index(check) * (self.row + self.gap)


def spans(ticks: Sequence[Span], until: float, max_gap: float) -> list[Span]:
    """Each tick held until the next one, at most ``max_gap`` (a stopped hearth is grey)."""
    out = []
    for i, tick in enumerate(ticks):
        end = ticks[i + 1].start if i + 1 < len(ticks) else until
        held = min(end, tick.start + max_gap)
        out.append(Span(tick.start, held, tick.statuses, tick.reported, tick.actions))
    return out


def draw_timeline(
    ticks: Sequence[Span],
    *,
    since: float,
    until: float,
    model_calls: Mapping[str, tuple[int, int]],
    interval: float = 600.0,
) -> tuple[bytes, Layout]:
    """The PNG bytes of the digest picture, and its layout."""
    from PIL import Image, ImageDraw, ImageFont  # only when a digest is drawn

    checks = tuple(sorted({c for t in ticks for c in t.statuses})) or ("(no checks)",)
    layout = Layout(since, until, checks)
    img = Image.new("RGB", (layout.width, layout.height), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=13)
    small = ImageFont.load_default(size=11)
    hours = (until - since) / 3600
    draw.text((10, 8), f"Heartbeat, last {hours:g} h (UTC)", fill=INK, font=font)
    _time_axis(draw, layout, small)
    for check in checks:
        y = layout.row_y(check)
        draw.text((10, y + 6), check[:26], fill=INK, font=font)
        strip = (layout.left, y, layout.left + layout.plot_width, y + layout.row)
        draw.rectangle(strip, fill=COLOURS["none"])
    for span in spans(ticks, until, max_gap=2.5 * interval):
        x0, x1 = layout.x(span.start), max(layout.x(span.end), layout.x(span.start) + 1)
        for check, status in span.statuses.items():
            y = layout.row_y(check)
            draw.rectangle((x0, y, x1, y + layout.row), fill=COLOURS.get(status, GRID))
        if span.reported:  # a report went out: a mark above the strips
            mark = [(x0 - 4, layout.top - 9), (x0 + 4, layout.top - 9), (x0, layout.top - 2)]
            draw.polygon(mark, fill=REPORT_MARK)
        if span.actions:  # actions were suggested: a dot below the strips
            yb = layout.strips_bottom + 2
            draw.ellipse((x0 - 3, yb, x0 + 3, yb + 6), fill=ACTION_MARK)
    _days(draw, layout, model_calls, font, small)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue(), layout


def _time_axis(draw: Any, layout: Layout, font: Any) -> None:
    hours = (layout.until - layout.since) / 3600
    step = 3600 * max(1, round(hours / 12))
    t = (layout.since // step + 1) * step
    while t < layout.until:
        x = layout.x(t)
        draw.line((x, layout.top - 12, x, layout.strips_bottom), fill=GRID)
        draw.text((x - 14, layout.top - 26), f"{utc(t):%H:%M}", fill=INK, font=font)
        t += step


def _days(
    draw: Any, layout: Layout, calls: Mapping[str, tuple[int, int]], font: Any, small: Any
) -> None:
    top = layout.strips_bottom + 30
    draw.text((10, top), "Model calls per day", fill=INK, font=font)
    draw.rectangle((10, top + 22, 20, top + 32), fill=CALLS_BAR)
    draw.text((24, top + 20), "calls", fill=INK, font=small)
    draw.rectangle((10, top + 40, 20, top + 50), fill=FALLBACK_BAR)
    draw.text((24, top + 38), "fell back to rules", fill=INK, font=small)
    days = sorted(calls.items())[-14:]
    if not days:
        draw.text((layout.left, top + 40), "no model calls", fill=INK, font=font)
        return
    peak = max(max(c, f) for _, (c, f) in days) or 1
    chart_h = layout.days_panel - 40
    slot = min(120, layout.plot_width // len(days))
    base = top + 18 + chart_h
    for i, (day, (n, fallbacks)) in enumerate(days):
        x = layout.left + i * slot + 8
        for j, (value, colour) in enumerate(((n, CALLS_BAR), (fallbacks, FALLBACK_BAR))):
            h = round(value / peak * (chart_h - 14))
            bx = x + j * 26
            draw.rectangle((bx, base - h, bx + 22, base), fill=colour)
            draw.text((bx + 2, base - h - 13), str(value), fill=INK, font=small)
        draw.text((x, base + 3), day[5:], fill=INK, font=small)
