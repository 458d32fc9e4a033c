"""throughput: tasks completed per second, instant model and one trivial tool call per task.

N mentions arrive at once; the real dispatcher queues them under MAX_CONCURRENT_TASKS and the
real agent runs each one: plan (scripted planner), one ``ping`` tool call, answer, progress
card, streamed answer, usage rows, task row. A ticker measures event-loop blocking the whole
time (target: max lag < 20 ms). The adapter has no edit pacing, so the number is the core's
own capacity, not a platform's rate limit.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import LagMonitor, Table, ms, percentile, verdict
from bench.stack import bench_users, build_agent, core_stack, mention

NAME = "throughput"
CONFIGS = ((4, 200), (32, 400))  # (MAX_CONCURRENT_TASKS, tasks)
SMOKE_CONFIGS = ((4, 12),)
LAG_TARGET_S = 0.020


async def _measure(concurrency: int, count: int, data_dir: Path) -> list[str]:
    workspace = data_dir / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)

    def runner(db, metrics):  # type: ignore[no-untyped-def]
        return build_agent(db, workspace=workspace, use_tool=True, metrics=metrics)

    async with core_stack(
        runner, data_dir=data_dir, users=bench_users(count), max_concurrent=concurrency
    ) as stack:
        await stack.dispatcher.handle(mention(0, round_=-1))  # warm-up, not counted
        await stack.wait_finished(1)
        async with LagMonitor() as lag:
            started = time.perf_counter()
            for i in range(count):
                await stack.dispatcher.handle(mention(i))
            await stack.wait_finished(count + 1, timeout=600)
            elapsed = time.perf_counter() - started
        rows = await stack.db.fetchall(
            "SELECT status, finished_at - created_at FROM tasks WHERE thread_id NOT LIKE '-1.%'"
        )
        tools = stack.metrics.total("hearth_llm_calls_total")
    done = sum(1 for status, _ in rows if status == "done")
    durations = [float(d) for _, d in rows]
    return [
        str(concurrency),
        str(count),
        str(done),
        f"{elapsed:.2f}",
        f"{count / elapsed:.1f}",
        f"{tools / (count + 1):.1f}",
        ms(percentile(durations, 50)),
        ms(percentile(durations, 99)),
        ms(lag.max_lag),
        verdict(lag.max_lag < LAG_TARGET_S and done == count),
    ]


HEADERS = [
    "concurrency",
    "tasks",
    "done",
    "seconds",
    "tasks/s",
    "LLM calls/task",
    "p50 task ms",
    "p99 task ms",
    "max loop lag ms",
    "ok",
]


async def _main(smoke: bool) -> Table:
    rows = []
    for concurrency, count in SMOKE_CONFIGS if smoke else CONFIGS:
        with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
            rows.append(await _measure(concurrency, count, Path(tmp)))
    return HEADERS, rows


def run(smoke: bool = False) -> Table:
    """Run the benchmark; returns (headers, rows)."""
    return asyncio.run(_main(smoke))
