"""Usage recording (cost, saved), reports, budgets and their warnings."""

from __future__ import annotations

import pytest

from core.agent.metered import Meter, MeteredLLM
from core.budget import Budget
from core.errors import LLMError
from core.llm.base import Message, Usage
from core.llm.ollama import OllamaClient
from core.llm.prices import cost_usd, price_of
from core.metrics import Metrics
from core.storage import Database
from core.storage.usage import UsageStore
from core.usage import UsageRecorder, UsageReporter, day_start
from tests.fakes.clock import FakeClock
from tests.fakes.ollama import FakeOllama


def test_prices() -> None:
    assert cost_usd("ollama", "qwen2.5:3b", 10**6, 10**6) == 0
    assert cost_usd("anthropic", "claude-opus-4-6", 10**6, 10**6) == 30.0
    assert cost_usd("anthropic", "claude-sonnet-4-5-20250929", 10**6, 0) == 3.0
    assert price_of("anthropic", "claude-future-9").input_per_mtok == 15.0  # never under-count


async def test_recorder_prices_cloud_and_saves_local(db: Database, clock: FakeClock) -> None:
    metrics = Metrics()
    rec = UsageRecorder(
        UsageStore(db), cloud_model="claude-opus-4-6", clock=clock, metrics=metrics
    )
    local = await rec.record(
        provider="ollama",
        model="qwen2.5:3b",
        purpose="execute",
        usage=Usage(1000, 200, 1.5),
        task_id="t",
        user="slack:U1",
    )
    cloud = await rec.record(
        provider="anthropic",
        model="claude-opus-4-6",
        purpose="escalate",
        usage=Usage(1000, 200, 2.0),
        task_id="t",
        user="slack:U1",
    )
    assert local.cost_usd == 0 and local.saved_usd == pytest.approx(0.01)
    assert cloud.cost_usd == pytest.approx(0.01) and cloud.saved_usd == 0
    assert metrics.get("hearth_llm_calls_total", provider="ollama") == 1
    assert metrics.get("hearth_llm_tokens_total", provider="anthropic", kind="prompt") == 1000
    rows = await UsageStore(db).rows(task_id="t")
    assert [(r.provider, r.duration_s) for r in rows] == [("ollama", 1.5), ("anthropic", 2.0)]


async def test_report_windows_per_provider_and_user(db: Database, clock: FakeClock) -> None:
    store = UsageStore(db)
    rec = UsageRecorder(store, cloud_model="claude-opus-4-6", clock=clock)
    await rec.record(
        provider="anthropic",
        model="claude-opus-4-6",
        purpose="x",
        usage=Usage(1000, 0),
        user="slack:OLD",
    )
    clock.advance(3 * 86400)
    await rec.record(
        provider="ollama", model="qwen2.5:3b", purpose="x", usage=Usage(500, 500), user="slack:U1"
    )
    report = await UsageReporter(store, clock=clock).report()
    today = report.split("\n7 days")[0]
    assert "today: 1 calls, 0 errors, 1,000 tokens" in today and "slack:OLD" not in today
    assert "7 days: 2 calls" in report and "all time: 2 calls" in report
    assert "· anthropic: 1 calls" in report and "user slack:U1" in report
    mine = await UsageReporter(store, clock=clock).report(user="slack:U1")
    assert "slack:OLD" not in mine


async def test_budget_caps_and_day_rollover(db: Database, clock: FakeClock) -> None:
    store = UsageStore(db)
    rec = UsageRecorder(store, cloud_model="claude-opus-4-6", clock=clock)
    budget = Budget(store, daily_usd=1.0, user_daily_usd=0.5, clock=clock)
    assert (await budget.check("slack:U1", 0.4)).allowed
    await rec.record(
        provider="anthropic",
        model="claude-opus-4-6",
        purpose="x",
        usage=Usage(80_000, 0),
        user="slack:U1",
    )  # $0.40
    check = await budget.check("slack:U1", 0.2)
    assert not check.allowed and "USER_DAILY_BUDGET_USD=$0.50" in check.reason
    assert (await budget.check("slack:U2", 0.2)).allowed
    assert not (await budget.check("slack:U2", 0.7)).allowed  # global cap
    clock.advance(86400 - (clock.now() - day_start(clock.now())) + 1)
    assert (await budget.check("slack:U1", 0.2)).allowed  # a new UTC day


