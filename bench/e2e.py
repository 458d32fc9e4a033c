"""The real path: a Slack mention through hearth's own wiring, against a bare slack-bolt floor.

hearth is built by ``bot.wiring.build_app`` exactly as ``hearth run`` builds it, with the Slack
adapter in Socket Mode against the loopback Slack fake and an Ollama fake that answers at once.
In the same run, a bare slack-bolt app that replies in the thread on the same kind of fake is the
floor: what the SDK itself costs. Reported: first post in the thread and final answer, p50 and
p99, one mention at a time and 50 at once; CPU per mention; hearth's ratio to the floor.

Needs a checkout (it drives the fakes in ``tests/fakes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Table, ms, percentile, verdict

NOTE = (
    "Socket Mode against the loopback Slack fake; instant Ollama fake; hearth via bot.wiring, "
    "floor = bare slack-bolt AsyncApp replying in the thread. CPU is process CPU per mention "
    "(fake servers included for both, so the difference is hearth's own)."
)
ANSWER = "All good: nothing to do."
CHANNEL = "C0BENCH"


@dataclass(frozen=True)
class Sample:
    """One mention: seconds to the first post in its thread and to its final answer."""

    first: float
    final: float


@dataclass(frozen=True)
class Phase:
    """Samples of one phase plus the process CPU it used."""

    samples: list[Sample]
    cpu: float


def _ollama_reply(body: Mapping[str, Any]) -> Any:
    from tests.fakes.ollama import ScriptedReply

    if body.get("format"):  # the planner: one step
        goal = str(body["messages"][-1].get("content", "")).splitlines()[0]
        return ScriptedReply("text", text=json.dumps({"subtasks": [goal[:80] or "answer"]}))
    return ScriptedReply("text", text=f"{ANSWER}\nCONFIDENCE: 0.9")


class _Watch:
    """Reads the fake's API calls: when each thread got its first post and its final answer."""

    def __init__(self, fake: Any, final: Callable[[str], bool]) -> None:
        self._fake = fake
        self._final = final
        self._seen = 0
        self.first: dict[str, float] = {}
        self.done: dict[str, float] = {}

    def scan(self) -> None:
        calls = self._fake.calls
        for call in calls[self._seen :]:
            if call.method == "chat.postMessage":
                root = call.params.get("thread_ts")
            elif call.method == "chat.update":
                msg = self._fake.messages.get(str(call.params.get("ts")))
                root = msg.thread_ts if msg else None
            else:
                continue
            if not root:
                continue
            if call.method == "chat.postMessage":
                self.first.setdefault(root, call.at)
            if self._final(str(call.params.get("text") or "")):
                self.done.setdefault(root, call.at)
        self._seen = len(calls)

    async def wait(self, roots: list[str], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while True:
                self.scan()
                if all(r in self.done for r in roots):
                    return
                await asyncio.sleep(0.002)


async def mentions(fake: Any, watch: _Watch, count: int, *, concurrent: bool) -> Phase:
    """Deliver ``count`` mentions (one at a time or all at once) and time each."""
    cpu0 = time.process_time()
    starts: dict[str, float] = {}

    async def one(i: int) -> str:
        event = fake.mention(CHANNEL, "UANA", f"please check the disks ({i})")
        root = event["event"]["ts"]
        starts[root] = time.monotonic()
        await fake.send_envelope(event, timeout=30)
        if not concurrent:
            await watch.wait([root], timeout=30)
        return root

    if concurrent:
        roots = await asyncio.gather(*(one(i) for i in range(count)))
        await watch.wait(list(roots), timeout=60)
    else:
        roots = [await one(i) for i in range(count)]
    cpu = time.process_time() - cpu0
    samples = [Sample(watch.first[r] - starts[r], watch.done[r] - starts[r]) for r in roots]
    return Phase(samples, cpu)


@contextlib.asynccontextmanager
async def hearth(tmp: Path, **env: str) -> AsyncIterator[tuple[Any, _Watch]]:
    """hearth as ``hearth run`` builds it, on a fresh Slack and Ollama fake; data in ``tmp``."""
    from bot.config import Settings
    from bot.wiring import build_app
    from tests.fakes.ollama import FakeOllama
    from tests.fakes.slack import FakeSlack

    async with FakeSlack() as slack, FakeOllama() as ollama:
        ollama.responder = _ollama_reply
        settings = Settings.from_env(
            {
                "HEARTH_DATA_DIR": str(tmp / "data"),
                "HEARTH_WORKSPACE": str(tmp / "ws"),
                "OLLAMA_HOST": ollama.url,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_APP_TOKEN": slack.app_token,
                "SLACK_API_URL": slack.base_url,
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
            await slack.wait_socket()
            yield slack, _Watch(slack, lambda t: t.startswith(ANSWER) and "▍" not in t)
        finally:
            stop.set()
            await task


@contextlib.asynccontextmanager
async def _floor() -> AsyncIterator[tuple[Any, _Watch]]:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from tests.fakes.slack import FakeSlack

    async with FakeSlack() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
        app = AsyncApp(client=client, signing_secret="", request_verification_enabled=False)

        @app.event("app_mention")
        async def _reply(event: dict[str, Any], client: AsyncWebClient) -> None:
            await client.chat_postMessage(
                channel=event["channel"], thread_ts=event["ts"], text=ANSWER
            )

        handler = AsyncSocketModeHandler(app, slack.app_token, web_client=client)
        await handler.connect_async()
        try:
            await slack.wait_socket()
            yield slack, _Watch(slack, lambda t: t == ANSWER)
        finally:
            await handler.close_async()


async def _measure(smoke: bool) -> dict[str, dict[str, Phase]]:
    sequential, concurrent = (3, 5) if smoke else (200, 50)
    out: dict[str, dict[str, Phase]] = {}
    with tempfile.TemporaryDirectory(prefix="hearth-bench-e2e-") as tmp:
        for name in ("floor", "hearth"):
            ctx = _floor() if name == "floor" else hearth(Path(tmp))
            async with ctx as (fake, watch):
                await mentions(fake, watch, 2, concurrent=False)  # warm up
                out[name] = {
                    "1 at a time": await mentions(fake, watch, sequential, concurrent=False),
                    f"{concurrent} at once": await mentions(
                        fake, watch, concurrent, concurrent=True
                    ),
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
                    targets.append(f"CPU ≤5 ms {verdict(extra_cpu <= 0.005)}")
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
        "CPU/mention ms",
        "hearth's own CPU ms",
        "× floor (first p50)",
        "targets",
    ]
    return headers, rows
