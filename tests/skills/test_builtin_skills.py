"""Each built-in code skill, run through the real runner against real local resources."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web

from core.skills.library import BUILTIN_DIR
from core.skills.loader import scan
from core.skills.model import CodeSkill
from core.skills.runner import SkillRunner
from tests.core.skills.conftest import builtin
from tests.fakes.loopback import serve
from tests.fakes.ollama import FakeOllama

CODE_SKILLS = {
    "disk_usage",
    "top_processes",
    "ollama_models",
    "http_check",
    "git_status",
    "port_check",
    "tls_expiry",
    "log_tail",
}


def test_every_builtin_loads_without_problems() -> None:
    skills, problems = scan(BUILTIN_DIR, "builtin")
    assert problems == []
    code = {s.name for s in skills if isinstance(s, CodeSkill)}
    assert code == CODE_SKILLS
    assert len([s for s in skills if s.kind == "runbook"]) >= 2


async def test_disk_usage_of_a_path(runner: SkillRunner, tmp_path: Path) -> None:
    out = await runner.run(builtin("disk_usage"), {"path": str(tmp_path)})
    assert out.ok, out.text
    percent = shutil.disk_usage(tmp_path)
    used = round(100 * percent.used / (percent.used + percent.free))  # as df counts
    assert str(tmp_path) in out.text
    assert any(f"{p}%" in out.text for p in (used - 1, used, used + 1)), out.text


async def test_disk_usage_by_mount_flags_full_ones(runner: SkillRunner) -> None:
    out = await runner.run(builtin("disk_usage"), {"warn_percent": 0})
    assert out.ok and "⚠️" in out.text and "mount" in out.text


async def test_top_processes_finds_a_busy_process(runner: SkillRunner) -> None:
    burner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "while True: sum(range(10000))"
    )
    try:
        out = await runner.run(builtin("top_processes"), {"count": 5, "sort": "cpu"})
    finally:
        burner.kill()
        await burner.wait()
    assert out.ok, out.text
    assert str(burner.pid) in out.text, out.text


async def test_ollama_models_lists_pulled_and_loaded(runner: SkillRunner) -> None:
    async with FakeOllama(models=["qwen2.5:3b", "gemma3:4b"], loaded=["qwen2.5:3b"]) as ollama:
        out = await runner.run(builtin("ollama_models"), {"ollama_host": ollama.url})
    assert out.ok, out.text
    assert "2 model(s) pulled, 1 loaded" in out.text
    line = next(x for x in out.text.splitlines() if x.startswith("qwen2.5:3b"))
    assert "yes (GPU" in line and "1.9 GiB" in line
    assert "no" in next(x for x in out.text.splitlines() if x.startswith("gemma3:4b"))


async def test_ollama_down_is_a_failed_result(runner: SkillRunner) -> None:
    out = await runner.run(builtin("ollama_models"), {"ollama_host": f"http://{_closed_port()}"})
    assert not out.ok and "did not answer" in out.text


async def test_http_check_status_and_latency(runner: SkillRunner) -> None:
    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/broken", broken)
    srv, port = await serve(app)
    try:
        good = await runner.run(builtin("http_check"), {"url": f"http://127.0.0.1:{port}/health"})
        bad = await runner.run(builtin("http_check"), {"url": f"http://127.0.0.1:{port}/broken"})
    finally:
        await srv.cleanup()
    assert good.ok and "HTTP 200 OK in" in good.text and " ms" in good.text
    assert not bad.ok and "HTTP 503" in bad.text and "expected 200" in bad.text


@pytest.fixture
def tls_server(tmp_path: Path):
    """A loopback TLS server with a self-signed certificate valid for 30 days."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=hearth-test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


async def test_tls_expiry_of_a_self_signed_certificate(runner: SkillRunner, tls_server) -> None:
    async def hello(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hello, "127.0.0.1", 0, ssl=tls_server)
    port = server.sockets[0].getsockname()[1]
    try:
        out = await runner.run(builtin("tls_expiry"), {"host": f"127.0.0.1:{port}"})
        soon = await runner.run(
            builtin("tls_expiry"), {"host": "127.0.0.1", "port": port, "warn_days": 60}
        )
    finally:
        server.close()
    assert out.ok, out.text
    assert "✅" in out.text and "hearth-test" in out.text
    assert "expires in 29 days" in out.text or "expires in 30 days" in out.text
    assert "NOT trusted" in out.text
    assert soon.text.startswith("⚠️")


async def test_http_check_reports_tls_expiry(runner: SkillRunner, tls_server) -> None:
    app = web.Application()
    app.router.add_get("/", lambda r: web.Response(text="hi"))
    runner_app = web.AppRunner(app)
    await runner_app.setup()
    site = web.TCPSite(runner_app, "127.0.0.1", 0, ssl_context=tls_server)
    await site.start()
    port = runner_app.addresses[0][1]
    try:
        out = await runner.run(builtin("http_check"), {"url": f"https://127.0.0.1:{port}/"})
    finally:
        await runner_app.cleanup()
    # The certificate does not verify, so the request fails; the expiry is still not claimed.
    assert not out.ok and "did not answer" in out.text


async def test_git_status_of_the_workspace(runner: SkillRunner, workspace: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=workspace,
            check=True,
            capture_output=True,
        )

    git("init", "-q", "-b", "main")
    (workspace / "a.txt").write_text("one\n")
    git("add", "a.txt")
    git("commit", "-q", "-m", "first commit")
    clean = await runner.run(builtin("git_status"), {})
    (workspace / "a.txt").write_text("two\n")
    (workspace / "new.txt").write_text("x\n")
    dirty = await runner.run(builtin("git_status"), {})
    assert clean.ok and "on `main`" in clean.text and "working tree clean" in clean.text
    assert "first commit" in clean.text
    assert "modified (1): a.txt" in dirty.text and "untracked (1): new.txt" in dirty.text


async def test_git_status_outside_a_repository(runner: SkillRunner) -> None:
    out = await runner.run(builtin("git_status"), {})
    assert not out.ok and "not a git repository" in out.text


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


async def test_port_check_open_and_closed(runner: SkillRunner) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    closed = _closed_port().rpartition(":")[2]
    try:
        out = await runner.run(builtin("port_check"), {"ports": f"{port},{closed}"})
    finally:
        listener.close()
    assert out.ok, out.text
    assert "1 of 2 port(s) open" in out.text
    rows = {line.split()[0]: line for line in out.text.splitlines() if line[:1].isdigit()}
    assert "open (" in rows[str(port)] and "closed" in rows[closed]


async def test_port_check_rejects_a_bad_port(runner: SkillRunner) -> None:
    out = await runner.run(builtin("port_check"), {"ports": "70000"})
    assert not out.ok and "bad port" in out.text


async def test_log_tail_with_grep(runner: SkillRunner, workspace: Path) -> None:
    lines = [f"{i} {'ERROR disk full' if i % 10 == 0 else 'INFO ok'}" for i in range(1, 101)]
    (workspace / "app.log").write_text("\n".join(lines) + "\n")
    out = await runner.run(
        builtin("log_tail"), {"path": "app.log", "pattern": "error", "lines": 3}
    )
    tail = await runner.run(builtin("log_tail"), {"path": "app.log", "lines": 2})
    missing = await runner.run(builtin("log_tail"), {"path": "nope.log"})
    assert out.ok and "(10 matched)" in out.text
    assert "80 ERROR" in out.text and "100 ERROR" in out.text and "70 ERROR" not in out.text
    assert "99 INFO ok\n100 ERROR" in tail.text
    assert not missing.ok and "cannot read nope.log" in missing.text