async def test_budget_warnings_once_per_level(db: Database, clock: FakeClock) -> None:
    store = UsageStore(db)
    rec = UsageRecorder(store, cloud_model="claude-opus-4-6", clock=clock)
    budget = Budget(store, daily_usd=1.0, user_daily_usd=None, clock=clock)
    assert await budget.warnings("u") == []
    await rec.record(
        provider="anthropic",
        model="claude-opus-4-6",
        purpose="x",
        usage=Usage(110_000, 0),
        user="u",
    )  # $0.55
    (first,) = await budget.warnings("u")
    assert first.startswith("⚠️ 50% of the daily budget used: $0.5500 of $1.00")
    assert await budget.warnings("u") == []
    await rec.record(
        provider="anthropic",
        model="claude-opus-4-6",
        purpose="x",
        usage=Usage(80_000, 0),
        user="u",
    )  # $0.95
    (w,) = await budget.warnings("u")
    assert w.startswith("⚠️ 90% of the daily budget used")


async def test_budget_checks_make_no_query_once_the_day_is_seeded(
    db: Database, clock: FakeClock
) -> None:
    """A busy day must not make every check slower: totals run, they are not re-summed."""
    store = UsageStore(db)
    rec = UsageRecorder(store, cloud_model="claude-opus-4-6", clock=clock)
    budget = Budget(store, daily_usd=100.0, user_daily_usd=10.0, clock=clock)
    for _ in range(30):  # a day with rows before hearth (re)started
        await store._insert(_row(clock.now(), "slack:U1", 0.01))
    statements: list[str] = []
    await db.conn.set_trace_callback(statements.append)
    try:
        first = await budget.check("slack:U1", 0.0)  # seeds: one query for the day
        seeded = len(statements)
        added = 0.0
        for _ in range(20):
            added += (
                await rec.record(
                    provider="anthropic",
                    model="claude-opus-4-6",
                    purpose="escalate",
                    usage=Usage(1000, 0),
                    task_id="t",
                    user="slack:U1",
                )
            ).cost_usd
        before = len(statements)
        later = await budget.check("slack:U1", 0.0)
        await budget.warnings("slack:U1")
        after = len(statements)
    finally:
        await db.conn.set_trace_callback(None)
    assert seeded == 1
    assert after == before  # checks after seeding read running totals: no statement at all
    assert first.spent_today == pytest.approx(0.30)
    assert added > 0 and later.spent_today == pytest.approx(0.30 + added)  # new rows counted
    assert (await store.spent_usd(day_start(clock.now()), user="slack:U2")) == 0.0


def _row(at: float, user: str, cost: float):
    from core.storage.usage import UsageRow

    return UsageRow(
        at=at,
        task_id="old",
        user=user,
        provider="anthropic",
        model="claude-opus-4-6",
        purpose="escalate",
        prompt_tokens=1,
        completion_tokens=1,
        duration_s=0.1,
        cost_usd=cost,
        saved_usd=0.0,
    )


async def test_usage_with_ollama_down_shows_errors_not_calls(
    db: Database, clock: FakeClock
) -> None:
    async with FakeOllama() as fake:
        url = fake.url  # stopped on exit: nothing listens there any more
    store = UsageStore(db)
    metrics = Metrics()
    recorder = UsageRecorder(store, cloud_model="claude-opus-4-6", clock=clock, metrics=metrics)
    llm = MeteredLLM(
        OllamaClient(url, "qwen2.5:3b", num_ctx=4096, clock=clock),
        Meter(recorder=recorder, budget=None, task_id="t1", user="slack:U1"),
        purpose="execute",
    )
    for _ in range(2):
        with pytest.raises(LLMError):
            async for _event in llm.stream([Message("user", "hi")]):
                pass
    report = await UsageReporter(store, clock=clock).report()
    assert "today: 0 calls, 2 errors, 0 tokens" in report
    assert "ollama: 0 calls, 2 errors" in report
    assert [r.error != "" for r in await store.rows()] == [True, True]
