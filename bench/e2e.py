"""The real path: a Slack mention through hearth's own wiring, against a bare slack-bolt floor.

hearth is built by ``bot.wiring.build_app`` exactly as ``hearth run`` builds it, with the Slack
adapter in Socket Mode against the loopback Slack fake and an Ollama fake that answers at once.
In the same run, a bare slack-bolt app that replies in the thread on the same kind of fake is the
floor: what the SDK itself costs. The fakes run in a process of their own
(``bench.e2e_fakes``), so the CPU measured is the app's alone. Reported: first post in the
thread and final answer, p50 and p99, one mention at a time and 50 at once; CPU per mention;
hearth's ratio to the floor.

Needs a checkout (it drives the fakes in ``tests/fakes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Table, ms, percentile, verdict
from bench.e2e_fakes import ANSWER, Sample

ROOT = Path(__file__).resolve().parents[1]
NOTE = (
    "Socket Mode against the loopback Slack fake; instant Ollama fake; hearth via bot.wiring, "
    "floor = bare slack-bolt AsyncApp replying in the thread. The fakes run in another "
    "process: CPU is the app's own process CPU per mention (all its threads)."
)


@dataclass(frozen=True)
class Phase:
    """Samples of one phase plus the app process's CPU it used."""

    samples: list[Sample]
    cpu: float


class Users:
    """The driver process (``bench.e2e_fakes``): the fakes and the people who mention."""

    def __init__(self, proc: asyncio.subprocess.Process, addresses: dict[str, str]) -> None:
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
        """Return once the app's Socket Mode connection is up."""
        await self._ask(op="socket")

    async def mentions(self, count: int, *, concurrent: bool) -> Phase:
        """``count`` mentions (one at a time or all at once); the app's CPU meanwhile.

        One at a time means what it means for people: each mention finds the app idle (its
        previous task's background work, such as the memory note, is done). The CPU of that
        background work is counted all the same.
        """
        cpu0 = time.process_time()
        samples: list[Sample] = []
        for _ in range(1 if concurrent else count):
            await self.settle()
            reply = await self._ask(
                op="mentions", count=count if concurrent else 1, concurrent=concurrent
            )
            samples += [Sample(a, b) for a, b in reply["samples"]]
        await self.settle()
        return Phase(samples, time.process_time() - cpu0)


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
async def users(mode: str) -> AsyncIterator[Users]:
    """Start the driver process for ``mode`` (hearth or floor); stop it on exit."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.e2e_fakes",
        mode,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
        limit=2**24,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            raise RuntimeError("the bench driver did not start")
        yield Users(proc, json.loads(line))
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@contextlib.asynccontextmanager
async def app_on(fakes: Mapping[str, str], tmp: Path, **env: str) -> AsyncIterator[Any]:
    """hearth as ``hearth run`` builds it, on fakes at ``fakes``' addresses; data in ``tmp``.

    Yields the running app once it is ready (the caller waits for its socket).
    """
    from bot.config import Settings
    from bot.wiring import build_app

    settings = Settings.from_env(
        {
            "HEARTH_DATA_DIR": str(tmp / "data"),
            "HEARTH_WORKSPACE": str(tmp / "ws"),
            "OLLAMA_HOST": fakes["ollama_url"],
            "SLACK_BOT_TOKEN": fakes["bot_token"],
            "SLACK_APP_TOKEN": fakes["app_token"],
            "SLACK_API_URL": fakes["slack_url"],
            "ALLOWED_USERS": "slack:UANA",
            "ADMINS": "slack:UBOSS",
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


@contextlib.asynccontextmanager
async def hearth(tmp: Path, **env: str) -> AsyncIterator[Users]:
    """hearth on a fresh driver's fakes; data in ``tmp``."""
    async with users("hearth") as people, app_on(people.addresses, tmp, **env) as app:
        await people.wait_socket()
        people.settle = lambda: _idle(app)
        yield people


@contextlib.asynccontextmanager
async def _floor() -> AsyncIterator[Users]:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async with users("floor") as people:
        fakes = people.addresses
        client = AsyncWebClient(token=fakes["bot_token"], base_url=fakes["slack_url"])
        app = AsyncApp(client=client, signing_secret="", request_verification_enabled=False)

        @app.event("app_mention")
        async def _reply(event: dict[str, Any], client: AsyncWebClient) -> None:
            await client.chat_postMessage(
                channel=event["channel"], thread_ts=event["ts"], text=ANSWER
            )

        handler = AsyncSocketModeHandler(app, fakes["app_token"], web_client=client)
        await handler.connect_async()
        try:
            await people.wait_socket()
            yield people
        finally:
            await handler.close_async()


async def _measure(smoke: bool) -> dict[str, dict[str, Phase]]:
    sequential, concurrent = (3, 5) if smoke else (200, 50)
    out: dict[str, dict[str, Phase]] = {}
    with tempfile.TemporaryDirectory(prefix="hearth-bench-e2e-") as tmp:
        for name in ("floor", "hearth"):
            ctx = _floor() if name == "floor" else hearth(Path(tmp))
            async with ctx as people:
                await people.mentions(2, concurrent=False)  # warm up
                out[name] = {
                    "1 at a time": await people.mentions(sequential, concurrent=False),
                    f"{concurrent} at once": await people.mentions(concurrent, concurrent=True),
                }
    return out


def run(smoke: bool = False) -> Table:
    """Run the floor and hearth on the same kind of fake; one row per app and load."""
    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    logging.getLogger("slack_sdk").setLevel(logging.ERROR)
    results = asyncio.run(_measure(smoke))
    rows = []
    floor_first = {
        k: percentile([s.first for s in p.samples], 50) for k, p in results["floor"].items()
    }
    floor_cpu = {k: p.cpu / len(p.samples) for k, p in results["floor"].items()}
    for name, phases in results.items():
        for load, phase in phases.items():
            first = [s.first for s in phase.samples]
            final = [s.final for s in phase.samples]
            cpu = phase.cpu / len(phase.samples)
            ratio = percentile(first, 50) / floor_first[load] if floor_first[load] else 0.0
            extra_cpu = cpu - floor_cpu[load]
            row = [
                name,
                load,
                ms(percentile(first, 50)),
                ms(percentile(first, 99)),
                ms(percentile(final, 50)),
                ms(percentile(final, 99)),
                ms(cpu),
                "–" if name == "floor" else ms(extra_cpu),
                "1.0" if name == "floor" else f"{ratio:.1f}",
            ]
            if name == "hearth":
                targets = [f"first ≤2× floor {verdict(ratio <= 2.0)}"]
                if load == "1 at a time":
                    targets.append(f"CPU ≤5 ms {verdict(cpu <= 0.005)}")
                else:
                    targets.append(f"all ≤3 s {verdict(max(final) <= 3.0)}")
                row.append(", ".join(targets))
            else:
                row.append("")
            rows.append(row)
    headers = [
        "app",
        "load",
        "first post p50 ms",
        "first post p99 ms",
        "final p50 ms",
        "final p99 ms",
        "app CPU/mention ms",
        "over the floor ms",
        "× floor (first p50)",
        "targets",
    ]
    return headers, rows
