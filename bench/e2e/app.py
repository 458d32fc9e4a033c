"""The app's side of ``bench e2e``: the driver process, and hearth as ``hearth run`` builds it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.e2e.protocol import Sample, Unavailable

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Phase:
    """Samples of one phase plus the app process's CPU it used."""

    samples: list[Sample]
    cpu: float
    chroma_cpu: float = 0.0  # of ``cpu``: chromadb's own native threads (Rust: tokio, sqlx)


class Users:
    """The driver process (``bench.e2e.driver``): the servers and the people who mention."""

    def __init__(self, proc: asyncio.subprocess.Process, addresses: dict[str, Any]) -> None:
        self._proc = proc
        self.addresses = addresses
        self.settle: Callable[[], Awaitable[None]] = _nothing  # until the app is idle

    async def _ask(self, **cmd: Any) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await self._proc.stdin.drain()
        line = await self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the bench driver ended early (see its stderr above)")
        return dict(json.loads(line))

    async def wait_socket(self) -> None:
        """Return once the app's connection (Socket Mode, gateway, room join) is up."""
        await self._ask(op="socket")

    async def mentions(self, count: int, *, concurrent: bool) -> Phase:
        """``count`` mentions (one at a time or all at once); the app's CPU meanwhile.

        One at a time means what it means for people: each mention finds the app idle (its
        previous task's background work, such as the memory note, is done). The CPU of that
        background work is counted all the same.
        """
        cpu0, chroma0 = time.process_time(), chroma_threads_cpu()
        samples: list[Sample] = []
        for _ in range(1 if concurrent else count):
            await self.settle()
            reply = await self._ask(
                op="mentions", count=count if concurrent else 1, concurrent=concurrent
            )
            samples += [Sample(a, b) for a, b in reply["samples"]]
        await self.settle()
        return Phase(samples, time.process_time() - cpu0, chroma_threads_cpu() - chroma0)


# chromadb's Rust core runs its work on threads of its own: tokio's workers and sqlx's SQLite
# worker. /proc names them (Python's threads are all "python"), so their share can be shown.
_CHROMA_THREADS = ("tokio-rt-worker", "sqlx-sqlite-wor")


def chroma_threads_cpu() -> float:
    """CPU seconds used so far by this process's chromadb native threads (0 off Linux)."""
    total = 0
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return 0.0
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name.startswith(_CHROMA_THREADS):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


async def _nothing() -> None:
    return None


async def _idle(app: Any) -> None:
    """Wait until hearth has no task and no background work (memory notes, skill drafts)."""
    await app.pool.idle()
    for service in app.services:
        drain = getattr(service, "drain", None)
        if drain is not None:
            await drain()


@contextlib.asynccontextmanager
async def users(mode: str, platform: str = "slack") -> AsyncIterator[Users]:
    """Start the driver for ``platform`` and ``mode`` (hearth or floor); stop it on exit.

    Raises ``Unavailable`` when the platform's server cannot run here (no Synapse).
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.e2e.driver",
        platform,
        mode,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        limit=2**24,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if not line:
            raise RuntimeError("the bench driver did not start")
        addresses = json.loads(line)
        if "error" in addresses:
            raise Unavailable(addresses["error"])
        yield Users(proc, addresses)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def _platform_env(fakes: Mapping[str, Any]) -> dict[str, str]:
    """The chat platform's settings: the driver's ``env``, or the Slack fake's addresses."""
    if "env" in fakes:
        return {**fakes["env"], "ALLOWED_USERS": fakes["user"], "ADMINS": fakes["admin"]}
    return {
        "SLACK_BOT_TOKEN": fakes["bot_token"],
        "SLACK_APP_TOKEN": fakes["app_token"],
        "SLACK_API_URL": fakes["slack_url"],
        "ALLOWED_USERS": "slack:UANA",
        "ADMINS": "slack:UBOSS",
    }


@contextlib.asynccontextmanager
async def app_on(fakes: Mapping[str, Any], tmp: Path, **env: str) -> AsyncIterator[Any]:
    """hearth as ``hearth run`` builds it, on fakes at ``fakes``' addresses; data in ``tmp``.

    ``fakes`` holds the Slack fake's addresses, or a driver's ``env``, ``user`` and ``admin``.
    Yields the running app once it is ready (the caller waits for its connection).
    """
    from bot.config import Settings
    from bot.wiring import build_app

    settings = Settings.from_env(
        {
            "HEARTH_DATA_DIR": str(tmp / "data"),
            "HEARTH_WORKSPACE": str(tmp / "ws"),
            "OLLAMA_HOST": fakes["ollama_url"],
            **_platform_env(fakes),
            "VERIFICATION_ENABLED": "false",
            "MAX_CONCURRENT_TASKS": "4",
            "MAX_TASKS_PER_USER": "100",
            "LOG_LEVEL": "WARNING",
            **env,
        }
    )
    (tmp / "ws").mkdir(parents=True, exist_ok=True)
    app = build_app(settings, console=False)
    stop = asyncio.Event()
    task = asyncio.create_task(app.run(stop), name="bench:hearth")
    try:
        await app.ready.wait()
        yield app
    finally:
        stop.set()
        await task


async def connected(app: Any, timeout: float = 60.0) -> None:
    """Wait until every adapter of ``app`` says it is connected."""
    async with asyncio.timeout(timeout):
        while not all(a.connected for a in app.adapters.values()):
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def hearth(tmp: Path, platform: str = "slack", **env: str) -> AsyncIterator[Users]:
    """hearth on a fresh driver's ``platform``; data in ``tmp``."""
    async with users("hearth", platform) as people, app_on(people.addresses, tmp, **env) as app:
        await people.wait_socket()
        await connected(app)
        people.settle = lambda: _idle(app)
        yield people
