"""Probes against loopback servers, temp dirs and real subprocesses, each with a timeout."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest
from aiohttp import web

from core.heartbeat.checks import (
    Checks,
    DiskCheck,
    HttpCheck,
    OllamaCheck,
    OwnCheck,
    ProcessCheck,
    ShellCheck,
    SystemCheck,
    TcpCheck,
)
from core.heartbeat.probes import Prober
from core.heartbeat.shell import run_shell
from core.heartbeat.values import OwnHealth
from tests.fakes.ollama import FakeOllama
from tests.support.procs import unique_sleep, wait_gone


@pytest.fixture
async def web_server() -> AsyncIterator[str]:
    """A loopback HTTP server: /ok, /down (503), /slow (hangs), /text."""
    release = asyncio.Event()

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="all good")

    async def down(_: web.Request) -> web.Response:
        return web.Response(status=503, text="maintenance")

    async def slow(_: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/down", down)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        release.set()
        await runner.cleanup()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prober(tmp_path: Path, **kinds: object) -> Prober:
    return Prober(Checks(own=None, **kinds), workspace=tmp_path)  # type: ignore[arg-type]


async def test_disk_usage_against_thresholds(tmp_path: Path) -> None:
    checks = dict(
        disks=(
            DiskCheck(name="relaxed", path=str(tmp_path), warning=100, critical=100),
            DiskCheck(name="strict", path=str(tmp_path), warning=0, critical=100),
            DiskCheck(name="gone", path=str(tmp_path / "missing")),
        )
    )
    results = {r.check: r for r in (await prober(tmp_path, **checks).perceive()).results}
    assert results["disk:relaxed"].status == "ok"
    assert results["disk:strict"].status == "warning"
    assert 0 < results["disk:strict"].values["percent"] <= 100
    assert results["disk:gone"].status == "critical"
    assert "missing" in results["disk:gone"].summary


async def test_http_status_text_latency_and_timeout(tmp_path: Path, web_server: str) -> None:
    checks = dict(
        http=(
            HttpCheck(name="ok", url=f"{web_server}/ok", expect_text="good"),
            HttpCheck(name="down", url=f"{web_server}/down", severity="warning"),
            HttpCheck(name="text", url=f"{web_server}/ok", expect_text="banana"),
            HttpCheck(name="slowish", url=f"{web_server}/ok", latency_warning_ms=0),
            HttpCheck(name="hang", url=f"{web_server}/slow", timeout=0.2),
            HttpCheck(name="refused", url=f"http://127.0.0.1:{closed_port()}/"),
        )
    )
    results = {r.check: r for r in (await prober(tmp_path, **checks).perceive()).results}
    assert results["http:ok"].status == "ok" and results["http:ok"].values["status"] == 200
    assert results["http:down"].status == "warning"
    assert "status 503" in results["http:down"].summary
    assert results["http:text"].status == "critical"
    assert "'banana' not in the response" in results["http:text"].summary
    assert (
        results["http:slowish"].status == "warning" and "slow" in results["http:slowish"].summary
    )
    assert results["http:hang"].status == "critical"
    assert results["http:refused"].status == "critical"


async def test_tcp_open_and_closed(tmp_path: Path, web_server: str) -> None:
    port = int(web_server.rsplit(":", 1)[1])
    checks = dict(
        tcp=(
            TcpCheck(name="web", host="127.0.0.1", port=port),
            TcpCheck(name="nothing", host="127.0.0.1", port=closed_port(), severity="warning"),
        )
    )
    results = {r.check: r for r in (await prober(tmp_path, **checks).perceive()).results}
    assert results["tcp:web"].status == "ok"
    assert results["tcp:nothing"].status == "warning"
    assert "not accepting connections" in results["tcp:nothing"].summary


async def test_process_by_name(tmp_path: Path) -> None:
    me = psutil.Process().name()
    checks = dict(
        processes=(
            ProcessCheck(name="me", process=me),
            ProcessCheck(name="ghost", process="no-such-process-xyz", action="systemctl start x"),
        )
    )
    results = {r.check: r for r in (await prober(tmp_path, **checks).perceive()).results}
    assert results["process:me"].status == "ok" and results["process:me"].values["count"] >= 1
    assert results["process:ghost"].status == "warning"
    assert results["process:ghost"].action == "systemctl start x"


async def test_system_load_and_memory(tmp_path: Path) -> None:
    strict = SystemCheck(load_warning=0, load_critical=1e9, memory_warning=0, memory_critical=101)
    (res,) = (await prober(tmp_path, system=strict).perceive()).results
    assert res.check == "system" and res.status == "warning"
    assert {"load1", "cpus", "memory_percent"} <= set(res.values)


async def test_shell_exit_codes_and_output_tail(tmp_path: Path) -> None:
    checks = dict(
        shell=(
            ShellCheck(name="good", command="echo fine"),
            ShellCheck(name="bad", command="echo broken >&2; exit 3", severity="critical"),
        )
    )
    results = {r.check: r for r in (await prober(tmp_path, **checks).perceive()).results}
    assert results["shell:good"].status == "ok"
    assert results["shell:bad"].status == "critical"
    assert results["shell:bad"].summary == "exit 3: broken"


async def test_shell_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    word = unique_sleep(30)
    outcome = await run_shell(
        f"sleep {word} & echo started > started; wait", cwd=tmp_path, timeout=0.5
    )
    assert outcome.timed_out and outcome.exit_code is None
    assert (tmp_path / "started").read_text() == "started\n"
    assert await wait_gone(word), "the background sleep survived the timeout"


async def test_shell_checks_never_see_hearths_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, key = "xoxb-very-secret-123456", "sk-ant-secret-abcdef"
    monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    monkeypatch.setenv("DATABASE_URL", f"postgres://hearth:{token}@db/hearth")
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    # The check looks through its whole environment and answers with its exit code, so the
    # 400-character output tail cannot hide a leak; the output says what the env held.
    command = (
        f"env | grep -qF -e '{token}' -e '{key}' && exit 9; "
        "printf '%2000s' | tr ' ' x; echo; env | cut -d= -f1 | sort | tr '\\n' ' '"
    )
    check = ShellCheck(name="env", command=command, severity="critical")
    (res,) = (await prober(tmp_path, shell=(check,)).perceive()).results
    assert res.values["exit_code"] == 0, res.summary
    assert res.status == "ok"
    assert "PATH" in res.summary


async def test_ollama_models_available_loaded_and_missing(tmp_path: Path) -> None:
    async with FakeOllama(models=["qwen2.5:3b", "llama3:latest"], loaded=["qwen2.5:3b"]) as fake:
        ok = OllamaCheck(host=fake.url, models=("qwen2.5:3b", "llama3"))
        (res,) = (await prober(tmp_path, ollama=ok).perceive()).results
        assert res.status == "ok"
        assert res.values["loaded"] == ["qwen2.5:3b"]
        missing = OllamaCheck(host=fake.url, models=("gemma3:4b",))
        (res,) = (await prober(tmp_path, ollama=missing).perceive()).results
        assert res.status == "warning"
        assert res.values["missing"] == ["gemma3:4b"]
        assert res.action == "ollama pull gemma3:4b"
        assert "GET /api/tags" in fake.paths and "GET /api/ps" in fake.paths


async def test_ollama_down_is_critical(tmp_path: Path) -> None:
    check = OllamaCheck(host=f"http://127.0.0.1:{closed_port()}", timeout=1)
    (res,) = (await prober(tmp_path, ollama=check).perceive()).results
    assert res.status == "critical" and res.values == {"reachable": False}
    assert "unreachable" in res.summary


async def test_own_health() -> None:
    health = OwnHealth(adapters={"slack": True, "matrix": False}, queue_depth=9)
    probe = Prober(
        Checks(own=OwnCheck(max_queue_depth=5)), workspace=".", own_health=lambda: health
    )
    (res,) = (await probe.perceive()).results
    assert res.check == "hearth" and res.status == "warning"
    assert "disconnected: matrix" in res.summary and "9 tasks queued" in res.summary


async def test_one_hanging_probe_does_not_hide_the_others(tmp_path: Path, web_server: str) -> None:
    checks = Checks(
        http=(HttpCheck(name="hang", url=f"{web_server}/slow", timeout=0.2),),
        disks=(DiskCheck(name="tmp", path=str(tmp_path), warning=100, critical=100),),
        own=OwnCheck(),
    )
    perception = await Prober(checks, workspace=tmp_path).perceive()
    assert perception.statuses() == {"disk:tmp": "ok", "http:hang": "critical", "hearth": "ok"}
    assert perception.severity == "critical"
