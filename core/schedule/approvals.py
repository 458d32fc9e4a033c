"""Approvals for scheduled runs: the usual prompt, with SCHEDULE_APPROVAL_TIMEOUT."""

from __future__ import annotations

from typing import Any

from core.events import ApprovalOutcome


class TimedApprovals:
    """Wraps the broker so every request of a scheduled run waits ``timeout`` seconds."""

    def __init__(self, broker: Any, timeout: float) -> None:
        self._broker = broker
        self._timeout = timeout

    async def request(self, **kwargs: Any) -> ApprovalOutcome:
        """Ask like any task; nobody answering within the timeout is a denial."""
        return await self._broker.request(**kwargs, timeout=self._timeout)
