"""AgentRunner end to end with scripted models: what the thread shows and what usage records."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import LLMUnavailable
from core.llm.base import ToolResult
from tests.core.agent.conftest import CHAT, Rig, plan
from tests.fakes.llm import HANG, FakeTools, calls, text


async def test_local_answer_streams_into_the_thread(rig: Rig) -> None:
    rig.planner.add(plan("read app.toml and report the port"))
    rig.local.add(
        calls(("read_file", {"path": "app.toml"})), text("The port is 8080.\nCONFIDENCE: 0.9")
    )
    line = await rig.run("what port does the app use?")
    card, answer = rig.texts()
    assert card.startswith("✅ Done: what port does the app use?")
    assert "✅ 1. read app.toml and report the port — local" in card
    assert answer == "The port is 8080."
    assert line == "1/1 steps done"
    assert rig.cloud.calls_made == 0
    rows = await rig.store.rows(task_id="t1")
    assert [(r.purpose, r.provider) for r in rows] == [
        ("plan", "ollama"),
        ("execute", "ollama"),
        ("execute", "ollama"),
    ]
    assert all(r.cost_usd == 0 and r.saved_usd > 0 for r in rows)
    assert rig.metrics.get("hearth_llm_calls_total", provider="ollama") == 3


async def test_planner_garbage_runs_the_goal_as_one_step(rig: Rig) -> None:
    rig.planner.add(text("Sure! Here is my plan: first, ..."))
    rig.local.add(text("Done.\nCONFIDENCE: 0.9"))
    await rig.run("tidy the workspace")
    assert "✅ 1. tidy the workspace" in rig.texts()[0]
    assert rig.planner.seen[0].format is not None  # structured output was requested


async def test_several_steps_are_summarised(rig: Rig) -> None:
    rig.planner.add(plan("find the config", "read the port"))
    rig.local.add(
        text("Config is app.toml.\nCONFIDENCE: 0.9"),
        text("Port 8080.\nCONFIDENCE: 0.9"),
        text("The app reads app.toml and listens on 8080."),  # summary
    )
    await rig.run("what port?")
    assert rig.texts()[-1] == "The app reads app.toml and listens on 8080."
    # the second step saw the first step's result
    assert "Config is app.toml." in rig.local.seen[1].messages[0].text


async def test_summary_failure_keeps_the_step_results(rig: Rig) -> None:
    rig.planner.add(plan("step one", "step two"))
    rig.local.add(
        text("Result one.\nCONFIDENCE: 0.9"),
        text("Result two.\nCONFIDENCE: 0.9"),
        LLMUnavailable("Ollama is not reachable"),
    )
    await rig.run("do both")
    answer = rig.texts()[-1]
    assert "The summary step failed" in answer
    assert "Result one." in answer and "Result two." in answer


@pytest.mark.parametrize(
    ("script", "tools", "trigger", "shown"),
    [
        (
            [text("I think it's 80.\nCONFIDENCE: 0.3")],
            {},
            "low_confidence",
            "confidence 0.30 < 0.60",
        ),
        (
            [calls(("shell", {"command": f"c{i}"})) for i in range(3)]
            + [text("Nothing worked.\nCONFIDENCE: 0.9")],
            {"shell": RuntimeError("exit 1")},
            "failures",
            "3 tool failures in a row (limit 3)",
        ),
        (
            [calls(("shell", {"command": "a"})), calls(("shell", {"command": "b"}))]
            + [calls(("read_file", {"path": "x"}))] * 0
            + [calls(("shell", {"command": "c"})), text("gave up\nCONFIDENCE: 0.9")],
            {"shell": lambda a: ToolResult("", "shell", "nope", a["command"] != "b")},
            "circuit_breaker",
            "circuit breaker: 2 tool calls failed",
        ),
        (
            [calls(("shell", {"command": "docker ps"})), text("All healthy.\nCONFIDENCE: 0.95")],
            {"shell": "web   Exited (1) 2 minutes ago"},
            "low_confidence",
            "failure signal `Exited (`",
        ),
    ],
    ids=["low-confidence", "failures-in-a-row", "circuit-breaker", "failure-signal"],
)
async def test_escalation_triggers(
    rig: Rig, script: list, tools: dict, trigger: str, shown: str
) -> None:
    rig.config = type(rig.config)(
        workspace=rig.config.workspace, breaker_failures=2 if trigger == "circuit_breaker" else 5
    )
    rig.tools = FakeTools({"read_file": "x", **tools}, read_only={"read_file"})
    rig.planner.add(plan("check the service"))
    rig.local.add(*script)
    rig.cloud.add(
        text(
            "The service is down: exit code 1.\nCONFIDENCE: 0.9",
            prompt_tokens=1000,
            completion_tokens=100,
        )
    )
    await rig.run("is the service ok?")
    texts = rig.texts()
    escalation = next(t for t in texts if t.startswith("↗ Escalating step 1 to Claude"))
    assert "claude-opus-4-6" in escalation and shown in escalation
    # Claude's result: tokens and cost in the thread ($5/M in, $25/M out)
    # The answer streamed live, so Claude's tokens and cost are on its step in the card.
    assert "1. check the service — Claude: 1,100 tokens, $0.0075" in texts[0]
    assert texts[-1] == "The service is down: exit code 1."
    assert rig.metrics.get("hearth_escalations_total", trigger=trigger) == 1
    (esc,) = await rig.store.escalations(task_id="t1")
    assert (esc.trigger, esc.outcome, esc.cost_usd) == (trigger, "done", pytest.approx(0.0075))
    cloud_rows = [r for r in await rig.store.rows() if r.provider == "anthropic"]
    assert [(r.purpose, r.prompt_tokens, r.completion_tokens) for r in cloud_rows] == [
        ("escalate", 1000, 100)
    ]
    assert cloud_rows[0].cost_usd == pytest.approx(0.0075)


async def test_timeout_escalates(rig: Rig) -> None:
    rig.config = type(rig.config)(workspace=rig.config.workspace, subtask_timeout=0.3)
    rig.planner.add(plan("slow step"))
    rig.local.add(HANG)
    rig.cloud.add(text("Fast answer.\nCONFIDENCE: 0.9"))
    await rig.run("be quick")
    assert any("SUBTASK_TIMEOUT=0.3s" in t for t in rig.texts())
    assert rig.texts()[-1] == "Fast answer."
    assert rig.metrics.get("hearth_escalations_total", trigger="timeout") == 1


async def test_local_model_down_escalates(rig: Rig) -> None:
    rig.planner.add(plan("step"))
    rig.local.add(LLMUnavailable("Ollama is not reachable at http://x"))
    rig.cloud.add(text("Claude did it.\nCONFIDENCE: 0.9"))
    await rig.run("go")
    assert any("the model call failed: Ollama is not reachable" in t for t in rig.texts())
    assert rig.texts()[-1] == "Claude did it."


async def test_verifier_fail_retries_once_then_escalates(rig: Rig) -> None:
    rig.tools = FakeTools({"read_file": "TODO: write the report", "write_file": "ok"})
    rig.planner.add(plan("write report.md"))
    write = calls(("write_file", {"path": "report.md", "content": "TODO"}))
    rig.local.add(
        write,
        text("Wrote the report.\nCONFIDENCE: 0.9"),
        text('{"verdict": "FAIL", "reason": "it is a placeholder"}'),
        write,
        text("Wrote the report again.\nCONFIDENCE: 0.9"),
        text('{"verdict": "FAIL", "reason": "still a placeholder"}'),
    )
    rig.cloud.add(
        calls(("write_file", {"path": "report.md", "content": "# Report\nreal"})),
        text("Report written.\nCONFIDENCE: 0.9"),
    )
    await rig.run("write the report")
    texts = rig.texts()
    assert any("the verifier rejected the result (it is a placeholder)" in t for t in texts)
    # The rejected answers streamed live were edited to say so; none stands as the answer.
    replaced = [t for t in texts if t.startswith("↪️ Replaced: the verifier rejected")]
    assert len(replaced) == 1 and "Wrote the report" not in " ".join(texts)
    assert any(
        "verifier rejected the result twice: still a placeholder" in t and t.startswith("↗")
        for t in texts
    )
    # the retry carried the feedback
    assert "it is a placeholder" in rig.local.seen[3].messages[0].text
    assert rig.metrics.get("hearth_escalations_total", trigger="verifier_fail") == 1
    assert texts[-1] == "Report written."


async def test_verifier_pass_keeps_the_local_result(rig: Rig) -> None:
    rig.tools = FakeTools({"read_file": "# Report", "write_file": "ok"})
    rig.planner.add(plan("write report.md"))
    rig.local.add(
        calls(("write_file", {"path": "report.md", "content": "# Report"})),
        text("Wrote it.\nCONFIDENCE: 0.9"),
        text('{"verdict": "PASS", "reason": "complete"}'),
    )
    await rig.run("write the report")
    assert rig.texts()[-1] == "Wrote it."
    assert rig.cloud.calls_made == 0
    assert "report.md" in rig.local.seen[2].messages[0].text  # the judge read the file


async def test_escalation_disabled_fails_honestly(rig: Rig) -> None:
    rig.config = type(rig.config)(workspace=rig.config.workspace, escalation_enabled=False)
    rig.planner.add(plan("check"))
    rig.local.add(calls(("read_file", {"path": "a"})), text("Maybe 80?\nCONFIDENCE: 0.2"))
    line = await rig.run("what port?")
    texts = rig.texts()
    assert texts[0].startswith("❌ Failed: what port?")
    assert not any("Maybe 80?" in t for t in texts)  # the streamed guess was replaced
    answer = texts[-1]
    assert "ESCALATION_ENABLED=false" in answer
    assert 'read_file(path="a") → ok' in answer  # says what was tried
    assert "Maybe 80?" not in answer  # never presents the unconfident guess as the answer
    assert line.startswith("failed:")
    assert rig.cloud.calls_made == 0
    (esc,) = await rig.store.escalations()
    assert esc.outcome == "disabled"


async def test_no_cloud_key_fails_honestly(rig: Rig) -> None:
    rig.with_cloud = False
    rig.planner.add(plan("check"))
    rig.local.add(text("No idea.\nCONFIDENCE: 0.1"))
    await rig.run("what port?")
    assert "ANTHROPIC_API_KEY is not set" in rig.texts()[-1]


async def test_local_only_channel_never_calls_the_cloud(rig: Rig) -> None:
    await rig.channels.set_local_only(CHAT, True)
    rig.planner.add(plan("check"))
    rig.local.add(text("Unsure.\nCONFIDENCE: 0.1"))
    await rig.run("what port?")
    assert rig.cloud.calls_made == 0
    assert "local-only" in rig.texts()[-1]
    assert all(r.provider == "ollama" for r in await rig.store.rows())


async def test_task_flag_local_only_is_honoured(rig: Rig) -> None:
    rig.planner.add(plan("check"))
    rig.local.add(text("Unsure.\nCONFIDENCE: 0.1"))
    await rig.run("what port?", local_only=True)
    assert rig.cloud.calls_made == 0


async def test_budget_exhausted_blocks_the_cloud_call(rig: Rig) -> None:
    rig.daily_usd = 0.01
    rig.planner.add(plan("check"))
    rig.local.add(text("Unsure.\nCONFIDENCE: 0.1"))
    await rig.run("what port?")
    texts = rig.texts()
    assert rig.cloud.calls_made == 0
    assert any(t.startswith("💸 Step 1: not calling Claude — the daily budget") for t in texts)
    assert "DAILY_BUDGET_USD=$0.01" in texts[-1]
    (esc,) = await rig.store.escalations()
    assert esc.outcome == "blocked"


async def test_user_budget_blocks_only_that_user(rig: Rig) -> None:
    rig.user_daily_usd = 0.001
    rig.planner.add(plan("check"))
    rig.local.add(text("Unsure.\nCONFIDENCE: 0.1"))
    await rig.run("what port?")
    assert rig.cloud.calls_made == 0
    assert "USER_DAILY_BUDGET_USD" in rig.texts()[-1]


async def test_budget_warning_is_posted_once(rig: Rig) -> None:
    rig.daily_usd = 0.5
    rig.planner.add(plan("check"))
    rig.local.add(text("Unsure.\nCONFIDENCE: 0.1"))
    rig.cloud.add(text("Sure.\nCONFIDENCE: 0.9", prompt_tokens=20_000, completion_tokens=7_000))
    await rig.run("what port?")  # $0.10 + $0.175 = $0.275 of $0.50 → 55 %
    assert any(t.startswith("⚠️ 50% of the daily budget used") for t in rig.texts())


async def test_claude_failing_too_is_reported(rig: Rig) -> None:
    rig.planner.add(plan("check"))
    rig.local.add(text("Unsure.\nCONFIDENCE: 0.1"))
    rig.cloud.add(LLMUnavailable("overloaded_error: Overloaded (mid-stream)"))
    await rig.run("what port?")
    texts = rig.texts()
    assert any(t.startswith("✗ Claude could not finish step 1 either") for t in texts)
    assert "Claude failed too" in texts[-1]
    (esc,) = await rig.store.escalations()
    assert esc.outcome == "failed"


async def test_cancel_marks_the_card_stopped(rig: Rig) -> None:
    rig.planner.add(plan("slow"))
    rig.local.add(HANG)
    task = asyncio.create_task(rig.run("slow"))
    async with asyncio.timeout(5):
        while rig.local.calls_made == 0:  # until the executor waits on the model
            await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rig.texts()[0].startswith("⏹ Stopped")


async def test_steering_written_mid_task_reaches_the_next_round(rig: Rig) -> None:
    task = rig.task("check the config")

    def first_round(seen: object) -> object:
        task.steering.put_nowait("use the staging file instead")  # the user writes meanwhile
        return calls(("read_file", {"path": "prod.toml"}))

    rig.planner.add(plan("read the config"))
    rig.local.add(first_round, text("Staging uses 9090.\nCONFIDENCE: 0.9"))
    await rig.runner().run(task)
    second = rig.local.seen[1].messages
    assert second[-1].text == "user says: use the staging file instead"
    assert second[-2].role == "tool"
    assert rig.texts()[-1] == "Staging uses 9090."
