"""classifier: time to classify each command of the risk test cases, p50/p99.

Every command in tests/core/tools/test_tool_risk.py (read as data, never imported: bench ships
without tests/) is classified ``repeat`` times with a workspace, as the shell tool does. Per
command, its own p50 and p99; the table shows the spread of those over all commands, per
group, and the slowest commands. Target: every command's p99 < 2 ms, so that allow-listing
costs nothing a user notices.
"""

from __future__ import annotations

import ast
import random
import tempfile
import time
from pathlib import Path

from bench.common import Table, percentile, verdict
from core.tools.risk import classify

NAME = "classifier"
CASES_FILE = (
    Path(__file__).resolve().parent.parent / "tests" / "core" / "tools" / "test_tool_risk.py"
)
REPEAT, SMOKE_REPEAT, WARMUP = 500, 3, 5
NOTE = (
    "Cold: classify() caches nothing; every call parses and judges. Times are per call, "
    f"{REPEAT} samples per command taken in shuffled passes over all commands. Plain lines "
    "(words joined by |, &&, ||, ;) skip bashlex (core/tools/risk/plain.py); the rest pay "
    "its pure-Python parser. Noise floor: fixed pure-Python work as long as the slowest "
    "command's p50, timed in the same passes; its p99 is what this machine adds by itself."
)
TARGET_P99_S = 0.002
_FALLBACK = {
    "low": ["ls -la", "git log --oneline -5", "grep -rn TODO .", "tar czf out.tgz src"],
    "high": ["rm -r build", "curl -X POST -d @f https://x", "git -c core.pager=x log"],
    "blocked": ["rm -rf /", ":(){ :|:& };:"],
}


def commands() -> dict[str, list[str]]:
    """The risk test cases by group: BLOCKED, HIGH, LOW and the (command, level, …) CASES."""
    if not CASES_FILE.exists():
        return _FALLBACK
    groups: dict[str, list[str]] = {}
    tree = ast.parse(CASES_FILE.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in {"BLOCKED", "HIGH", "LOW", "CASES"}:
                value = ast.literal_eval(node.value)
                groups[name.lower()] = [v[0] if isinstance(v, tuple) else v for v in value]
    return groups or _FALLBACK


def _sample(command: str, workspace: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one classification (CPU time leaves out other processes'
    turns on a shared machine; wall time is what a user would wait)."""
    started, started_cpu = time.perf_counter(), time.thread_time()
    classify(command, workspace=workspace)
    return time.perf_counter() - started, time.thread_time() - started_cpu


def _busy(loops: int) -> None:
    """Fixed pure-Python work: the machine's own stalls, with no classifier in it."""
    total = 0
    for i in range(loops):
        total += i & 7


def _calibrate(target_s: float) -> int:
    """Loops of ``_busy`` that take about ``target_s`` of CPU."""
    loops = 1000
    while True:
        started = time.thread_time()
        _busy(loops)
        took = time.thread_time() - started
        if took > 0.01:
            return max(1, int(loops * target_s / took))
        loops *= 4


HEADERS = [
    "group",
    "commands",
    "median p50 ms",
    "max p50 ms",
    "max p99 ms",
    "max p99 cpu ms",
    "slowest (cpu)",
    "target (cpu)",
]


def run(smoke: bool = False) -> Table:
    """Classify every case ``repeat`` times, cold (nothing is cached between calls).

    Samples are taken in passes over all commands in a shuffled order, one sample per command
    per pass, so a burst of load from other processes spreads over many commands instead of
    landing on every sample of one. One row per group, one for all calls pooled, the five
    slowest commands, and a noise floor: fixed pure-Python work as long as the slowest
    command's p50, timed in the same passes, to show what the machine alone adds.
    """
    passes = SMOKE_REPEAT if smoke else REPEAT
    groups = {g: (c[:5] if smoke else c) for g, c in commands().items()}
    every = [(g, c) for g, cmds in groups.items() for c in cmds]
    wall: dict[tuple[str, str], list[float]] = {key: [] for key in every}
    cpu: dict[tuple[str, str], list[float]] = {key: [] for key in every}
    floor: list[float] = []
    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        # A few unrecorded passes: warm imports and caches, and size the noise-floor work.
        warm: dict[tuple[str, str], list[float]] = {key: [] for key in every}
        for _ in range(WARMUP):
            for key in every:
                warm[key].append(_sample(key[1], workspace)[1])
        loops = _calibrate(max(percentile(v, 50) for v in warm.values()))
        for _ in range(passes):
            order: list[tuple[str, str] | None] = [*every, None]  # None: the noise floor
            rng.shuffle(order)
            for key in order:
                if key is None:
                    started = time.thread_time()
                    _busy(loops)
                    floor.append(time.thread_time() - started)
                    continue
                w, c = _sample(key[1], workspace)
                wall[key].append(w)
                cpu[key].append(c)
    stats = {
        key: (percentile(cpu[key], 99), percentile(wall[key], 99), percentile(wall[key], 50))
        for key in every
    }
    rows: list[list[str]] = []
    for group, cmds in groups.items():
        mine = [(*stats[(group, c)], c) for c in cmds]
        rows.append(_row(group, mine))
    rows.append(_row("all", [(*stats[key], key[1]) for key in every]))
    pooled_cpu = [t for key in every for t in cpu[key]]
    pooled_wall = [t for key in every for t in wall[key]]
    rows.append(
        [
            "all calls pooled",
            str(len(pooled_cpu)),
            _ms(percentile(pooled_wall, 50)),
            "-",
            _ms(percentile(pooled_wall, 99)),
            _ms(percentile(pooled_cpu, 99)),
            "-",
            f"p99 < 2 ms: {verdict(percentile(pooled_cpu, 99) < TARGET_P99_S)}",
        ]
    )
    for p99_cpu, p99, p50, command in sorted(
        ((*stats[key], key[1]) for key in every), reverse=True
    )[:5]:
        rows.append(["slowest", "1", _ms(p50), "-", _ms(p99), _ms(p99_cpu), _short(command), "-"])
    rows.append(
        [
            "noise floor",
            "-",
            _ms(percentile(floor, 50)),
            "-",
            "-",
            _ms(percentile(floor, 99)),
            f"fixed work (cpu), {passes} runs",
            f"max {_ms(max(floor))} ms",
        ]
    )
    return HEADERS, rows


def _row(group: str, stats: list[tuple[float, float, float, str]]) -> list[str]:
    """One table row from per-command (cpu p99, wall p99, wall p50, command)."""
    worst = max(stats)
    return [
        group,
        str(len(stats)),
        _ms(percentile([s[2] for s in stats], 50)),
        _ms(max(s[2] for s in stats)),
        _ms(max(s[1] for s in stats)),
        _ms(worst[0]),
        _short(worst[3]),
        f"p99 < 2 ms: {verdict(worst[0] < TARGET_P99_S)}",
    ]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def _short(command: str, width: int = 40) -> str:
    flat = " ".join(command.split()).replace("|", "\\|")
    return flat if len(flat) <= width else flat[: width - 1] + "…"
