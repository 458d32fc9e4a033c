"""/healthz and /metrics over loopback, with prometheus-client's own parsers on the output."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from bot.health import HealthServer, make_health_check, parse_addr
from core.metrics import Metrics
from core.storage import Database
from tests.fakes.adapter import FakeAdapter


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    """Start HealthServers on 127.0.0.1:0; stops every one afterwards."""
    servers: list[HealthServer] = []

    async def start(**kwargs: object) -> HealthServer:
        kwargs.setdefault("metrics", Metrics())
        server = HealthServer("127.0.0.1:0", **kwargs)  # type: ignore[arg-type]
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


async def _get(server: HealthServer, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        return await client.get(path, headers=headers)


async def test_healthz_200_when_database_open_and_adapters_connected(serve, tmp_path) -> None:
    slack, matrix = FakeAdapter("slack"), FakeAdapter("matrix")
    db = Database(tmp_path / "h.db", [])  # health only needs it open, not migrated
    await db.start()
    adapters = {"slack": slack, "matrix": matrix}
    server = await serve(health=make_health_check(db=db, adapters=adapters))
    try:
        slack.bind(lambda e: None)  # type: ignore[arg-type,return-value]
        matrix.bind(lambda e: None)  # type: ignore[arg-type,return-value]
        ok = await _get(server, "/healthz")
        assert ok.status_code == 200
        assert ok.text == "ok (matrix, slack)\n"

        matrix.connected = False
        down = await _get(server, "/healthz")
        assert down.status_code == 503
        assert down.text == "not connected: matrix\n"
    finally:
        await db.close()

    closed = await _get(server, "/healthz")
    assert closed.status_code == 503
    assert closed.text == "database is not open; not connected: matrix\n"


async def test_healthz_503_when_no_chat_platform_is_configured(serve, tmp_path) -> None:
    console = FakeAdapter("console")
    db = Database(tmp_path / "h.db", [])
    await db.start()
    try:
        console.bind(lambda e: None)  # type: ignore[arg-type,return-value]
        server = await serve(health=make_health_check(db=db, adapters={"console": console}))
        only_terminal = await _get(server, "/healthz")
        assert only_terminal.status_code == 503
        assert only_terminal.text == "no chat platform is configured\n"
    finally:
        await db.close()


async def test_healthz_accepts_async_sources_and_reports_their_failures(serve) -> None:
    async def degraded() -> tuple[bool, str]:
        await asyncio.sleep(0)
        return False, "ollama unreachable"

    def broken() -> tuple[bool, str]:
        raise RuntimeError("boom")

    never = asyncio.Event()

    async def hangs() -> tuple[bool, str]:
        await never.wait()
        return True, "ok"

    r1 = await _get(await serve(health=degraded), "/healthz")
    r2 = await _get(await serve(health=broken), "/healthz")
    r3 = await _get(await serve(health=hangs, timeout=0.05), "/healthz")
    assert (r1.status_code, r1.text) == (503, "ollama unreachable\n")
    assert (r2.status_code, r2.text) == (503, "health check failed: RuntimeError\n")
    assert (r3.status_code, r3.text) == (503, "health check timed out after 0.05s\n")


async def test_metrics_exports_core_counters_in_prometheus_format(serve) -> None:
    metrics = Metrics()
    metrics.inc("hearth_tasks_total", status="done")
    metrics.inc("hearth_tasks_total", status="done")
    metrics.inc("hearth_tasks_total", status="failed")
    metrics.inc("hearth_llm_tokens_total", 120, provider="ollama", kind="prompt")
    metrics.inc("hearth_approvals_total", outcome="expired")
    metrics.inc("hearth_heartbeat_ticks_total", severity="warning", source="fallback")
    metrics.inc("hearth_chat_rate_limited_total", platform="slack")
    server = await serve(metrics=metrics, health=lambda: (True, "ok"))

    response = await _get(server, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("hearth_tasks_total", (("status", "done"),))] == 2
    assert samples[("hearth_tasks_total", (("status", "failed"),))] == 1
    assert (
        samples[("hearth_llm_tokens_total", (("kind", "prompt"), ("provider", "ollama")))] == 120
    )
    assert samples[("hearth_approvals_total", (("outcome", "expired"),))] == 1
    key = ("hearth_heartbeat_ticks_total", (("severity", "warning"), ("source", "fallback")))
    assert samples[key] == 1
    assert samples[("hearth_chat_rate_limited_total", (("platform", "slack"),))] == 1
    assert families["hearth_tasks"].type == "counter"
    # Documented families exist before their first increment, so alerts can refer to them.
    for name in ("hearth_escalations", "hearth_llm_calls", "hearth_chat_edits"):
        assert families[name].type == "counter"
        assert families[name].samples == []
    assert "process_resident_memory_bytes" in families

    # Counters are live: a later increment shows on the next scrape.
    metrics.inc("hearth_tasks_total", status="done")
    again = {
        f.name: f for f in text_string_to_metric_families((await _get(server, "/metrics")).text)
    }
    done = [s for s in again["hearth_tasks"].samples if s.labels == {"status": "done"}]
    assert done[0].value == 3


async def test_metrics_speaks_openmetrics_when_asked(serve) -> None:
    metrics = Metrics()
    metrics.inc("hearth_llm_calls_total", provider="anthropic")
    server = await serve(metrics=metrics, health=lambda: (True, "ok"))
    response = await _get(server, "/metrics", accept="application/openmetrics-text; version=1.0.0")
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    families = {f.name: f for f in openmetrics_families(response.text)}
    (sample,) = [s for s in families["hearth_llm_calls"].samples if s.name.endswith("_total")]
    assert sample.labels == {"provider": "anthropic"} and sample.value == 1


async def test_invalid_metric_names_are_skipped_not_fatal(serve, caplog) -> None:
    metrics = Metrics()
    metrics.inc("bad name!", platform="x")
    metrics.inc("hearth_tasks_total", status="done")
    server = await serve(metrics=metrics, health=lambda: (True, "ok"))
    response = await _get(server, "/metrics")
    assert response.status_code == 200
    assert "bad name" not in response.text
    assert "invalid name" in caplog.text
    assert any(f.name == "hearth_tasks" for f in text_string_to_metric_families(response.text))


async def test_unknown_path_is_404_and_stop_is_idempotent(serve) -> None:
    server = await serve(health=lambda: (True, "ok"))
    assert (await _get(server, "/")).status_code == 404
    port = server.port
    await server.stop()
    await server.stop()
    with pytest.raises(RuntimeError):
        _ = server.port
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(timeout=2) as client:
            await client.get(f"http://127.0.0.1:{port}/healthz")


async def test_busy_port_fails_start_cleanly() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = HealthServer(f"127.0.0.1:{port}", metrics=Metrics(), health=lambda: (True, ""))
        with pytest.raises(OSError):
            await server.start()
        await server.stop()


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("[::1]:9", ("::1", 9)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
    ],
)
def test_parse_addr(addr: str, expected: tuple[str, int]) -> None:
    assert parse_addr(addr) == expected


@pytest.mark.parametrize("addr", ["8080", ":8080", "host:", "host:99999", "host:http"])
def test_parse_addr_rejects_garbage(addr: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        parse_addr(addr)


def test_container_healthchecks_probe_this_endpoint() -> None:
    """Dockerfile and compose probe /healthz on the port HEALTH_ADDR binds in the image."""
    yaml = pytest.importorskip("yaml")
    root = Path(__file__).resolve().parents[2]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    hearth = compose["services"]["hearth"]
    _, port = parse_addr(hearth["environment"]["HEALTH_ADDR"])
    assert f"http://127.0.0.1:{port}/healthz" in hearth["healthcheck"]["test"]
    assert hearth["ports"] == [f"127.0.0.1:{port}:{port}"]
    dockerfile = (root / "Dockerfile").read_text()
    assert f"HEALTH_ADDR=0.0.0.0:{port}" in dockerfile
    assert f"http://127.0.0.1:{port}/healthz" in dockerfile
    assert "\nUSER hearth" in dockerfile
    assert ".env" in (root / ".dockerignore").read_text().splitlines()
