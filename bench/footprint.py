"""footprint: startup time to ready and idle resident memory of hearth.

Two measurements, each in a fresh interpreter so nothing is cached in this process:

* ``hearth chat``: the real command (``python -m bot chat``; ``hearth run`` with no platform
  and no terminal refuses to start) in an empty directory with a temp data dir, the terminal
  chat's stdin open and silent, and ``HEALTH_ADDR`` on a free loopback port. Ready = the
  first answer from ``/healthz`` whose only problem is that no chat platform is configured
  (database open, the terminal connected), measured from spawn.
* ``build_app, all adapters``: ``bot.wiring.build_app`` with Slack, Discord and Matrix
  configured (offline dummy credentials) and the database opened, but nothing connected —
  a real ``hearth run`` with all three would dial out, which a benchmark must not do.

RSS is read from /proc/<pid>/status after a short idle (the child's own ``ru_maxrss`` where
/proc does not exist). Native libraries mapped into the process (numpy, onnxruntime,
chromadb's bindings) are listed: heavy imports must stay lazy.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.common import Table, verdict

NAME = "footprint"
STARTUP_TARGET_S = 1.5
RSS_TARGET_MB = 150.0
RUNS = 3
CHILD_TIMEOUT = 60.0  # seconds; a child that hangs fails the benchmark instead
HEAVY = ("chromadb", "onnxruntime", "numpy", "hnswlib", "tokenizers")

# Offline, syntactically valid credentials for every platform: constructing adapters must
# not need the network. Nothing here is a real secret.
FAKE_PLATFORMS = {
    "SLACK_BOT_TOKEN": "xoxb-0000000000-0000000000-benchbenchbenchbenchbenc",
    "SLACK_APP_TOKEN": "xapp-1-A000-0000-benchbenchbench",
    "DISCORD_TOKEN": "bench.discord.token",
    "MATRIX_HOMESERVER": "http://127.0.0.1:9",
    "MATRIX_USER_ID": "@hearth:localhost",
    "MATRIX_ACCESS_TOKEN": "syt_bench_bench_bench",
    "ADMINS": "slack:U0BENCH",
}
# Unreachable on purpose: nothing in a benchmark may talk to a real model server.
BASE_ENV = {"OLLAMA_HOST": "http://127.0.0.1:9", "LOG_LEVEL": "WARNING"}

_BUILD_CHILD = textwrap.dedent(
    """
    import asyncio, gc, json, os, sys, time
    t0 = time.perf_counter()

    async def main():
        from bot.config import Settings
        from bot.wiring import build_app
        app = build_app(Settings.from_env(json.loads(sys.argv[1])), console=False)
        await app.db.start()
        ready = time.perf_counter() - t0
        gc.collect()
        print(json.dumps({"ready": ready, "adapters": sorted(app.adapters)}), flush=True)
        await asyncio.sleep(float(sys.argv[2]))  # idle: the parent samples RSS now
        import resource
        print(json.dumps({"maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}),
              flush=True)
        await app.db.close()

    try:
        asyncio.run(main())
    except BaseException:
        import traceback
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)  # a half-started aiosqlite thread must not keep the process alive
    """
)


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    """A minimal environment: no credentials or settings leak in from the caller's."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME", "TMPDIR")}
    return {**keep, **BASE_ENV, **extra}


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _native_heavy(pid: int) -> list[str] | None:
    """Heavy native libraries mapped into ``pid`` (None when /proc is not available)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return None
    return [name for name in HEAVY if f"/{name}" in maps]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _readline(child: subprocess.Popen[str], timeout: float) -> str:
    """One line of the child's stdout, or "" on EOF or timeout."""
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    return child.stdout.readline() if ready else ""


def _stop(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _tail(errors: object) -> str:
    errors.seek(0)  # type: ignore[attr-defined]
    return str(errors.read())[-1500:]  # type: ignore[attr-defined]


def _measure_run(idle: float) -> dict[str, object]:
    """The real ``hearth chat``, ready when /healthz says only that no platform is set."""
    port = _free_port()
    with (
        tempfile.TemporaryDirectory(prefix="hearth-bench-") as home,
        tempfile.TemporaryFile("w+") as errors,
    ):
        env = _child_env({"HEARTH_DATA_DIR": f"{home}/data", "HEALTH_ADDR": f"127.0.0.1:{port}"})
        spawned = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat"],
            cwd=home,  # an empty directory: no .env of the caller is read
            stdin=subprocess.PIPE,  # open and silent: the terminal chat idles
            stdout=subprocess.DEVNULL,
            stderr=errors,
            text=True,
            env=env,
        )
        try:
            startup = _wait_healthy(child, port)
            if startup is None:
                raise RuntimeError(f"hearth run did not get healthy: {_tail(errors)}")
            startup -= spawned
            time.sleep(idle)
            rss, heavy = _rss_mb(child.pid), _native_heavy(child.pid)
        finally:
            _stop(child)
    return {"mode": "hearth chat", "startup": startup, "rss": rss, "heavy": heavy}


def _wait_healthy(child: subprocess.Popen[str], port: int) -> float | None:
    deadline = time.perf_counter() + CHILD_TIMEOUT
    url = f"http://127.0.0.1:{port}/healthz"
    while time.perf_counter() < deadline and child.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter()
        except urllib.error.HTTPError as exc:  # 503: ready when only the platform is missing
            if exc.read().decode().strip() == "no chat platform is configured":
                return time.perf_counter()
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.01)
    return None


