"""`hearth usage` and `hearth export`: reports and JSONL from the database."""

from __future__ import annotations

from typing import TextIO

from bot.config import Settings
from core.clock import SystemClock
from core.heartbeat.export import export_ticks, parse_since
from core.storage import MIGRATIONS, Database
from core.storage.audit import export_approvals
from core.storage.tasks import TaskStore
from core.storage.ticks import TickStore
from core.storage.usage import UsageStore
from core.usage import UsageReporter


async def usage_report(settings: Settings) -> str:
    """`hearth usage`: today / 7 days / all time, per provider and per user."""
    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        return await UsageReporter(UsageStore(db)).report()
    finally:
        await db.close()


async def export(
    settings: Settings, what: str, out: TextIO, *, labeled: bool, since: str | None
) -> int:
    """`hearth export ticks|tasks|approvals` as JSONL; returns the number of lines."""
    import json

    since_ts = parse_since(since, now=SystemClock().now()) if since else None
    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        since_ts = parse_since(since, now=SystemClock().now()) if since else None
        if what == "ticks":
            return await export_ticks(TickStore(db), out, labeled_only=labeled, since=since_ts)
        if what == "approvals":
            return await export_approvals(db, out, since=since_ts)
        count = 0
        for record in await TaskStore(db).recent(limit=1_000_000):
            if since_ts is not None and record.created_at < since_ts:
                continue
            out.write(
                json.dumps(
                    {
                        "id": record.id,
                        "requester": record.requester,
                        "chat": record.chat.key,
                        "goal": record.goal,
                        "status": record.status,
                        "result": record.result,
                        "created_at": record.created_at,
                        "started_at": record.started_at,
                        "finished_at": record.finished_at,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            count += 1
        return count
    finally:
        await db.close()
