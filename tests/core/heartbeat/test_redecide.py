"""An unchanged non-healthy state costs one model call per change, with the real Ollama client."""

from __future__ import annotations

import json

from core.clock import utc
from core.heartbeat.decide import ModelDecider
from core.heartbeat.service import Heartbeat
from core.llm.ollama import OllamaClient
from core.storage.ticks import TickStore
from core.storage.usage import UsageStore
from core.usage import UsageRecorder, UsageReporter
from tests.core.heartbeat.conftest import ScriptedProber
from tests.fakes.clock import FakeClock
from tests.fakes.ollama import FakeOllama

OK = {"disk:root": "ok", "http:api": "ok"}
DISK_WARN = {"disk:root": "warning", "http:api": "ok"}
BOTH_WARN = {"disk:root": "warning", "http:api": "warning"}
ANSWER = {"actions": ["df -h /"], "severity": "warning", "reasoning": "Disk root is filling up."}


def heartbeat(
    fake: FakeOllama, store: TickStore, clock: FakeClock, prober: ScriptedProber, **kw: int
) -> Heartbeat:
    llm = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=4096, clock=clock)
    return Heartbeat(
        prober=prober,
        decider=ModelDecider(llm, clock=clock),
        store=store,
        clock=clock,
        workspace=".",
        decide_mode="on_change",
        **kw,
    )


def chats(fake: FakeOllama) -> int:
    return len(fake.requests)


async def test_three_unchanged_warnings_cost_one_call_and_a_change_one_more(store, clock) -> None:
    async with FakeOllama() as fake:
        fake.fallback_text = json.dumps(ANSWER)
        prober = ScriptedProber(clock, DISK_WARN, DISK_WARN, DISK_WARN, BOTH_WARN, BOTH_WARN)
        hb = heartbeat(fake, store, clock, prober)
        sources = []
        for _ in range(3):
            sources.append((await hb.tick()).source)
            clock.advance(600)
        assert chats(fake) == 1 and sources == ["model", "reused", "reused"]
        reused = await hb.tick()  # http:api turns warning too: a change, asked again
        assert chats(fake) == 2 and reused.source == "model"
        assert (await hb.tick()).source == "reused" and chats(fake) == 2
        # The held decision still says what the model said.
        rows = await store.history()
        assert rows[2].decision["reasoning"] == "Disk root is filling up."


async def test_the_redecide_interval_is_honoured(store, clock) -> None:
    async with FakeOllama() as fake:
        fake.fallback_text = json.dumps(ANSWER)
        hb = heartbeat(fake, store, clock, ScriptedProber(clock, DISK_WARN), redecide_every=4)
        sources = [(await hb.tick()).source for _ in range(9)]
        assert sources == ["model", "reused", "reused", "reused"] * 2 + ["model"]
        assert chats(fake) == 3


async def test_the_prompt_carries_the_previous_tick_and_decision(store, clock) -> None:
    async with FakeOllama() as fake:
        fake.fallback_text = json.dumps(ANSWER)
        hb = heartbeat(fake, store, clock, ScriptedProber(clock, OK, DISK_WARN))
        await hb.tick()
        await hb.tick()
        first, second = (r["messages"][-1]["content"] for r in fake.requests)
        assert "Previous tick" not in first
        assert "Previous tick:" in second and "This tick:" in second
        before, _, now = second.partition("This tick:")
        assert '"disk:root","status":"ok"' in before and "Previous decision (model)" in before
        assert '"disk:root","status":"warning"' in now


async def test_a_restart_keeps_the_held_decision(store, clock) -> None:
    async with FakeOllama() as fake:
        fake.fallback_text = json.dumps(ANSWER)
        await heartbeat(fake, store, clock, ScriptedProber(clock, DISK_WARN)).tick()
        restarted = heartbeat(fake, store, clock, ScriptedProber(clock, DISK_WARN))
        assert (await restarted.tick()).source == "reused"
        assert chats(fake) == 1


async def test_a_failed_call_is_not_held_and_counts_as_an_error(store, clock, db) -> None:
    async with FakeOllama() as fake:
        url = fake.url
    usage = UsageStore(db)
    recorder = UsageRecorder(usage, cloud_model="claude-opus-4-6", clock=clock)
    llm = OllamaClient(url, "qwen2.5:3b", num_ctx=4096, clock=clock)  # nobody listens now
    hb = Heartbeat(
        prober=ScriptedProber(clock, DISK_WARN),
        decider=ModelDecider(llm, clock=clock),
        store=store,
        clock=clock,
        workspace=".",
        usage=recorder,
    )
    assert [(await hb.tick()).source for _ in range(2)] == ["fallback", "fallback"]
    report = await UsageReporter(usage, clock=clock).report()
    assert "today: 0 calls, 2 errors, 0 tokens" in report


async def test_the_digest_shows_model_calls_per_day(store, clock) -> None:
    async with FakeOllama() as fake:
        fake.fallback_text = json.dumps(ANSWER)
        prober = ScriptedProber(clock, DISK_WARN, DISK_WARN, BOTH_WARN, DISK_WARN)
        hb = heartbeat(fake, store, clock, prober)
        for _ in range(3):
            await hb.tick()
            clock.advance(600)
        fake.queue_error(500, "model runner has unexpectedly stopped")
        await hb.tick()
        text = await hb.digest()
    assert chats(fake) == 3
    assert f"Model calls per day: {utc(clock.now()):%Y-%m-%d} 3 (1 fell back to rules)" in text
