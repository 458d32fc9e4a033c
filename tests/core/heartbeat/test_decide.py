"""Decide: the model's structured answer when valid, the threshold rules otherwise."""

from __future__ import annotations

import json
import socket

import pytest

from core.heartbeat.decide import DECISION_SCHEMA, InvalidDecision, ModelDecider, parse_decision
from core.heartbeat.values import Perception
from core.llm.ollama import OllamaClient
from tests.core.heartbeat.conftest import ScriptedLLM, result
from tests.fakes.clock import FakeClock
from tests.fakes.ollama import FakeOllama

GOOD = {"actions": ["df -h /"], "severity": "warning", "reasoning": "The disk is filling up."}


def disk_warning() -> Perception:
    return Perception(
        1_700_000_000.0,
        (
            result("disk:root", "warning", "91% used (warning at 85%)", action="du -sh /var"),
            result("http:api"),
        ),
    )


def healthy() -> Perception:
    return Perception(1_700_000_000.0, (result("disk:root"), result("http:api")))


# -- parsing ----------------------------------------------------------------------------------


def test_parse_plain_fenced_and_wrapped_json() -> None:
    plain = json.dumps(GOOD)
    for text in (plain, f"```json\n{plain}\n```", f"```\n{plain}\n```", f"Here you go: {plain}"):
        decision = parse_decision(text)
        assert decision.severity == "warning"
        assert decision.actions == ("df -h /",)
        assert decision.reasoning == "The disk is filling up."
        assert decision.source == "model"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I think everything is fine!",
        "{not json}",
        "[1, 2]",
        json.dumps({**GOOD, "severity": "meh"}),
        json.dumps({**GOOD, "reasoning": ""}),
        json.dumps({**GOOD, "actions": "df -h"}),
        json.dumps({**GOOD, "actions": [42]}),
        json.dumps({"severity": "ok"}),
    ],
)
def test_parse_rejects_garbage(text: str) -> None:
    with pytest.raises(InvalidDecision):
        parse_decision(text)


def test_parse_normalises_and_caps_actions() -> None:
    answer = {
        "severity": " Critical ",
        "reasoning": "x",
        "actions": [{"command": "uptime"}, "uptime", "  df   -h ", "a", "b", "c"],
    }
    decision = parse_decision(json.dumps(answer))
    assert decision.severity == "critical"
    assert decision.actions == ("uptime", "df -h", "a")


# -- the decider with a scripted model ---------------------------------------------------------


async def test_valid_answer_is_used_with_schema_and_tokens() -> None:
    llm = ScriptedLLM(json.dumps(GOOD))
    out = await ModelDecider(llm, clock=FakeClock()).decide(disk_warning())
    assert out.decision.source == "model" and out.decision.severity == "warning"
    assert out.answer == GOOD
    assert (out.prompt_tokens, out.completion_tokens) == (120, 30)
    (call,) = llm.calls
    assert call["format"] == DECISION_SCHEMA
    sent = json.loads(call["messages"][0].text)
    assert sent["checks"][0]["check"] == "disk:root" and sent["checks"][0]["status"] == "warning"
    assert (
        out.prompt[0]["role"] == "system" and out.prompt[1]["content"] == call["messages"][0].text
    )


@pytest.mark.parametrize("answer", ["not json at all", "raise", json.dumps({"severity": "bad"})])
async def test_failures_fall_back_to_rules(answer: str) -> None:
    out = await ModelDecider(ScriptedLLM(answer), clock=FakeClock()).decide(disk_warning())
    assert out.decision.source == "fallback"
    assert out.decision.severity == "warning"
    assert out.decision.actions == ("du -sh /var",)  # the check's configured remedy
    assert out.decision.reasoning == "1 of 2 checks failing: disk:root (warning)."
    assert out.decision.error and out.answer is None


async def test_a_hanging_model_times_out_into_the_fallback() -> None:
    out = await ModelDecider(ScriptedLLM("hang"), timeout=0.05).decide(disk_warning())
    assert out.decision.source == "fallback"
    assert "timed out" in out.decision.error


async def test_the_model_cannot_talk_a_failing_check_down_to_ok() -> None:
    calm = {"actions": [], "severity": "ok", "reasoning": "Looks fine to me."}
    out = await ModelDecider(ScriptedLLM(json.dumps(calm)), clock=FakeClock()).decide(
        disk_warning()
    )
    assert out.decision.severity == "warning" and out.decision.source == "model"
    assert "raised to warning by the threshold rules: disk:root" in out.decision.reasoning
    assert out.answer == calm  # what the model said is kept for labeling


async def test_the_model_may_raise_the_severity() -> None:
    worried = {"actions": [], "severity": "critical", "reasoning": "Trend is bad."}
    out = await ModelDecider(ScriptedLLM(json.dumps(worried)), clock=FakeClock()).decide(healthy())
    assert out.decision.severity == "critical"


# -- end to end with the real Ollama client against the fake server ----------------------------


async def test_fake_ollama_valid_fenced_garbage_error_and_hang() -> None:
    async with FakeOllama() as fake:
        client = OllamaClient(fake.url, "qwen2.5:3b", num_ctx=4096, timeout=5)
        # The first answer pays for lazy imports and a new connection (0.4 s on a busy
        # machine): only the hang gets the short timeout.
        decider = ModelDecider(client, timeout=5)
        try:
            fake.queue_json(GOOD)
            assert (await decider.decide(disk_warning())).decision.source == "model"
            assert fake.requests[-1]["format"] == DECISION_SCHEMA
            fake.queue_text(f"```json\n{json.dumps(GOOD)}\n```")
            assert (await decider.decide(disk_warning())).decision.source == "model"
            fake.queue_text("The server seems fine, nothing to do.")
            assert (await decider.decide(disk_warning())).decision.source == "fallback"
            fake.queue_error(500, "model runner has unexpectedly stopped")
            assert (await decider.decide(disk_warning())).decision.source == "fallback"
            fake.queue_hang()
            hung = await ModelDecider(client, timeout=0.5).decide(disk_warning())
            assert hung.decision.source == "fallback" and "timed out" in hung.decision.error
        finally:
            await client.aclose()


async def test_ollama_server_down_falls_back() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OllamaClient(f"http://127.0.0.1:{port}", "qwen2.5:3b", num_ctx=4096, timeout=2)
    try:
        out = await ModelDecider(client, timeout=5).decide(disk_warning())
    finally:
        await client.aclose()
    assert out.decision.source == "fallback" and out.decision.severity == "warning"
