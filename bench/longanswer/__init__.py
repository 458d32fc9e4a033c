"""longanswer: a long streamed answer costs linear CPU, and no other chat waits behind it.

hearth is built by ``bot.wiring.build_app`` with the Slack adapter in Socket Mode against the
loopback Slack fake, and an instant Ollama fake streams the one-step plan's answer (a 100 KB
and a 1 MB report, and 100 KB on one line) in small NDJSON chunks (4–20 characters). The
fakes run in a child process, so hearth's CPU is its own process's and the fakes never hold
its GIL.

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
import logging
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bench.common import Table, ms, percentile, verdict
from bench.longanswer.answers import Shape
from bench.longanswer.fakes import USER, Fakes

NOTE = (
    "Socket Mode against the loopback Slack fake; instant Ollama fake streaming the answer in "
    "4–20 character chunks; hearth via bot.wiring. CPU is hearth's own process (the fakes run "
    "in a child process), from the mention to the complete answer."
)
LONG_GOAL = "write the long report"
SIZES = (Shape(100_000), Shape(1_000_000), Shape(100_000, "line"))
SMOKE_SIZES = (Shape(20_000),)
CPU_TARGET_100K = 0.7  # seconds of hearth CPU for a 100 KB answer
LAG_TARGET = 0.100  # seconds: the longest any other chat may wait
TICK = 0.005


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


async def measure(shapes: tuple[Shape, ...], *, quick: bool = False) -> list[tuple[str, Run, Run]]:
    """Per shape (first the short baseline): its label, the CPU run and the run with helps."""
    results: list[tuple[str, Run, Run]] = []
    with tempfile.TemporaryDirectory(prefix="hearth-bench-long-") as tmp, Fakes() as fakes:
        async with hearth(fakes, Path(tmp)):
            ticker = Ticker()
            ticker.start()
            try:
                await one_task(fakes, ticker, "check the disks (warm-up)", None, with_help=False)
                for n, shape in enumerate((None, *shapes)):
                    answer = shape.text() if shape else None
                    runs = []
                    for k, with_help in enumerate((True,) if quick else (False, True)):
                        goal = f"{LONG_GOAL} {n}.{k}" if shape else f"check the disks {k}"
                        runs.append(
                            await one_task(fakes, ticker, goal, answer, with_help=with_help)
                        )
                    label = shape.label if shape else "short (baseline)"
                    results.append((label, runs[0], runs[-1]))
            finally:
                await ticker.stop()
    return results


def _row(label: str, baseline: Run, cpu_run: Run, help_run: Run) -> list[str]:
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
        label,
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


def run(smoke: bool = False, sizes: tuple[Shape, ...] | None = None) -> Table:
    """Run the baseline and each shape; one row each."""
    for name in ("slack_bolt", "slack_sdk", "hearth"):
        logging.getLogger(name).setLevel(logging.ERROR)
    chosen = sizes if sizes is not None else (SMOKE_SIZES if smoke else SIZES)
    results = asyncio.run(measure(chosen, quick=smoke))
    baseline = results[0][1]
    return HEADERS, [_row(label, baseline, a, b) for label, a, b in results]


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.longanswer [KB[line] ...]``: chosen answers only (records nothing).

    ``100`` is a 100 KB report, ``100line`` 100 KB on one line.
    """
    import sys

    from bench.common import format_table

    args = sys.argv[1:] if argv is None else argv
    sizes = tuple(
        Shape(
            int(float(a.removesuffix("line")) * 1000), "line" if a.endswith("line") else "report"
        )
        for a in args
    )
    print(format_table(*run(sizes=sizes or SIZES)))
