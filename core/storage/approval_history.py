"""ApprovalHistory: read-only views of the approval audit trail, per channel."""

from __future__ import annotations

from core.storage.approvals import ApprovalRecord, _record
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
