"""Ledger: the approvals this process waits on, and how a decision is taken and stored.

The first decision is claimed synchronously (double clicks are harmless) and the waiting task
only ever sees a decision that reached the audit trail.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from core.approvals.payload import valid_id
from core.clock import utc
from core.events import ApprovalOutcome, ApprovalRequest, Decision, MessageRef, User
from core.metrics import Metrics
from core.ports import Clock
from core.storage.approvals import ApprovalRecord, ApprovalStore

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Pending:
    """One approval this process is waiting on."""

    request: ApprovalRequest
    future: asyncio.Future[ApprovalOutcome]
    prompt: MessageRef | None = None
    outcome: ApprovalOutcome | None = None  # set synchronously by whoever decides first
    refused: set[str] = field(default_factory=set)  # users already told they cannot decide
    stored: bool = False  # our decision reached storage first (another process may have won)
    deadline: float = 0.0  # on the clock's monotonic scale
    timeout: float = 0.0  # seconds this request waits (APPROVAL_TIMEOUT or a scheduled run's)


class Ledger:
    """Pending approvals by id and by prompt; claims decisions and records them in storage."""

    def __init__(self, store: ApprovalStore, *, clock: Clock, metrics: Metrics | None) -> None:
        self.store = store
        self._clock = clock
        self._metrics = metrics
        self._pending: dict[str, Pending] = {}
        self._by_prompt: dict[tuple[str, str], str] = {}

    def ids(self) -> list[str]:
        """Ids of the approvals this process is waiting on."""
        return list(self._pending)

    def __contains__(self, approval_id: object) -> bool:
        return approval_id in self._pending

    def get(self, approval_id: str) -> Pending | None:
        """The waiting approval with this id, if this process waits on it."""
        return self._pending.get(approval_id)

    def at_prompt(self, platform: str, message_id: str) -> str | None:
        """The id of the waiting approval whose prompt is this message."""
        return self._by_prompt.get((platform, message_id))

    def add(self, pending: Pending) -> None:
        """Wait on ``pending`` (before its prompt exists: a fast click finds it)."""
        self._pending[pending.request.id] = pending

    def shown(self, pending: Pending, prompt: MessageRef) -> None:
        """Its prompt was posted: reactions on that message decide it."""
        pending.prompt = prompt
        self._by_prompt[(pending.request.chat.platform, prompt.message_id)] = pending.request.id

    def remove(self, pending: Pending) -> None:
        """Stop waiting on ``pending``."""
        self._pending.pop(pending.request.id, None)
        if pending.prompt is not None:
            key = (pending.request.chat.platform, pending.prompt.message_id)
            self._by_prompt.pop(key, None)

    async def lookup(self, approval_id: str) -> ApprovalRecord | None:
        """The stored approval (None for an id hearth never makes)."""
        return await self.store.get(approval_id) if valid_id(approval_id) else None

    def claim(
        self, pending: Pending, decision: Decision, user: User | None, reason: str
    ) -> ApprovalOutcome | None:
        """Take the decision synchronously; None when someone else already decided."""
        if pending.outcome is not None:
            return None
        pending.outcome = ApprovalOutcome(
            decision=decision,
            decided_by=user,
            decided_at=utc(self._clock.now()),
            reason=reason,
        )
        return pending.outcome

    async def record(self, pending: Pending, outcome: ApprovalOutcome, status: str) -> bool:
        """Persist a claimed decision and wake the waiting task; False if it did not stick.

        The waiting task only ever sees an approval that is in the audit trail: if storage
        already holds another decision (closed by a restart), that one wins; if storage
        fails, the task gets a denial.
        """
        stored = False
        final = ApprovalOutcome(
            decision=Decision.DENY,
            decided_by=None,
            decided_at=outcome.decided_at,
            reason="the decision could not be recorded",
        )
        try:
            stored = await self.store.decide(
                pending.request.id,
                status=status,
                decided_by=outcome.decided_by.qualified if outcome.decided_by else None,
                decided_by_name=outcome.decided_by.display_name if outcome.decided_by else "",
                reason=outcome.reason,
                at=outcome.decided_at.timestamp(),
            )
            if stored:
                final = outcome
            else:
                log.warning("approval %s was already closed in storage", pending.request.id)
                final = await self._stored_outcome(pending.request.id, final)
        except Exception:  # a storage failure denies; it must not leave the task waiting
            log.exception("could not record decision on approval %s", pending.request.id)
        finally:
            pending.stored = stored
            if not pending.future.done():
                pending.future.set_result(final)
            if self._metrics is not None:
                self._metrics.inc("hearth_approvals_total", outcome=status if stored else "lost")
        return stored

    async def _stored_outcome(
        self, approval_id: str, fallback: ApprovalOutcome
    ) -> ApprovalOutcome:
        """The decision storage holds for ``approval_id`` (another process made it)."""
        record = await self.store.get(approval_id)
        if record is None or record.pending:
            return fallback
        decided_by = None
        if record.decided_by:
            platform, _, uid = record.decided_by.partition(":")
            decided_by = User(platform, uid, record.decided_by_name)
        approved = record.status == "approved" and decided_by is not None
        return ApprovalOutcome(
            decision=Decision.APPROVE if approved else Decision.DENY,
            decided_by=decided_by,
            decided_at=utc(record.decided_at or self._clock.now()),
            reason=record.reason or record.status,
        )
