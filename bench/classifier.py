"""classifier: time to classify each command of the risk test cases, p50/p99.

Every command in tests/core/tools/test_tool_risk.py (read as data, never imported: bench ships
without tests/) is classified ``repeat`` times with a workspace, as the shell tool does. Per
command, its own p50 and p99; the table shows the spread of those over all commands, per
group, and the slowest commands. Target: every command's p99 < 2 ms, so that allow-listing
costs nothing a user notices.
"""

from __future__ import annotations

import ast
import tempfile
import time
from pathlib import Path

from bench.common import Table, percentile, verdict
from core.tools.risk import classify

NAME = "classifier"
CASES_FILE = (
    Path(__file__).resolve().parent.parent / "tests" / "core" / "tools" / "test_tool_risk.py"
)
REPEAT, SMOKE_REPEAT = 100, 3
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


def _time(command: str, workspace: Path, repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each classification (CPU time leaves out other processes'
    turns on a shared machine; wall time is what a user would wait)."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.thread_time()
        classify(command, workspace=workspace)
        cpu.append(time.thread_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return wall, cpu


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
    """Classify every case ``repeat`` times; one row per group, then the five slowest."""
    repeat = SMOKE_REPEAT if smoke else REPEAT
    rows: list[list[str]] = []
    every: list[tuple[float, float, float, str]] = []  # (cpu p99, wall p99, wall p50, command)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        for group, cmds in commands().items():
            if smoke:
                cmds = cmds[:5]
            stats = []
            for command in cmds:
                wall, cpu = _time(command, workspace, repeat)
                p99_cpu, p99, p50 = (
                    percentile(cpu, 99),
                    percentile(wall, 99),
                    percentile(wall, 50),
                )
                stats.append((p99_cpu, p99, p50, command))
            every += stats
            worst = max(stats)
            rows.append(
                [
                    group,
                    str(len(stats)),
                    _ms(percentile([s[2] for s in stats], 50)),
                    _ms(max(s[2] for s in stats)),
                    _ms(max(s[1] for s in stats)),
                    _ms(worst[0]),
                    _short(worst[3]),
                    f"p99 < 2 ms: {verdict(worst[0] < TARGET_P99_S)}",
                ]
            )
    for p99_cpu, p99, p50, command in sorted(every, reverse=True)[:5]:
        rows.append(["slowest", "1", _ms(p50), "-", _ms(p99), _ms(p99_cpu), _short(command), "-"])
    return HEADERS, rows


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def _short(command: str, width: int = 40) -> str:
    flat = " ".join(command.split()).replace("|", "\\|")
    return flat if len(flat) <= width else flat[: width - 1] + "…"
