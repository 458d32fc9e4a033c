"""Roster, subjects and the per-channel budget share: the rules behind `allow` / `revoke`."""

from __future__ import annotations

import pytest

from core.approvals import ApprovalBroker
from core.budget import Budget
from core.channel_settings import ChannelPolicy, budget_cap_usd, parse_budget_share
from core.events import ChatRef, User
from core.storage.access import AccessStore
from core.storage.approvals import ApprovalStore
from core.storage.kv import KVStore
from core.storage.tasks import TaskStore
from core.storage.usage import UsageRow, UsageStore
from core.team.roster import Roster
from core.team.subjects import SubjectError, parse_subject
from tests.fakes.clock import FakeClock

ADMIN = "slack:UBOSS"
ENV_USER = "slack:UANA"


def _roster(db, clock) -> Roster:
    return Roster(
        AccessStore(db),
        allowed_users=frozenset({ENV_USER}),
        admins=frozenset({ADMIN}),
        approvers=frozenset({ADMIN}),
        clock=clock,
    )


@pytest.mark.parametrize(
    ("text", "platform", "expected"),
    [
        ("slack:U0123", "slack", "slack:U0123"),
        ("<@U0123ABC>", "slack", "slack:U0123ABC"),
        ("<@U0123ABC|ana>", "slack", "slack:U0123ABC"),
        ("<@!80351110224678912>", "discord", "discord:80351110224678912"),
        ("<@80351110224678912>", "discord", "discord:80351110224678912"),
        ("@ana:example.org", "matrix", "matrix:@ana:example.org"),
        ("https://matrix.to/#/@ana:example.org", "matrix", "matrix:@ana:example.org"),
        ("matrix:@ana:example.org", "slack", "matrix:@ana:example.org"),
        ("`Discord:123`", "slack", "discord:123"),
    ],
)
def test_subjects(text: str, platform: str, expected: str) -> None:
    assert parse_subject(text, platform=platform) == expected


@pytest.mark.parametrize("text", ["", "ana", "irc:ana", "@ana", "slack:"])
def test_unknown_subjects_say_what_to_write(text: str) -> None:
    with pytest.raises(SubjectError, match=r"platform:id|say who"):
        parse_subject(text, platform="slack")


async def test_allow_revoke_and_the_environment(db) -> None:
    clock = FakeClock()
    roster = _roster(db, clock)
    await roster.load()
    new = User("slack", "UNEW")
    assert not roster.is_allowed(new)

    assert "Allowed" in await roster.allow("slack:UNEW", role="approver", actor=ADMIN)
    assert roster.is_allowed(new) and roster.is_approver(new)
    # An env user can be revoked at runtime; an admin cannot.
    assert "Revoked" in await roster.revoke(ENV_USER, actor=ADMIN)
    assert not roster.is_allowed(User("slack", "UANA"))
    assert "admin" in await roster.revoke(ADMIN, actor=ADMIN)
    assert roster.is_allowed(User("slack", "UBOSS"))
    assert "no access" in await roster.revoke("slack:UNOBODY", actor=ADMIN)

    # A second process sees the same rows, and the audit says who did what.
    again = _roster(db, clock)
    await again.load()
    assert again.is_approver(new) and not again.allows(ENV_USER)
    log = await AccessStore(db).audit_log()
    assert [(e.actor, e.action, e.subject) for e in log] == [
        (ADMIN, "allow", "slack:UNEW"),
        (ADMIN, "revoke", ENV_USER),
    ]


async def test_reload_reports_who_lost_access_elsewhere(db) -> None:
    clock = FakeClock()
    roster, cli = _roster(db, clock), _roster(db, clock)
    lost: list[str] = []

    async def on_lost(user: str) -> int:
        lost.append(user)
        return 0

    roster.on_lost_access(on_lost)
    await roster.load()
    await cli.load()
    await cli.revoke(ENV_USER, actor="cli")  # another process
    assert await roster.load() == [ENV_USER]
    assert lost == [ENV_USER]


async def test_a_granted_approver_decides_through_the_broker(db) -> None:
    clock = FakeClock()
    roster = _roster(db, clock)
    broker = ApprovalBroker(
        {}, ApprovalStore(db), approvers=roster.approvers, timeout=60, clock=clock
    )
    ops = User("slack", "UOPS")
    assert not broker.may_decide(ops)
    await roster.allow(ops.qualified, role="approver", actor=ADMIN)
    assert broker.may_decide(ops) and ops.qualified in broker.approvers
    await roster.revoke(ops.qualified, actor=ADMIN)
    assert not broker.may_decide(ops)


def test_budget_shares() -> None:
    assert parse_budget_share("25%") == "25%"
    assert parse_budget_share("$2") == "2.00"
    assert budget_cap_usd("25%", 8.0) == 2.0
    assert budget_cap_usd("25%", None) is None
    assert budget_cap_usd("1.50", None) == 1.5
    for bad in ("lots", "0%", "150%", "-1"):
        with pytest.raises(ValueError, match="budget share"):
            parse_budget_share(bad)


async def test_a_channels_share_caps_cloud_calls_started_there(db) -> None:
    clock = FakeClock()
    policy = ChannelPolicy(KVStore(db), clock=clock)
    here, there = ChatRef("slack", "C1", "t1"), ChatRef("slack", "C2", "t2")
    await policy.set_budget_share(here, parse_budget_share("10%"))

    async def cap(chat: ChatRef) -> float | None:
        return budget_cap_usd(await policy.budget_share(chat), 10.0)

    usage = UsageStore(db)
    budget = Budget(usage, daily_usd=10.0, user_daily_usd=None, clock=clock, channel_cap=cap)
    await TaskStore(db).create(
        task_id="k1", requester="slack:U1", chat=here, goal="g", now=clock.now(), running=True
    )
    await usage.add(
        UsageRow(
            at=clock.now(),
            task_id="k1",
            user="slack:U1",
            provider="anthropic",
            model="m",
            purpose="execute",
            prompt_tokens=1,
            completion_tokens=1,
            duration_s=1,
            cost_usd=0.9,
        )
    )
    refused = await budget.check("slack:U1", 0.2, channel=here)
    assert not refused.allowed and "this channel's daily budget share ($1.00" in refused.reason
    assert (await budget.check("slack:U1", 0.2, channel=there)).allowed
    assert (await budget.check("slack:U1", 0.05, channel=here)).allowed
