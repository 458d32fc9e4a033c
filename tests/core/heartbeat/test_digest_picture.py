"""The digest picture, drawn from stored ticks: size, colours where the failure was, the days."""

from __future__ import annotations

import io
import json

from PIL import Image

from core.heartbeat.chart import CALLS_BAR, COLOURS, FALLBACK_BAR
from core.heartbeat.decide import ModelDecider
from core.heartbeat.service import Heartbeat
from tests.core.heartbeat.conftest import ScriptedLLM, ScriptedProber

HOUR = 3600.0
UP = {"http:web": "ok", "disk:root": "ok"}
DOWN = {"http:web": "critical", "disk:root": "ok"}
ANSWER = json.dumps({"actions": ["curl -sI localhost"], "severity": "critical", "reasoning": "x"})


async def test_the_picture_shows_the_failing_hour_in_the_failing_colour(store, clock) -> None:
    start = clock.now()
    ticks = [DOWN if 10 <= h < 12 else UP for h in range(24)]
    llm = ScriptedLLM(ANSWER, "raise", *[ANSWER] * 30)  # one fallback among the calls
    hb = Heartbeat(
        prober=ScriptedProber(clock, *ticks),
        decider=ModelDecider(llm, clock=clock),
        store=store,
        clock=clock,
        workspace=".",
        decide_mode="always",
        interval=HOUR,
    )
    for _ in range(24):
        await hb.tick()
        clock.advance(HOUR)
    digest = await hb.draw_digest(hours=24)
    assert digest.png is not None and digest.layout is not None
    layout = digest.layout
    image = Image.open(io.BytesIO(digest.png)).convert("RGB")
    assert image.size == (layout.width, layout.height) == (1000, layout.height)
    assert 250 < layout.height < 400 and len(digest.png) < 60_000

    def pixel(check: str, at: float) -> tuple[int, int, int]:
        return image.getpixel((layout.x(at), layout.row_y(check) + layout.row // 2))

    failing_hour = start + 10.5 * HOUR
    assert pixel("http:web", failing_hour) == COLOURS["critical"]
    assert pixel("http:web", start + 5.5 * HOUR) == COLOURS["ok"]
    assert pixel("disk:root", failing_hour) == COLOURS["ok"]
    # The days panel has bars for model calls and for the fallback.
    panel = image.crop((layout.left, layout.strips_bottom + 30, layout.width, layout.height))
    colours = {c for _n, c in panel.getcolors(maxcolors=100_000)}
    assert CALLS_BAR in colours and FALLBACK_BAR in colours
    assert "fell back to rules" in digest.text
