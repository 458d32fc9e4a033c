"""SeenEventStore: first delivery wins, duplicates are dropped, old keys are pruned."""

from __future__ import annotations

import asyncio

from core.storage import Database
from core.storage.seen import RETENTION_S, SeenEventStore


async def test_only_the_first_of_concurrent_deliveries_wins(db: Database) -> None:
    seen = SeenEventStore(db)
    results = await asyncio.gather(*(seen.first_time("slack:Ev1", 1.0) for _ in range(5)))
    assert results.count(True) == 1


async def test_prune_forgets_only_old_keys(db: Database) -> None:
    seen = SeenEventStore(db)
    await seen.first_time("old", 0.0)
    await seen.first_time("new", RETENTION_S)
    assert await seen.prune(RETENTION_S + 1) == 1
    assert await seen.first_time("old", RETENTION_S + 2)  # forgotten: counts as new again
    assert not await seen.first_time("new", RETENTION_S + 2)
