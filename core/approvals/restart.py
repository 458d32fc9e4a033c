"""After a restart: approvals a previous run left pending are closed as expired, never run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Container, Mapping

from core.clock import utc
from core.events import ApprovalOutcome, Decision
from core.metrics import Metrics
from core.notices import CloseNotice, PostNotice
from core.outbox import Outbox
from core.ports import ChatAdapter, Clock
from core.storage.approvals import ApprovalRecord, ApprovalStore

log = logging.getLogger(__name__)

RESTART_REASON = "expired: hearth restarted"


async def close_stale(
    store: ApprovalStore,
    *,
    adapters: Mapping[str, ChatAdapter],
    clock: Clock,
    waiting: Container[str],
    metrics: Metrics | None = None,
    outbox: Outbox | None = None,
) -> int:
    """Close stored pending approvals (but those in ``waiting``) as expired; tell their threads.

    With an ``outbox`` the prompts are closed and the threads told once each platform is
    connected; without one (tests) at once. Returns how many were closed.
    """
    closed = 0
    for record in await store.pending():
        if record.id in waiting:
            continue  # ours, still being waited on
        now = clock.now()
        stored = await store.decide(
            record.id, status="expired", decided_by=None, reason=RESTART_REASON, at=now
        )
        if not stored:
            continue
        closed += 1
        if metrics is not None:
            metrics.inc("hearth_approvals_total", outcome="expired")
        outcome = ApprovalOutcome(
            decision=Decision.DENY, decided_by=None, decided_at=utc(now), reason=RESTART_REASON
        )
        if outbox is not None:
            # Delivered once the platform is connected, retried until it is.
            if record.prompt is not None:
                await outbox.put(
                    record.chat.platform,
                    f"close stale approval {record.id}",
                    CloseNotice(record.prompt, outcome),
                )
            await outbox.put(
                record.chat.platform,
                f"stale approval {record.id}",
                PostNotice(record.chat, restart_note(record)),
            )
            continue
        adapter = adapters.get(record.chat.platform)
        if adapter is None:
            continue
        try:
            if record.prompt is not None:
                await adapter.close_approval(record.prompt, outcome)
            await adapter.post(record.chat, restart_note(record))
        except asyncio.CancelledError:
            raise
        except Exception:  # one unreachable chat must not stop the others being closed
            log.exception("could not close stale approval %s", record.id)
    return closed


def restart_note(record: ApprovalRecord) -> str:
    """What a thread is told about an approval a restart closed."""
    return (
        f"hearth restarted while approval {record.id} (`{record.command}`) was "
        "waiting, so it was closed and nothing was run. Ask again to retry."
    )
