"""Deciding approvals: who may, double and late clicks, wrong prompts, bots, reactions, codec."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from core.approvals.broker import ApprovalBroker
from core.approvals.decisions import Resolution
from core.approvals.payload import pack_payload, unpack_payload
from core.events import (
    ApprovalResponse,
    ChatRef,
    Decision,
    MessageRef,
    Reaction,
    User,
)
from core.metrics import Metrics
from core.ports import Capabilities
from core.storage.approvals import ApprovalStore
from tests.core.approvals.conftest import (
    ANA,
    BOB,
    BOT,
    CARL,
    CHAT,
    ask,
    click,
    shown_prompt,
)
from tests.fakes.adapter import FakeAdapter


async def test_wrong_user_is_refused_once_per_approval(
    broker: ApprovalBroker, adapter: FakeAdapter, store: ApprovalStore, metrics: Metrics
) -> None:
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    for _ in range(5):  # a spammer clicking: refused every time, told once
        assert not await broker.resolve(click(request, CARL, Decision.APPROVE, prompt))
    notes = [t for op, _, t in adapter.calls if op == "post" and "only approvers" in t]
    assert notes == ["@Carl, only approvers can decide this approval."]
    assert not task.done()
    assert (await store.get(request.id)).status == "pending"  # type: ignore[union-attr]
    assert metrics.get("hearth_approvals_total", outcome="refused") == 5
    assert await broker.resolve(click(request, ANA, Decision.DENY, prompt))
    assert not (await task).approved
    actions = [e.action for e in await store.events(request.id)]
    assert actions.count("refused") == 5


async def test_requester_who_is_not_an_approver_cannot_decide(
    broker: ApprovalBroker, adapter: FakeAdapter
) -> None:
    task = ask(broker, requester=BOB)
    request, prompt = await shown_prompt(adapter)
    assert await broker.answer(click(request, BOB, Decision.APPROVE, prompt)) is (
        Resolution.NOT_ALLOWED
    )
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_requester_who_is_an_approver_may_decide(
    broker: ApprovalBroker, adapter: FakeAdapter
) -> None:
    task = ask(broker, requester=ANA)
    request, prompt = await shown_prompt(adapter)
    assert await broker.resolve(click(request, ANA, Decision.APPROVE, prompt))
    assert (await task).approved


async def test_same_id_on_another_platform_is_not_an_approver(
    broker: ApprovalBroker, adapter: FakeAdapter
) -> None:
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    impostor = User("slack", "U1", "Ana")  # same id, other platform: not fake:U1
    assert not await broker.resolve(click(request, impostor, Decision.APPROVE, prompt))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_double_click_and_late_clicks_are_harmless(
    broker: ApprovalBroker, adapter: FakeAdapter, store: ApprovalStore
) -> None:
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    first = await asyncio.gather(
        broker.resolve(click(request, ANA, Decision.APPROVE, prompt)),
        broker.resolve(click(request, ANA, Decision.DENY, prompt)),
        broker.resolve(click(request, ANA, Decision.APPROVE, prompt)),
    )
    assert first.count(True) == 1 and first[0] is True
    outcome = await task
    assert outcome.approved
    # clicks on a decided prompt change nothing
    assert await broker.answer(click(request, ANA, Decision.DENY, prompt)) is Resolution.CLOSED
    # The first decision is the only one: in storage, in the audit trail, and on screen.
    record = await store.get(request.id)
    assert record is not None and record.status == "approved"
    assert record.decided_by == ANA.qualified
    actions = [e.action for e in await store.events(request.id)]
    assert actions.count("approved") == 1 and "denied" not in actions
    assert actions.count("late_click") == 2  # the two clicks that raced the first
    assert len(adapter.closed) == 1  # the prompt is closed exactly once
    [(closed_prompt, shown)] = adapter.closed
    assert closed_prompt == prompt and shown.approved and shown.decided_by == ANA


async def test_click_from_another_message_is_not_accepted(
    broker: ApprovalBroker, adapter: FakeAdapter
) -> None:
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    forged = MessageRef(CHAT, "forged-message")
    assert await broker.answer(click(request, ANA, Decision.APPROVE, forged)) is (
        Resolution.WRONG_PROMPT
    )
    assert not task.done()
    assert await broker.resolve(click(request, ANA, Decision.DENY, prompt))
    assert not (await task).approved


async def test_bots_are_ignored_silently(broker: ApprovalBroker, adapter: FakeAdapter) -> None:
    task = ask(broker)
    request, prompt = await shown_prompt(adapter)
    posts = len(adapter.ops("post"))
    assert await broker.answer(click(request, BOT, Decision.APPROVE, prompt)) is (
        Resolution.IGNORED
    )
    assert len(adapter.ops("post")) == posts
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_unknown_id(broker: ApprovalBroker) -> None:
    click = ApprovalResponse(approval_id="nope1234", decision=Decision.APPROVE, user=ANA)
    assert await broker.answer(click) is Resolution.UNKNOWN
    weird = ApprovalResponse(approval_id="../../x;drop", decision=Decision.APPROVE, user=ANA)
    assert await broker.answer(weird) is Resolution.UNKNOWN


async def test_reactions_decide_on_platforms_without_buttons(
    make_broker: Callable[..., ApprovalBroker],
) -> None:
    matrix = FakeAdapter(
        "matrix", Capabilities(max_message_chars=16000, min_edit_interval=3.0, buttons=False)
    )
    broker = make_broker(adapters={"matrix": matrix}, approvers=frozenset({"matrix:@ana:hs"}))
    ana = User("matrix", "@ana:hs", "Ana")
    carl = User("matrix", "@carl:hs", "Carl")
    chat = ChatRef("matrix", "!room:hs", "$root")
    task = ask(broker, chat=chat)
    _, prompt = await shown_prompt(matrix)
    assert not await broker.resolve_reaction(Reaction(target=prompt, key="👍", user=ana))
    other = MessageRef(chat, "$unrelated")
    assert not await broker.resolve_reaction(Reaction(target=other, key="✅", user=ana))
    assert await broker.resolve_reaction(Reaction(target=prompt, key="✅", user=carl))
    assert not task.done()
    assert await broker.resolve_reaction(Reaction(target=prompt, key="❌", user=ana))
    outcome = await task
    assert not outcome.approved and outcome.decided_by == ana


def test_payload_round_trip_and_garbage() -> None:
    payload = pack_payload("Ab3dE9xY", Decision.APPROVE)
    assert payload == "appr:Ab3dE9xY:approve"
    assert unpack_payload(payload) == ("Ab3dE9xY", Decision.APPROVE)
    assert unpack_payload(pack_payload("a-b_c", Decision.DENY)) == ("a-b_c", Decision.DENY)
    for garbage in [
        "",
        "appr",
        "appr::approve",
        "appr:x:maybe",
        "other:x:approve",
        "appr:x:approve:extra",
        "appr:" + "x" * 17 + ":approve",
        "appr:x y:approve",
        "appr:x;rm:deny",
        None,
        "appr:x:APPROVE",
    ]:
        assert unpack_payload(garbage) is None, garbage  # type: ignore[arg-type]
