"""The Heartbeat: ticks, decide modes, reports in the channel, labels, actions, restarts."""

from __future__ import annotations

import io
import json
from pathlib import Path

from core.events import ChatRef, Decision, MessageRef, Reaction, User
from core.heartbeat.decide import ModelDecider
from core.heartbeat.export import export_ticks
from core.heartbeat.service import Heartbeat, label_for
from core.metrics import Metrics
from core.storage.ticks import TickStore
from tests.core.heartbeat.conftest import RecordingBroker, ScriptedLLM, ScriptedProber
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

CHANNEL = ChatRef("fake", "C-ops")
ANA = User("fake", "U1", "Ana")
MODEL_WARNING = json.dumps(
    {"actions": ["df -h /"], "severity": "warning", "reasoning": "Disk root is filling up."}
)
OK = {"disk:root": "ok", "http:api": "ok"}
DISK_WARN = {"disk:root": "warning", "http:api": "ok"}


def make(
    store: TickStore,
    clock: FakeClock,
    prober: ScriptedProber,
    *,
    llm: ScriptedLLM | None = None,
    adapter: FakeAdapter | None = None,
    broker: RecordingBroker | None = None,
    mode: str = "on_change",
    metrics: Metrics | None = None,
    tmp_path: Path = Path("."),
) -> Heartbeat:
    return Heartbeat(
        prober=prober,
        decider=ModelDecider(llm, clock=clock) if llm else None,
        store=store,
        clock=clock,
        workspace=tmp_path,
        adapters={"fake": adapter} if adapter else {},
        channel=CHANNEL if adapter else None,
        broker=broker,
        metrics=metrics,
        decide_mode=mode,
        cooldown=3600,
    )


async def test_on_change_costs_no_model_call_on_an_unchanged_healthy_tick(store, clock) -> None:
    llm = ScriptedLLM(json.dumps({"actions": [], "severity": "ok", "reasoning": "fine"}))
    hb = make(store, clock, ScriptedProber(clock, OK), llm=llm)
    first = await hb.tick()
    assert first.source == "model" and len(llm.calls) == 1  # nothing to compare with yet
    for _ in range(5):
        clock.advance(600)
        tick = await hb.tick()
        assert tick.source == "rules" and tick.severity == "ok"
    assert len(llm.calls) == 1


async def test_on_change_asks_the_model_when_something_is_wrong(store, clock) -> None:
    llm = ScriptedLLM(MODEL_WARNING, MODEL_WARNING, MODEL_WARNING)
    prober = ScriptedProber(clock, OK, DISK_WARN, DISK_WARN)
    hb = make(store, clock, prober, llm=llm)
    await hb.tick()  # the first tick has nothing to compare with: asks
    assert (await hb.tick()).source == "model"
    # Still failing the same way: the model's decision holds (HEARTBEAT_REDECIDE_EVERY).
    assert (await hb.tick()).source == "reused"
    assert len(llm.calls) == 2


async def test_on_change_after_a_restart_uses_the_stored_statuses(store, clock) -> None:
    llm = ScriptedLLM()
    await make(store, clock, ScriptedProber(clock, OK)).tick()
    restarted = make(store, clock, ScriptedProber(clock, OK), llm=llm)
    assert (await restarted.tick()).source == "rules"
    assert llm.calls == []


async def test_never_and_always_modes(store, clock) -> None:
    never = ScriptedLLM()
    hb = make(store, clock, ScriptedProber(clock, DISK_WARN), llm=never, mode="never")
    tick = await hb.tick()
    assert tick.source == "rules" and tick.severity == "warning" and never.calls == []
    always = ScriptedLLM(*[json.dumps({"actions": [], "severity": "ok", "reasoning": "ok"})] * 3)
    hb = make(store, clock, ScriptedProber(clock, OK), llm=always, mode="always")
    for _ in range(3):
        await hb.tick()
    assert len(always.calls) == 3


async def test_model_down_falls_back_and_everything_is_recorded(store, clock) -> None:
    metrics = Metrics()
    hb = make(
        store, clock, ScriptedProber(clock, DISK_WARN), llm=ScriptedLLM("raise"), metrics=metrics
    )
    tick = await hb.tick()
    assert tick.source == "fallback" and tick.severity == "warning"
    assert "threshold rules (model unavailable)" in tick.report
    row = await store.get(tick.tick_id)
    assert row is not None
    assert row.source == "fallback" and row.severity == "warning"
    assert json.loads(row.perception)["checks"][0] == {
        "check": "disk:root",
        "status": "warning",
        "summary": "warning",
    }
    assert json.loads(row.prompt)[1]["content"] == json.dumps(
        json.loads(row.perception), separators=(",", ":")
    )
    assert row.decision["severity"] == "warning"
    assert metrics.get("hearth_heartbeat_ticks_total", severity="warning", source="fallback") == 1


