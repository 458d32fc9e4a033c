"""The real path: a mention through hearth's own wiring, against the bare SDK as the floor.

hearth is built by ``bot.wiring.build_app`` exactly as ``hearth run`` builds it, with one chat
adapter against its server (the loopback Slack fake in Socket Mode, the loopback Discord fake,
or a real Synapse) and an Ollama fake that answers at once. In the same run, a bare SDK app that
replies in the thread on the same kind of server is the floor: what the SDK itself costs
(``bench/e2e/floors.py``). The servers run in a process of their own (``bench.e2e.driver``), so
the CPU measured is the app's alone. Reported per platform: first post in the thread and final
answer, p50 and p99, one mention at a time and 50 at once; CPU per mention; hearth's ratio to
the floor. Slack's table is the headline; ``platforms`` picks the legs. Slack also runs the
work floor (``bench/e2e/workfloor.py``): the calls hearth's features require, with no hearth
code, so hearth's own share of the CPU shows.

Needs a checkout (it drives the fakes in ``tests/fakes``); the Matrix leg needs matrix-synapse.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from bench.common import Table, ms, percentile, verdict
from bench.e2e.app import Phase, Users, app_on, hearth, users
from bench.e2e.protocol import Unavailable

__all__ = ["NOTE", "PLATFORMS", "Users", "app_on", "hearth", "run", "tables", "users"]

PLATFORMS = ("slack", "discord", "matrix")
_CPU = (
    "The servers run in another process: CPU is the app's own process CPU per mention "
    "(all its threads)."
)
NOTE = (
    "Socket Mode against the loopback Slack fake; instant Ollama fake; hearth via bot.wiring, "
    "floor = bare slack-bolt AsyncApp replying in the thread; work floor = the same app making "
    "the library calls hearth's features require per mention with no hearth code between "
    "(card, answer, card edit; a task row; recall: embed + Chroma query; plan and answer by "
    "the Ollama SDK; memory note: model call, embed, Chroma add; bench/e2e/workfloor.py). "
    "The fakes run in another process: CPU is the app's own process CPU per mention (all its "
    "threads); 'of which Chroma' is chromadb's native threads."
)
NOTES = {
    "slack": NOTE,
    "discord": (
        "Gateway and REST against the loopback Discord fake; instant Ollama fake; hearth via "
        "bot.wiring, floor = bare discord.py Client that starts a thread from the mention and "
        "posts in it (as hearth does). Times from the mention's dispatch to the fake receiving "
        "the post or edit. " + _CPU
    ),
    "matrix": (
        "A real Synapse (SQLite, rate limits lifted for the bench users); instant Ollama fake; "
        "hearth via bot.wiring (encryption support on, the room is not encrypted), floor = bare "
        "matrix-nio AsyncClient replying in the m.thread. Times are Synapse's origin_server_ts "
        "(ms) of the mention and of the post or edit. Synapse runs in the driver process. " + _CPU
    ),
}
# (one at a time, at once) per platform; Matrix's answers take Synapse's ~10 ms per event.
_COUNTS = {"slack": (200, 50), "discord": (200, 50), "matrix": (100, 50)}
_SMOKE = (3, 5)
HEADERS = [
    "app",
    "load",
    "first post p50 ms",
    "first post p99 ms",
    "final p50 ms",
    "final p99 ms",
    "app CPU/mention ms",
    "over the floor ms",
    "of which Chroma ms",
    "× floor (first p50)",
    "targets",
]


async def _measure(smoke: bool, platform: str = "slack") -> dict[str, dict[str, Phase]]:
    from bench.e2e.floors import floor
    from bench.e2e.workfloor import work_floor

    sequential, concurrent = _SMOKE if smoke else _COUNTS[platform]
    out: dict[str, dict[str, Phase]] = {}
    apps = ("floor", "work floor", "hearth") if platform == "slack" else ("floor", "hearth")
    with tempfile.TemporaryDirectory(prefix=f"hearth-bench-e2e-{platform}-") as tmp:
        for name in apps:
            if name == "floor":
                ctx = floor(platform)
            elif name == "work floor":
                ctx = work_floor()
            else:
                ctx = hearth(Path(tmp), platform)
            async with ctx as people:
                await people.mentions(2, concurrent=False)  # warm up
                out[name] = {
                    "1 at a time": await people.mentions(sequential, concurrent=False),
                    f"{concurrent} at once": await people.mentions(concurrent, concurrent=True),
                }
    return out


def _quiet() -> None:
    for name in ("slack_bolt", "slack_sdk", "discord", "nio"):
        logging.getLogger(name).setLevel(logging.ERROR)


def run(smoke: bool = False) -> Table:
    """Slack: the floor and hearth on the same kind of fake; one row per app and load."""
    _quiet()
    return _table(asyncio.run(_measure(smoke)))


def tables(
    smoke: bool = False, platforms: Iterable[str] | None = None
) -> Iterator[tuple[str, Table, str]]:
    """``(name, table, note)`` per platform, Slack (the headline, named ``e2e``) first.

    A platform whose server cannot run here (no Synapse) gets a row saying so.
    """
    _quiet()
    chosen = set(platforms or PLATFORMS)
    for platform in (p for p in PLATFORMS if p in chosen):
        name = "e2e" if platform == "slack" else f"e2e {platform}"
        try:
            table = _table(asyncio.run(_measure(smoke, platform)))
        except Unavailable as exc:
            table = (HEADERS, [["–", "–", *["n/a"] * 8, f"not measured: {exc}"]])
        yield name, table, NOTES[platform]


def _table(results: dict[str, dict[str, Phase]]) -> Table:
    rows = []
    floor_first = {
        k: percentile([s.first for s in p.samples], 50) for k, p in results["floor"].items()
    }
    floor_cpu = {k: p.cpu / len(p.samples) for k, p in results["floor"].items()}
    work_cpu = {k: p.cpu / len(p.samples) for k, p in results.get("work floor", {}).items()}
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
                "–" if name == "floor" else ms(phase.chroma_cpu / len(phase.samples)),
                "1.0" if name == "floor" else f"{ratio:.1f}",
            ]
            if name == "hearth":
                targets = [f"first ≤2× floor {verdict(ratio <= 2.0)}"]
                if load == "1 at a time":
                    targets.append(f"CPU ≤5 ms {verdict(cpu <= 0.005)}")
                    if load in work_cpu:
                        targets.append(f"own over the work floor {ms(cpu - work_cpu[load])} ms")
                else:
                    targets.append(f"all ≤3 s {verdict(max(final) <= 3.0)}")
                row.append(", ".join(targets))
            elif name == "work floor" and load == "1 at a time":
                row.append(f"CPU ≤5 ms {verdict(cpu <= 0.005)}, with no hearth code at all")
            else:
                row.append("")
            rows.append(row)
    return HEADERS, rows
