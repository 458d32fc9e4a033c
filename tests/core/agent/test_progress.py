"""ProgressCard: one message, coalesced edits within the platform's interval, 429 handling."""

from __future__ import annotations

import asyncio

from core.events import ChatRef
from core.ports import Capabilities
from core.progress import ProgressCard, StepState
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

CHAT = ChatRef("fake", "C", "T")


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_card_shows_steps_tool_model_tokens_and_cost() -> None:
    adapter = FakeAdapter()
    card = ProgressCard(adapter, CHAT, title="deploy the app", clock=FakeClock())
    await card.start()
    card.set_plan(["build", "test", "ship"])
    card.step(0, StepState.DONE, "local")
    card.step(1, StepState.RUNNING, "Claude")
    card.set_activity("shell")
    card.add_usage("local", 1200, 0.0)
    card.add_usage("Claude", 800, 0.0123)
    await settle()
    text = adapter.texts()[0]
    assert text.splitlines() == [
        "⏳ Working on: deploy the app",
        "✅ 1. build — local",
        "⏳ 2. test — Claude",
        "◻️ 3. ship",
        "🔧 shell",
        "local: 1,200 tokens · Claude: 800 tokens · $0.0123",
    ]
    await card.close("✅ Done")
    assert adapter.texts()[0].startswith("✅ Done: deploy the app")
    assert "🔧" not in adapter.texts()[0]
    assert len(adapter.ops("post")) == 1


async def test_updates_are_coalesced_to_the_edit_interval() -> None:
    clock = FakeClock()
    adapter = FakeAdapter(capabilities=Capabilities(4000, 2.0, True))
    card = ProgressCard(adapter, CHAT, title="t", clock=clock)
    await card.start()
    card.set_plan(["a"])
    for i in range(30):
        card.set_activity(f"tool {i}")
    await settle()
    await card.close("✅ Done")
    edits = adapter.ops("edit")
    assert len(edits) <= 2  # 31 updates → at most one draft edit plus the final
    assert all(s >= 0 for s in clock.sleeps) and sum(clock.sleeps) >= 2.0
    assert adapter.texts()[0].startswith("✅ Done")


async def test_rate_limit_postpones_and_the_final_still_lands() -> None:
    clock = FakeClock()
    adapter = FakeAdapter()
    adapter.rate_limit_next = [3.0, 3.0]
    card = ProgressCard(adapter, CHAT, title="t", clock=clock)
    await card.start()
    card.set_plan(["a"])
    await settle()
    await card.close("✅ Done")
    assert 3.0 in clock.sleeps
    assert adapter.texts()[0].startswith("✅ Done")
    assert len(adapter.ops("edit-429")) == 2


async def test_long_cards_are_cut_to_the_platform_limit() -> None:
    adapter = FakeAdapter(capabilities=Capabilities(100, 0.0, True))
    card = ProgressCard(adapter, CHAT, title="x" * 300, clock=FakeClock())
    await card.start()
    card.set_plan([f"step {i} " * 5 for i in range(10)])
    await card.close("✅ Done")
    assert len(adapter.texts()[0]) <= 100
