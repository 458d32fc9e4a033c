"""longanswer: a long streamed answer costs linear CPU, and no other chat waits behind it.

hearth is built by ``bot.wiring.build_app`` with the Slack adapter in Socket Mode against the
loopback Slack fake, and an instant Ollama fake streams the one-step plan's answer (100 KB and
1 MB) in small NDJSON chunks (4–20 characters). The fakes run in a child process, so hearth's
CPU is its own process's and the fakes never hold its GIL.

Each size runs twice. The first run measures hearth's CPU from the mention until the answer
stands complete on the server (every part exactly as ``split_text`` cuts the streamed text)
and the card says done. The second run sends ``help`` in another channel, one after the other,
while the answer streams, and times each reply. Both runs record the event loop's lag (a 5 ms
ticker's lateness) while the answer streams. A short answer is the baseline, so CPU per KB is
the long answer's CPU above it. Targets: 100 KB ≤ 0.7 s CPU; lag and ``help`` ≤ 100 ms.

Needs a checkout (it drives the fakes in ``tests/fakes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import random
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.common import Table, ms, percentile, verdict

NOTE = (
    "Socket Mode against the loopback Slack fake; instant Ollama fake streaming the answer in "
    "4–20 character chunks; hearth via bot.wiring. CPU is hearth's own process (the fakes run "
    "in a child process), from the mention to the complete answer."
)
CHANNEL = "C0LONG"
OTHER = "C0OTHER"
USER = "UANA"
LONG_GOAL = "write the long report"
SHORT_ANSWER = "All good: nothing to do."
OPENING = "Here is the report."
SIZES = (100_000, 1_000_000)
SMOKE_SIZES = (20_000,)
CPU_TARGET_100K = 0.7  # seconds of hearth CPU for a 100 KB answer
LAG_TARGET = 0.100  # seconds: the longest any other chat may wait
HELP_GAP = 0.05  # seconds between one help's reply and the next help
TICK = 0.005

WORDS = (
    *("disk", "usage", "service", "restart", "config", "backup", "latency", "queue"),
    *("worker", "cache", "index", "request", "response", "volume", "mount", "network"),
    *("bridge", "kernel", "module", "cluster", "replica"),
)


def long_answer(size: int, seed: int = 7) -> str:
    """About ``size`` characters of report: paragraphs, bullets and fenced code, no notes."""
    rng = random.Random(seed)
    words = WORDS
    out = [OPENING, ""]
    length = len(OPENING) + 1
    section = 0
    while length < size:
        section += 1
        block: list[str] = [f"## Section {section}", ""]
        for _ in range(rng.randint(2, 4)):
            block.append(" ".join(rng.choice(words) for _ in range(rng.randint(30, 90))) + ".")
            block.append("")
        block += [f"- item {section}.{i}: {rng.choice(words)} ok" for i in range(3)]
        block.append("")
        if section % 3 == 0:
            block += ["```python", *(f"x{i} = {i} * {section}" for i in range(12)), "```", ""]
        text = "\n".join(block)
        out.append(text)
        length += len(text) + 1
    return "\n".join(out)[:size].rstrip()


def chunked(text: str, seed: int = 11) -> list[str]:
    """``text`` in pieces of 4–20 characters, as a fast model streams it."""
    rng = random.Random(seed)
    pieces = []
    at = 0
    while at < len(text):
        step = rng.randint(4, 20)
        pieces.append(text[at : at + step])
        at += step
    return pieces


def server_parts(answer: str) -> list[str]:
    """The messages a complete ``answer`` must become on Slack: split, then as mrkdwn."""
    from adapters.slack.adapter import DEFAULT_CAPABILITIES
    from adapters.slack.mrkdwn import to_mrkdwn
    from core.render import CURSOR
    from core.textsplit import split_text

    limit = max(16, DEFAULT_CAPABILITIES.max_message_chars - len(CURSOR))
    parts = split_text(answer, limit)
    parts[-1] = parts[-1].rstrip()
    return [to_mrkdwn(p) for p in parts]


class FakeSide:
    """The Slack and Ollama fakes, in the child process: scripted and watched from there."""

    def __init__(self) -> None:
        self.slack: Any = None
        self.ollama: Any = None
        self.answers: dict[str, str] = {}  # goal -> answer text the executor streams

    async def start(self) -> dict[str, str]:
        from tests.fakes.ollama import FakeOllama
        from tests.fakes.slack import FakeSlack

        self.slack = await FakeSlack().__aenter__()
        self.ollama = await FakeOllama().start()
        self.ollama.responder = self._reply
        return {
            "bot_token": self.slack.bot_token,
            "app_token": self.slack.app_token,
            "slack_url": self.slack.base_url,
            "ollama_url": self.ollama.url,
        }

    async def stop(self) -> None:
        await self.ollama.stop()
        await self.slack.stop()

    async def wait_socket(self) -> None:
        await self.slack.wait_socket(timeout=30)

    def _reply(self, body: Mapping[str, Any]) -> Any:
        from tests.fakes.ollama import ScriptedReply

        goal = str(body["messages"][-1].get("content", "")).splitlines()[0]
        if body.get("format"):  # the planner: one step, the goal itself
            return ScriptedReply("text", text=json.dumps({"subtasks": [goal[:80] or "answer"]}))
        # The executor's first message starts "Overall goal: <goal>" (memory recalled from
        # earlier tasks may quote other goals further down).
        users = [m for m in body["messages"] if m.get("role") == "user"]
        first = str(users[0].get("content", "")) if users else ""
        answer = self.answers.get(first.splitlines()[0].removeprefix("Overall goal: ").strip())
        if answer is None:
            return ScriptedReply("text", text=f"{SHORT_ANSWER}\nCONFIDENCE: 0.9")
        text = answer + "\nCONFIDENCE: 0.9"
        return ScriptedReply("text", text=text, chunks=chunked(text))

    async def prepare(self, goal: str, answer: str | None) -> None:
        """The model answers ``goal`` with ``answer`` (None: the short answer)."""
        self.answers.pop(goal, None)
        if answer is not None:
            self.answers[goal] = answer

    async def task(self, goal: str, with_help: bool) -> dict[str, Any]:
        """Mention hearth with ``goal`` and watch until its answer stands complete."""
        text = self.answers.get(goal, SHORT_ANSWER)
        event = self.slack.mention(CHANNEL, USER, goal)
        watch = Watch(event["event"]["ts"], server_parts(text))
        stop = asyncio.Event()
        helping = asyncio.create_task(helps(self.slack, stop)) if with_help else None
        watch.sent = time.monotonic()
        await self.slack.send_envelope(event, timeout=60)
        try:
            await watch_task(self.slack, watch, timeout=600)
        finally:
            stop.set()
        sent_helps = await helping if helping is not None else []
        return {
            "size": len(text),
            "sent": watch.sent,
            "first": watch.first_answer,
            "complete": watch.complete,
            "parts": len(watch.parts),
            "exact": watch.parts == watch.expected,
            "helps": sent_helps,
        }


def _fakes_main(conn: Connection) -> None:
    """The child process: serve ``FakeSide`` calls from ``conn`` until told to stop."""

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        side = FakeSide()
        conn.send(await side.start())
        while True:
            name, args = await loop.run_in_executor(None, conn.recv)
            if name == "stop":
                break
            conn.send(await getattr(side, name)(*args))
        await side.stop()
        conn.send(None)

    asyncio.run(serve())


class Fakes:
    """The fakes in a child process: their CPU is not hearth's, and they never hold its GIL."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_fakes_main, args=(child,), daemon=True)
        self.info: dict[str, str] = {}

    def __enter__(self) -> Fakes:
        self._proc.start()
        self.info = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send(("stop", ()))
        self._conn.recv()
        self._proc.join(timeout=30)

    async def call(self, name: str, *args: Any) -> Any:
        """Call ``FakeSide.name(*args)`` in the child; hearth's loop keeps running meanwhile."""
        self._conn.send((name, args))
        return await asyncio.get_running_loop().run_in_executor(None, self._conn.recv)


