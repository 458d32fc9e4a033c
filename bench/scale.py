"""Growth at a glance: first-post latency and RSS with 1k, 100k and 1M stored rows.

The task, usage and events-seen tables are filled with generated rows (today's usage, so a
budget check would have to sum them), then hearth is started by its real wiring with daily
budgets set, and mentions go through the loopback Slack fake as in ``bench e2e``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import psutil

from bench.common import Table, ms, percentile, verdict
from bench.e2e import hearth

NOTE = "Rows generated per table (tasks, usage today, events_seen); DAILY_BUDGET_USD set."
SIZES = (1_000, 100_000, 1_000_000)


async def _fill(data: Path, rows: int) -> None:
    from core.storage import MIGRATIONS, Database

    db = Database(data / "hearth.db", MIGRATIONS)
    await db.start()
    now = time.time()
    try:
        conn = db.conn
        await conn.execute("BEGIN")
        await conn.executemany(
            "INSERT INTO tasks(id, requester, chat_key, platform, channel_id, thread_id, goal, "
            "status, result, created_at, started_at, finished_at) "
            "VALUES (?, 'slack:UANA', 'slack:C:1', 'slack', 'C', '1', 'old goal', 'done', "
            "'ok', ?, ?, ?)",
            ((f"t{i}", now - i, now - i, now - i) for i in range(rows)),
        )
        await conn.executemany(
            "INSERT INTO usage(at, task_id, user, provider, model, purpose, prompt_tokens, "
            "completion_tokens, duration_s, cost_usd, saved_usd) "
            "VALUES (?, 't', 'slack:UANA', 'anthropic', 'claude-opus-4-6', 'execute', 10, 10, "
            "0.1, 0.000001, 0)",
            ((now - (i % 3600),) for i in range(rows)),
        )
        await conn.executemany(
            "INSERT INTO events_seen(key, seen_at) VALUES (?, ?)",
            ((f"slack:Ev{i}", now - (i % 86400)) for i in range(rows)),
        )
        await conn.execute("COMMIT")
    finally:
        await db.close()


async def _measure(rows: int, mentions_count: int) -> tuple[list[float], float]:
    with tempfile.TemporaryDirectory(prefix="hearth-bench-scale-") as tmp:
        data = Path(tmp) / "data"
        await _fill(data, rows)
        env = {"DAILY_BUDGET_USD": "1000", "USER_DAILY_BUDGET_USD": "100"}
        async with hearth(Path(tmp), **env) as people:
            await people.mentions(2, concurrent=False)
            phase = await people.mentions(mentions_count, concurrent=False)
            rss = psutil.Process().memory_info().rss / 2**20
    return [s.first for s in phase.samples], rss


def run(smoke: bool = False) -> Table:
    """One row per table size."""
    sizes = (100, 1_000) if smoke else SIZES
    count = 5 if smoke else 50
    rows, base = [], None
    for size in sizes:
        firsts, rss = asyncio.run(_measure(size, count))
        p50 = percentile(firsts, 50)
        base = base or p50
        rows.append(
            [
                f"{size:,}",
                ms(p50),
                ms(percentile(firsts, 99)),
                f"{p50 / base:.2f}",
                f"{rss:.0f}",
                verdict(p50 <= base * 1.2),
            ]
        )
    headers = ["rows per table", "first post p50 ms", "p99 ms", "× smallest", "RSS MB", "≤1.2×"]
    return headers, rows