def _measure_build(idle: float) -> dict[str, object]:
    """``build_app`` with all three platforms constructed and the database open."""
    with (
        tempfile.TemporaryDirectory(prefix="hearth-bench-") as home,
        tempfile.TemporaryFile("w+") as errors,
    ):
        settings = {**BASE_ENV, **FAKE_PLATFORMS, "HEARTH_DATA_DIR": f"{home}/data"}
        spawned = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", _BUILD_CHILD, json.dumps(settings), str(idle)],
            cwd=home,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=_child_env({}),
        )
        try:
            first = _readline(child, CHILD_TIMEOUT)
            startup = time.perf_counter() - spawned
            if not first:
                raise RuntimeError(f"build_app child did not get ready: {_tail(errors)}")
            adapters = json.loads(first)["adapters"]
            time.sleep(idle / 2)
            rss, heavy = _rss_mb(child.pid), _native_heavy(child.pid)
            second = json.loads(_readline(child, CHILD_TIMEOUT) or "{}")
            child.wait(timeout=CHILD_TIMEOUT)
        finally:
            _stop(child)
    if rss is None:  # no /proc (macOS): peak RSS, KiB on Linux, bytes on macOS
        maxrss = float(second.get("maxrss", 0))
        rss = maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024
    return {
        "mode": f"build_app ({', '.join(adapters)})",
        "startup": startup,
        "rss": rss,
        "heavy": heavy,
    }


HEADERS = ["mode", "run", "startup s", "idle RSS MB", "heavy native libs", "startup ok", "RSS ok"]


def run(smoke: bool = False) -> Table:
    """Run the benchmark; returns (headers, rows)."""
    rows: list[list[str]] = []
    idle = 0.1 if smoke else 1.0
    # Smoke: only the real `hearth run` (one process start), to stay within seconds.
    for measure in (_measure_run,) if smoke else (_measure_run, _measure_build):
        for i in range(1 if smoke else RUNS):
            m = measure(idle)
            startup = float(m["startup"])  # type: ignore[arg-type]
            rss = m["rss"]
            heavy = m["heavy"]
            rows.append(
                [
                    str(m["mode"]),
                    str(i + 1),
                    f"{startup:.2f}",
                    "n/a" if rss is None else f"{float(rss):.0f}",  # type: ignore[arg-type]
                    "n/a" if heavy is None else (", ".join(heavy) or "none"),  # type: ignore[arg-type]
                    verdict(startup < STARTUP_TARGET_S),
                    "n/a" if rss is None else verdict(float(rss) < RSS_TARGET_MB),  # type: ignore[arg-type]
                ]
            )
    return HEADERS, rows