async def test_model_answer_and_tokens_are_recorded(store, clock) -> None:
    hb = make(store, clock, ScriptedProber(clock, DISK_WARN), llm=ScriptedLLM(MODEL_WARNING))
    tick = await hb.tick()
    row = await store.get(tick.tick_id)
    assert row is not None and row.source == "model"
    assert row.decision == json.loads(MODEL_WARNING)
    assert (row.prompt_tokens, row.completion_tokens) == (120, 30)
    assert row.latency_s >= 0


async def test_reports_follow_the_policy_in_the_channel(store, clock, adapter) -> None:
    prober = ScriptedProber(clock, OK, DISK_WARN, DISK_WARN, DISK_WARN, OK, OK)
    hb = make(store, clock, prober, adapter=adapter)
    posted = []
    for _ in range(6):
        clock.advance(600)
        tick = await hb.tick()
        posted.append(tick.reason if tick.posted else None)
    assert posted == [None, "changed", None, None, "recovered", None]
    texts = adapter.texts(CHANNEL)
    assert len(texts) == 2
    assert texts[0].startswith("⚠️ **Heartbeat: WARNING**")
    assert "Changed: disk:root ok → warning" in texts[0]
    assert "⚠️ disk:root: warning" in texts[0]
    assert texts[1].startswith("✅ **Heartbeat: recovered**")
    assert all(t.endswith("React 👍 if this report was right, 👎 if not.") for t in texts)
    # Each report carries the two label reactions, added by the bot.
    assert [m.reactions for m in adapter.messages.values()] == [["👍", "👎"], ["👍", "👎"]]


async def test_a_restart_does_not_repeat_an_alert_inside_the_cooldown(
    store, clock, adapter
) -> None:
    await make(store, clock, ScriptedProber(clock, DISK_WARN), adapter=adapter).tick()
    assert len(adapter.ops("post")) == 1
    clock.advance(600)
    restarted = make(store, clock, ScriptedProber(clock, DISK_WARN), adapter=adapter)
    assert (await restarted.tick()).posted is None
    clock.advance(3600)
    assert (await restarted.tick()).reason == "still"
    assert len(adapter.ops("post")) == 2


async def test_no_channel_still_renders_the_report(store, clock) -> None:
    tick = await make(store, clock, ScriptedProber(clock, DISK_WARN)).tick(trigger="cli")
    assert tick.posted is None and tick.trigger == "cli"
    assert tick.report.startswith("⚠️ **Heartbeat: WARNING**")


async def test_thumbs_up_labels_the_right_tick_and_export(store, clock, adapter) -> None:
    hb = make(store, clock, ScriptedProber(clock, DISK_WARN, OK, DISK_WARN), adapter=adapter)
    first = await hb.tick()
    clock.advance(600)
    second = await hb.tick()
    clock.advance(7200)
    third = await hb.tick()
    assert first.posted and second.posted and third.posted
    react = lambda ref, key, user=ANA: Reaction(target=ref, key=key, user=user)  # noqa: E731

    assert await hb.on_reaction(react(second.posted, "👍"))
    assert await hb.on_reaction(react(third.posted, "👎🏽"))
    bot = User("fake", "B1", "hearth", is_bot=True)
    assert not await hb.on_reaction(react(first.posted, "👍", bot))  # our own seed reaction
    assert not await hb.on_reaction(react(first.posted, "🎉"))
    stranger = MessageRef(CHANNEL, "not-a-report")
    assert not await hb.on_reaction(react(stranger, "👍"))
    other_channel = MessageRef(ChatRef("fake", "C-other"), first.posted.message_id)
    assert not await hb.on_reaction(react(other_channel, "👍"))

    labels = {row.id: row.label for row in await store.history()}
    assert labels == {first.tick_id: None, second.tick_id: "chosen", third.tick_id: "rejected"}

    out = io.StringIO()
    assert await export_ticks(store, out, labeled_only=True) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["label"] for line in lines] == ["chosen", "rejected"]
    assert set(lines[0]) == {"at", "prompt", "decision", "source", "severity", "label"}
    assert lines[0]["severity"] == "ok" and lines[0]["decision"]["severity"] == "ok"
    assert lines[1]["at"].endswith("+00:00")

    since = io.StringIO()
    assert await export_ticks(store, since, since=clock.now() - 60) == 1
    assert json.loads(since.getvalue())["label"] == "rejected"


async def test_a_long_report_is_shortened_to_the_platform_limit(store, clock) -> None:
    from core.ports import Capabilities

    small = FakeAdapter(
        capabilities=Capabilities(max_message_chars=300, min_edit_interval=0, buttons=True)
    )
    many = {f"http:service-{i}": "critical" for i in range(12)}
    tick = await make(store, clock, ScriptedProber(clock, many), adapter=small).tick()
    assert len(tick.report) > 300
    (text,) = small.texts()
    assert len(text) <= 300
    assert text.startswith("🔴 **Heartbeat: CRITICAL**")
    assert text.endswith("…\nReact 👍 if this report was right, 👎 if not.")


