"""`hearth export ticks`: JSONL lines and the --since parser."""

from __future__ import annotations

import io
import json

import pytest

from core.heartbeat.export import export_ticks, parse_since


async def test_export_writes_one_json_object_per_tick(store) -> None:
    prompt = [{"role": "system", "content": "s"}, {"role": "user", "content": "{}"}]
    await store.record(
        at=1_700_000_000.0,
        perception="{}",
        prompt=json.dumps(prompt),
        decision={"actions": [], "severity": "ok", "reasoning": "fine"},
        severity="ok",
        source="model",
        latency_s=1.5,
    )
    await store.record(
        at=1_700_000_600.0,
        perception="{}",
        prompt="",
        decision={"actions": [], "severity": "ok", "reasoning": "All 3 checks passed."},
        severity="ok",
        source="rules",
        latency_s=0.1,
    )
    out = io.StringIO()
    assert await export_ticks(store, out) == 2
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == {
        "at": "2023-11-14T22:13:20+00:00",
        "prompt": prompt,
        "decision": {"actions": [], "severity": "ok", "reasoning": "fine"},
        "source": "model",
        "severity": "ok",
        "label": None,
    }
    assert second["prompt"] is None and second["source"] == "rules"
    assert await export_ticks(store, io.StringIO(), labeled_only=True) == 0


def test_parse_since() -> None:
    now = 1_700_000_000.0
    assert parse_since("7d", now=now) == now - 7 * 86400
    assert parse_since("90m", now=now) == now - 5400
    assert parse_since("2023-11-14T22:13:20", now=now) == now
    assert parse_since("2023-11-14T23:13:20+01:00", now=now) == now
    with pytest.raises(ValueError, match="--since 'yesterday' is invalid"):
        parse_since("yesterday", now=now)