@dataclass
class Watch:
    """What the fake Slack saw of one task: times of the answer's first post and completion."""

    root: str
    expected: list[str]
    sent: float = 0.0
    first_answer: float | None = None
    complete: float | None = None
    parts: list[str] = field(default_factory=list)


async def watch_task(slack: Any, watch: Watch, timeout: float) -> None:
    """Poll until the answer stands complete (exactly as expected) and the card says done."""
    async with asyncio.timeout(timeout):
        while True:
            msgs = slack.in_thread(CHANNEL, watch.root)
            answer = [m for m in msgs if m.text.startswith(watch.expected[0][:16])]
            if answer and watch.first_answer is None:
                watch.first_answer = time.monotonic()
            if answer:
                start = msgs.index(answer[0])
                # Only the answer's messages: a note may follow it (e.g. a skill suggestion).
                watch.parts = [m.text for m in msgs[start : start + len(watch.expected)]]
            card_done = bool(msgs) and not msgs[0].text.startswith("⏳")
            if watch.parts == watch.expected and card_done:
                watch.complete = time.monotonic()
                return
            await asyncio.sleep(0.005)


async def helps(slack: Any, stop: asyncio.Event) -> list[tuple[float, float]]:
    """Send ``help`` in another channel, one after the other; (sent, latency) of each."""
    out: list[tuple[float, float]] = []
    while not stop.is_set():
        event = slack.mention(OTHER, USER, "help")
        ts = event["event"]["ts"]
        sent = time.monotonic()
        await slack.send_envelope(event, timeout=60)
        while not any(m.channel == OTHER and m.thread_ts == ts for m in _bot_posts(slack)):
            await asyncio.sleep(0.001)
        out.append((sent, time.monotonic() - sent))
        await asyncio.sleep(HELP_GAP)
    return out


