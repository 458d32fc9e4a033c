"""ApprovalStore: the audit trail, first-decision-wins, lookups by prompt."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.events import ApprovalRequest, MessageRef
from core.storage.approvals import ApprovalStore
from tests.core.approvals.conftest import ANA, BOB, CHAT


def _request(approval_id: str = "abc12345", command: str = "rm -rf build") -> ApprovalRequest:
    return ApprovalRequest(
        id=approval_id,
        chat=CHAT,
        command=command,
        cwd="/srv/ws",
        task_id="t1",
        requester=BOB,
        reasons=("deletes files (rm)", "quotes ' and \"; DROP TABLE approvals;--"),
        expires_at=datetime.fromtimestamp(1800, UTC),
    )


async def test_round_trip_and_first_decision_wins(store: ApprovalStore) -> None:
    await store.add(_request(), created_at=0.0, expires_at=1800.0)
    prompt = MessageRef(CHAT, "m1")
    await store.set_prompt("abc12345", prompt, at=1.0)
    record = await store.get("abc12345")
    assert record is not None and record.pending and record.prompt == prompt
    assert record.reasons[1] == "quotes ' and \"; DROP TABLE approvals;--"
    assert record.requester == BOB.qualified and record.requester_name == "Bob"
    assert await store.decide(
        "abc12345", status="approved", decided_by=ANA.qualified, decided_by_name="Ana", at=2.0
    )
    assert not await store.decide("abc12345", status="denied", decided_by=ANA.qualified, at=3.0)
    assert not await store.decide("missing", status="denied", decided_by=None, at=3.0)
    record = await store.get("abc12345")
    assert record is not None and record.status == "approved" and record.decided_at == 2.0
    assert [e.action for e in await store.events("abc12345")] == [
        "requested",
        "posted",
        "approved",
    ]
    assert (await store.find_by_prompt("fake", "m1")).id == "abc12345"  # type: ignore[union-attr]
    assert await store.find_by_prompt("fake", "m2") is None
    assert await store.find_by_prompt("slack", "m1") is None


async def test_pending_lists_only_open_requests(store: ApprovalStore) -> None:
    await store.add(_request("a1"), created_at=1.0, expires_at=10.0)
    await store.add(_request("a2"), created_at=2.0, expires_at=10.0)
    await store.decide("a1", status="expired", decided_by=None, reason="expired", at=5.0)
    assert [r.id for r in await store.pending()] == ["a2"]
    assert [r.id for r in await store.recent()] == ["a2", "a1"]


async def test_pending_is_not_a_final_status(store: ApprovalStore) -> None:
    with pytest.raises(ValueError, match="final"):
        await store.decide("x", status="pending", decided_by=None, at=1.0)
