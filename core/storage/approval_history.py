"""ApprovalHistory: read-only views of the approval audit trail (per channel, for export)."""

from __future__ import annotations

from collections.abc import Sequence

from core.storage.approvals import ApprovalEvent, ApprovalRecord, _record
from core.storage.db import Database


class ApprovalHistory:
    """Queries over ``approvals`` and ``approval_events``; never writes."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def pending_in(self, platform: str, channel_id: str) -> list[ApprovalRecord]:
        """Approvals still waiting in one channel (any thread), oldest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM approvals WHERE status = 'pending' AND platform = ? "
            "AND channel_id = ? ORDER BY created_at",
            (platform, channel_id),
        )
        return [_record(r) for r in rows]

    async def decided_in(
        self, platform: str, channel_id: str, *, limit: int = 20
    ) -> list[ApprovalRecord]:
        """The newest closed approvals of one channel, newest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM approvals WHERE status != 'pending' AND platform = ? "
            "AND channel_id = ? ORDER BY COALESCE(decided_at, created_at) DESC LIMIT ?",
            (platform, channel_id, limit),
        )
        return [_record(r) for r in rows]

    async def since(self, since: float | None) -> list[ApprovalRecord]:
        """Every approval requested since ``since`` (None = all), in request order."""
        rows = await self._db.fetchall(
            "SELECT * FROM approvals WHERE created_at >= ? ORDER BY created_at, rowid",
            (since if since is not None else float("-inf"),),
        )
        return [_record(r) for r in rows]

    async def events_of(self, ids: Sequence[str]) -> dict[str, list[ApprovalEvent]]:
        """The audit lines of each approval in ``ids``, in order."""
        out: dict[str, list[ApprovalEvent]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = await self._db.fetchall(
                "SELECT approval_id, at, actor, action, detail FROM approval_events "
                f"WHERE approval_id IN ({marks}) ORDER BY at, id",
                chunk,
            )
            for r in rows:
                out[r[0]].append(ApprovalEvent(r[0], r[1], r[2], r[3], r[4]))
        return out
