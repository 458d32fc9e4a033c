"""`hearth heartbeat`: one tick now, or the digest of stored ticks."""

from __future__ import annotations

from bot.config import Settings
from core.clock import SystemClock
from core.heartbeat.digest import Digest, build_digest
from core.heartbeat.export import parse_since
from core.storage import MIGRATIONS, Database
from core.storage.ticks import TickStore


async def heartbeat_once(settings: Settings) -> tuple[str, str]:
    """`hearth heartbeat --once`: one tick with no platform; returns (report, severity)."""
    from bot.wiring import build_core

    core = build_core(settings, {})
    await core.db.start()
    try:
        result = await core.heartbeat.tick(trigger="cli")
        await core.heartbeat.drain(timeout=5)
        return result.report, result.severity
    finally:
        await core.heartbeat.close()
        await core.db.close()


async def heartbeat_digest(settings: Settings, *, since: str) -> Digest:
    """`hearth heartbeat --digest`: the digest text and PNG from stored ticks, nothing posted."""
    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        now = SystemClock().now()
        hours = max(1 / 60, (now - parse_since(since, now=now)) / 3600)
        return await build_digest(
            TickStore(db), now=now, hours=hours, interval=settings.heartbeat_interval
        )
    finally:
        await db.close()