def _bot_posts(slack: Any) -> list[Any]:
    return [m for m in list(slack.messages.values())[-20:] if m.user == slack.bot_user_id]


class Ticker:
    """The event loop's lateness: a task that wakes every ``TICK`` s and records how late."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (monotonic, lateness)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick(), name="bench:ticker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _tick(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(TICK)
            now = time.monotonic()
            self.samples.append((now, now - before - TICK))

    def max_lag(self, start: float, end: float) -> float:
        return max((lag for at, lag in self.samples if start <= at <= end), default=0.0)


@contextlib.asynccontextmanager
async def hearth(fakes: Fakes, tmp: Path) -> AsyncIterator[None]:
    """hearth as ``hearth run`` builds it, on the fakes."""
    from bench.e2e import app_on

    async with app_on(fakes.info, tmp, ALLOWED_USERS=f"slack:{USER}"):
        await fakes.call("wait_socket")
        yield


@dataclass(frozen=True)
class Run:
    """One task's measurements."""

    size: int
    cpu: float  # hearth's CPU, mention to complete answer
    wall: float
    lag: float  # the loop's max lateness while the answer streamed
    helps: list[float]  # latency of each help sent while the answer streamed
    parts: int
    exact: bool


async def one_task(
    fakes: Fakes, ticker: Ticker, goal: str, answer: str | None, *, with_help: bool
) -> Run:
    """Mention hearth with ``goal``; the model streams ``answer`` (None: the short one)."""
    await fakes.call("prepare", goal, answer)
    cpu0 = time.process_time()  # hearth's process only: the fakes run in another
    seen = await fakes.call("task", goal, with_help)
    cpu = time.process_time() - cpu0
    start, end = seen["first"], seen["complete"]
    return Run(
        size=seen["size"],
        cpu=cpu,
        wall=end - seen["sent"],
        lag=ticker.max_lag(start, end),
        helps=[lat for at, lat in seen["helps"] if start <= at <= end],
        parts=seen["parts"],
        exact=seen["exact"],
    )