def test_label_keys() -> None:
    assert label_for("👍") == label_for("+1") == label_for(":thumbsup:") == "chosen"
    assert label_for("👎🏿") == label_for("-1") == "rejected"
    assert label_for("✅") is None


async def test_suggested_actions_become_approval_requests_never_runs(
    store, clock, adapter, tmp_path
) -> None:
    broker = RecordingBroker()
    llm = ScriptedLLM(MODEL_WARNING, MODEL_WARNING)
    hb = make(
        store,
        clock,
        ScriptedProber(clock, DISK_WARN, {"disk:root": "critical", "http:api": "ok"}),
        llm=llm,
        adapter=adapter,
        broker=broker,
        tmp_path=tmp_path,
    )
    tick = await hb.tick()  # does not wait for the human
    assert tick.posted is not None
    assert "Suggested actions (approval requested):" in tick.report
    await _settle()
    (req,) = broker.requests
    assert req.command == "df -h /" and req.kind == "heartbeat-action"
    assert req.requester.display_name == "heartbeat" and req.cwd == str(tmp_path)
    assert req.chat == CHANNEL.in_thread(tick.posted.message_id)
    # A second report while the first request is pending does not ask again.
    clock.advance(600)
    assert (await hb.tick()).posted is not None
    await _settle()
    assert len(broker.requests) == 1
    broker.decide("df -h /", Decision.DENY, ANA)
    await hb.drain(timeout=5)
    assert not any("Ran" in text for text in adapter.texts())


async def test_an_approved_action_runs_once_in_the_workspace(
    store, clock, adapter, tmp_path
) -> None:
    broker = RecordingBroker()
    answer = {"actions": ["pwd"], "severity": "warning", "reasoning": "look"}
    hb = make(
        store,
        clock,
        ScriptedProber(clock, DISK_WARN),
        llm=ScriptedLLM(json.dumps(answer)),
        adapter=adapter,
        broker=broker,
        tmp_path=tmp_path,
    )
    tick = await hb.tick()
    await _settle()
    broker.decide("pwd", Decision.APPROVE, ANA)
    await hb.drain(timeout=5)
    ran = [m for m in adapter.messages.values() if m.text.startswith("▶️ Ran `pwd`")]
    assert len(ran) == 1
    assert "approved by Ana" in ran[0].text and str(tmp_path) in ran[0].text
    assert ran[0].ref.chat == CHANNEL.in_thread(tick.posted.message_id)  # type: ignore[union-attr]


async def test_an_approved_blocked_action_is_still_not_run(
    store, clock, adapter, tmp_path
) -> None:
    broker = RecordingBroker()
    answer = {"actions": ["rm -rf /"], "severity": "critical", "reasoning": "disk full"}
    hb = make(
        store,
        clock,
        ScriptedProber(clock, DISK_WARN),
        llm=ScriptedLLM(json.dumps(answer)),
        adapter=adapter,
        broker=broker,
        tmp_path=tmp_path,
    )
    await hb.tick()
    await _settle()
    broker.decide("rm -rf /", Decision.APPROVE, ANA)
    await hb.drain(timeout=5)
    assert any(
        t.startswith("⛔ `rm -rf /` was approved by Ana but is blocked") for t in adapter.texts()
    )


async def test_a_failing_post_is_retried_next_tick(store, clock) -> None:
    from core.errors import PlatformError

    class BrokenAdapter(FakeAdapter):
        fail = True

        async def post(self, chat, text):  # type: ignore[override]
            if self.fail:
                raise PlatformError("channel_not_found")
            return await super().post(chat, text)

    adapter = BrokenAdapter()
    hb = make(store, clock, ScriptedProber(clock, DISK_WARN), adapter=adapter)
    assert (await hb.tick()).posted is None
    adapter.fail = False
    clock.advance(600)
    assert (await hb.tick()).posted is not None


async def test_digest_covers_the_last_day(store, clock, adapter) -> None:
    hb = make(store, clock, ScriptedProber(clock, DISK_WARN, OK, OK), adapter=adapter)
    await hb.tick()  # 25 h ago by the time of the digest: excluded
    clock.advance(3600)
    await hb.tick()
    clock.advance(3600)
    await hb.tick()
    clock.advance(23 * 3600)
    text = await hb.digest()
    assert "2 ticks (ok 2)" in text
    assert "Now: all 2 checks ok." in text
    assert adapter.texts(CHANNEL)[-2] == text
    ((_ref, filename, png),) = adapter.images  # the timeline follows the text
    assert filename.endswith(".png") and png.startswith(b"\x89PNG")


async def _settle() -> None:
    import asyncio

    for _ in range(5):
        await asyncio.sleep(0)
