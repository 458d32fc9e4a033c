"""`hearth heartbeat --once` as the CLI wires it: real probes, real Ollama client, no platform."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from core.clock import SystemClock
from core.heartbeat import Heartbeat, ModelDecider, Prober, default_checks
from core.llm.ollama import OllamaClient
from core.storage.ticks import TickStore
from tests.fakes.ollama import FakeOllama


def closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def once(store: TickStore, host: str, tmp_path: Path, client: OllamaClient) -> Heartbeat:
    checks = default_checks(ollama_host=host, models=["qwen2.5:3b"], data_dir=str(tmp_path))
    clock = SystemClock()
    return Heartbeat(
        prober=Prober(checks, workspace=tmp_path, clock=clock),
        decider=ModelDecider(client, timeout=5, clock=clock),
        store=store,
        clock=clock,
        workspace=tmp_path,
        decide_mode="always",
    )


async def test_once_with_ollama_down_reports_via_the_fallback(store, tmp_path) -> None:
    host = closed_url()
    client = OllamaClient(host, "qwen2.5:3b", num_ctx=4096, timeout=2)
    try:
        tick = await once(store, host, tmp_path, client).tick(trigger="cli")
    finally:
        await client.aclose()
    assert tick.source == "fallback" and tick.severity == "critical"
    assert tick.posted is None
    assert tick.report.startswith("🔴 **Heartbeat: CRITICAL**")
    assert "🔴 ollama: unreachable at" in tick.report
    assert "threshold rules (model unavailable)" in tick.report
    row = await store.get(tick.tick_id)
    assert row is not None and row.source == "fallback"


async def test_once_with_a_model_answer(store, tmp_path) -> None:
    async with FakeOllama(loaded=["qwen2.5:3b"]) as fake:
        fake.queue_json({"actions": [], "severity": "ok", "reasoning": "All checks look fine."})
        client = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=4096, timeout=5)
        try:
            tick = await once(store, fake.url, tmp_path, client).tick(trigger="cli")
        finally:
            await client.aclose()
        sent = json.loads(fake.requests[0]["messages"][-1]["content"])
    assert tick.source == "model"
    assert "Why (model qwen2.5:3b): All checks look fine." in tick.report
    checks = {c["check"]: c for c in sent["checks"]}
    assert {"ollama", "system", "disk:data", "hearth"} <= set(checks)
    assert checks["ollama"]["values"]["loaded"] == ["qwen2.5:3b"]