async def measure(sizes: tuple[int, ...], *, quick: bool = False) -> list[tuple[Run, Run]]:
    """Per size (0 = the short baseline): the CPU run and the run with helps (one, if quick)."""
    results: list[tuple[Run, Run]] = []
    with tempfile.TemporaryDirectory(prefix="hearth-bench-long-") as tmp, Fakes() as fakes:
        async with hearth(fakes, Path(tmp)):
            ticker = Ticker()
            ticker.start()
            try:
                await one_task(fakes, ticker, "check the disks (warm-up)", None, with_help=False)
                for n, size in enumerate((0, *sizes)):
                    answer = long_answer(size) if size else None
                    runs = []
                    for k, with_help in enumerate((True,) if quick else (False, True)):
                        goal = f"{LONG_GOAL} {n}.{k}" if size else f"check the disks {k}"
                        runs.append(
                            await one_task(fakes, ticker, goal, answer, with_help=with_help)
                        )
                    results.append((runs[0], runs[-1]))
            finally:
                await ticker.stop()
    return results


def _row(baseline: Run, cpu_run: Run, help_run: Run) -> list[str]:
    size = cpu_run.size
    kb = size / 1000
    extra = cpu_run.cpu - baseline.cpu
    lag = max(cpu_run.lag, help_run.lag)
    worst_help = max(help_run.helps, default=float("nan"))
    targets = []
    if size != baseline.size:
        if 90_000 <= size <= 110_000:
            targets.append(f"CPU ≤{CPU_TARGET_100K:g} s {verdict(cpu_run.cpu <= CPU_TARGET_100K)}")
        ok = lag <= LAG_TARGET and (not help_run.helps or worst_help <= LAG_TARGET)
        targets.append(f"lag, help ≤100 ms {verdict(ok)}")
        targets.append(f"exact {verdict(cpu_run.exact and help_run.exact)}")
    return [
        "short (baseline)" if size == baseline.size else f"{kb:g} KB",
        str(cpu_run.parts),
        f"{cpu_run.cpu:.3f}",
        "–" if size == baseline.size else f"{extra / kb * 1000:.2f}",
        f"{cpu_run.wall:.2f}",
        ms(lag),
        str(len(help_run.helps)),
        ms(percentile(help_run.helps, 50)) if help_run.helps else "–",
        ms(worst_help) if help_run.helps else "–",
        ", ".join(targets),
    ]


HEADERS = [
    "answer",
    "messages",
    "hearth CPU s",
    "CPU ms/KB above baseline",
    "wall s",
    "max loop lag ms",
    "helps during stream",
    "help p50 ms",
    "help max ms",
    "targets",
]


def run(smoke: bool = False, sizes: tuple[int, ...] | None = None) -> Table:
    """Run the baseline and each size; one row each."""
    for name in ("slack_bolt", "slack_sdk", "hearth"):
        logging.getLogger(name).setLevel(logging.ERROR)
    chosen = sizes if sizes is not None else (SMOKE_SIZES if smoke else SIZES)
    results = asyncio.run(measure(chosen, quick=smoke))
    baseline = results[0][0]
    return HEADERS, [_row(baseline, a, b) for a, b in results]


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.longanswer [KB ...]``: run chosen sizes only (prints, records nothing)."""
    import sys

    from bench.common import format_table

    args = sys.argv[1:] if argv is None else argv
    sizes = tuple(int(float(a) * 1000) for a in args) or SIZES
    print(format_table(*run(sizes=sizes)))


if __name__ == "__main__":
    main()
