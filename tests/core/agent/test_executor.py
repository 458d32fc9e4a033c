"""The executor's tool loop and each of its guards, with ScriptedLLM and FakeTools."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.agent.config import AgentConfig
from core.agent.executor import Executor
from core.events import ChatRef, User
from core.llm.base import ToolResult
from core.tools.base import ToolContext
from tests.fakes.llm import FakeTools, ScriptedLLM, calls, text

CTX = ToolContext(
    task_id="t1",
    chat=ChatRef("fake", "C1", "T1"),
    requester=User("fake", "U1"),
    workspace=Path("."),
)


def executor(llm: ScriptedLLM, tools: FakeTools, **cfg: object) -> Executor:
    return Executor(llm, tools, config=AgentConfig(**cfg))  # type: ignore[arg-type]


async def test_reads_a_file_and_answers_with_confidence() -> None:
    llm = ScriptedLLM(
        calls(("read_file", {"path": "app.toml"})),
        text("The port is 8080.\nCONFIDENCE: 0.9"),
    )
    tools = FakeTools({"read_file": "port = 8080", "list_dir": ""})
    result = await executor(llm, tools).run("find the port", goal="find the port", ctx=CTX)
    assert result.answer == "The port is 8080."
    assert result.confidence == 0.9
    assert tools.names_called() == ["read_file"]
    assert tools.contexts[0] == CTX
    # the model saw the tool result in its second call
    last = llm.seen[1].messages[-1]
    assert last.role == "tool" and last.tool_results[0].output == "port = 8080"
    assert result.rounds == 2 and result.tool_calls == 1


async def test_tool_call_written_as_text_is_recovered_and_run() -> None:
    llm = ScriptedLLM(
        text('<tool_call>{"name": "list_dir", "arguments": {"path": "."}}</tool_call>'),
        text("There is one file.\nCONFIDENCE: 0.8"),
    )
    tools = FakeTools({"read_file": "", "list_dir": "app.toml"})
    result = await executor(llm, tools).run("list", goal="list", ctx=CTX)
    assert tools.names_called() == ["list_dir"]
    assert result.answer == "There is one file."
    # the JSON is not kept as assistant prose in the history
    assistant = llm.seen[1].messages[1]
    assert assistant.text == "" and assistant.tool_calls[0].name == "list_dir"


async def test_never_ending_command_is_refused_before_the_tool_runs() -> None:
    llm = ScriptedLLM(
        calls(("shell", {"command": "tail -f /var/log/app.log"})),
        text("Could not follow the log.\nCONFIDENCE: 0.5"),
    )
    tools = FakeTools({"shell": "never"}, read_only=())
    await executor(llm, tools).run("watch log", goal="watch log", ctx=CTX)
    assert tools.calls == []
    refusal = llm.seen[1].messages[-1].tool_results[0]
    assert refusal.is_error and "tail -n 100" in refusal.output


async def test_identical_call_is_not_run_twice() -> None:
    llm = ScriptedLLM(
        calls(("read_file", {"path": "a"})),
        calls(("read_file", {"path": "a"})),
        text("done\nCONFIDENCE: 0.9"),
    )
    tools = FakeTools({"read_file": "AAA"})
    await executor(llm, tools).run("x", goal="x", ctx=CTX)
    assert len(tools.calls) == 1
    second = llm.seen[2].messages[-1].tool_results[0]
    assert second.output.startswith("(identical call already made") and "AAA" in second.output


async def test_per_tool_cap_refuses_further_calls() -> None:
    llm = ScriptedLLM(
        *[calls(("shell", {"command": f"echo {i}"})) for i in range(4)],
        text("done\nCONFIDENCE: 0.9"),
    )
    tools = FakeTools({"shell": "ok"}, read_only=())
    await executor(llm, tools, tool_cap=2).run("x", goal="x", ctx=CTX)
    assert len(tools.calls) == 2
    assert "cap" in llm.seen[3].messages[-1].tool_results[0].output


async def test_read_only_tools_get_the_higher_cap() -> None:
    llm = ScriptedLLM(
        *[calls(("read_file", {"path": f"f{i}"})) for i in range(5)],
        text("done\nCONFIDENCE: 0.9"),
    )
    tools = FakeTools({"read_file": "x"})
    await executor(llm, tools, tool_cap=2, read_only_cap=5).run("x", goal="x", ctx=CTX)
    assert len(tools.calls) == 5


async def test_circuit_breaker_makes_the_model_commit() -> None:
    llm = ScriptedLLM(
        *[calls(("shell", {"command": f"cmd{i}"})) for i in range(3)],
        text("I could not run anything.\nCONFIDENCE: 0.2"),
    )
    tools = FakeTools({"shell": RuntimeError("boom")}, read_only=())
    result = await executor(llm, tools, breaker_failures=3).run("x", goal="x", ctx=CTX)
    assert result.breaker_tripped and result.tool_failures == 3
    last_user = llm.seen[3].messages[-1]
    assert last_user.role == "user" and "Stop calling tools: 3 tool calls failed" in last_user.text
    assert llm.calls_made == 4


async def test_calls_in_the_forced_round_are_ignored() -> None:
    llm = ScriptedLLM(
        calls(("shell", {"command": "a"})),
        calls(("shell", {"command": "b"})),
    )
    tools = FakeTools({"shell": RuntimeError("boom")}, read_only=())
    result = await executor(llm, tools, breaker_failures=1).run("x", goal="x", ctx=CTX)
    assert len(tools.calls) == 1
    assert result.refused and result.confidence == 0.3


async def test_round_limit_forces_a_final_answer() -> None:
    llm = ScriptedLLM(
        *[calls(("read_file", {"path": f"f{i}"})) for i in range(3)],
        text("Partial answer.\nCONFIDENCE: 0.9"),
    )
    tools = FakeTools({"read_file": "x"})
    result = await executor(llm, tools, max_rounds=3).run("x", goal="x", ctx=CTX)
    assert result.hit_round_limit and result.rounds == 4
    assert "limit of 3 rounds" in llm.seen[3].messages[-1].text


async def test_error_output_gets_a_hint() -> None:
    llm = ScriptedLLM(calls(("read_file", {"path": "nope"})), text("missing\nCONFIDENCE: 0.9"))
    tools = FakeTools(
        {"read_file": lambda a: ToolResult("", "read_file", "No such file or directory", True)}
    )
    await executor(llm, tools).run("x", goal="x", ctx=CTX)
    out = llm.seen[1].messages[-1].tool_results[0].output
    assert out.splitlines()[-1].startswith("hint: the path does not exist")


async def test_failure_signal_in_tool_output_clamps_confidence() -> None:
    llm = ScriptedLLM(
        calls(("shell", {"command": "docker ps"})),
        text("Everything is fine!\nCONFIDENCE: 0.95"),
    )
    tools = FakeTools({"shell": "web  Up 3 min (unhealthy)"}, read_only=())
    result = await executor(llm, tools).run("x", goal="x", ctx=CTX)
    assert result.stated_confidence == 0.95
    assert result.confidence == 0.3 and result.signals == ("unhealthy",)


async def test_low_risk_calls_of_a_round_run_concurrently() -> None:
    started = asyncio.Event()
    both = asyncio.Barrier(2)

    async def slow(args: dict) -> str:
        started.set()
        await asyncio.wait_for(both.wait(), 2)  # only passes if both run at once
        return f"content of {args['path']}"

    llm = ScriptedLLM(
        calls(("read_file", {"path": "a"}), ("read_file", {"path": "b"})),
        text("both read\nCONFIDENCE: 0.9"),
    )
    tools = FakeTools({"read_file": slow})
    await executor(llm, tools).run("x", goal="x", ctx=CTX)
    assert tools.max_running == 2
    results = llm.seen[1].messages[-1].tool_results
    assert [r.output for r in results] == ["content of a", "content of b"]


async def test_high_risk_calls_run_alone_and_in_order() -> None:
    order: list[str] = []

    async def record(args: dict) -> str:
        order.append(args.get("path") or args.get("command"))
        await asyncio.sleep(0)
        return "ok"

    llm = ScriptedLLM(
        calls(
            ("read_file", {"path": "a"}),
            ("shell", {"command": "make"}),
            ("read_file", {"path": "b"}),
        ),
        text("done\nCONFIDENCE: 0.9"),
    )
    tools = FakeTools({"read_file": record, "shell": record})
    await executor(llm, tools).run("x", goal="x", ctx=CTX)
    assert order == ["a", "make", "b"]
    assert tools.max_running == 1


async def test_steering_is_injected_at_the_next_round() -> None:
    queue = [["use the staging config"], []]
    llm = ScriptedLLM(calls(("read_file", {"path": "a"})), text("ok\nCONFIDENCE: 0.9"))
    tools = FakeTools({"read_file": "x"})
    await executor(llm, tools).run(
        "x", goal="x", ctx=CTX, steering=lambda: queue.pop(0) if queue else []
    )
    assert llm.seen[0].messages[-1].text == "user says: use the staging config"


async def test_memos_are_pinned_and_stripped_from_the_answer() -> None:
    llm = ScriptedLLM(
        text(
            'MEMO: config is in /srv/app.toml\n{"name": "read_file", "arguments": {"path": "a"}}'
        ),
        text("Port 8080.\nCONFIDENCE: 0.9"),
    )
    tools = FakeTools({"read_file": "x"})
    ex = executor(llm, tools)
    result = await ex.run("x", goal="x", ctx=CTX)
    assert "/srv/app.toml" in llm.seen[1].system
    assert ex.watchdog.memos == ["config is in /srv/app.toml"]
    assert result.answer == "Port 8080."


async def test_written_files_are_reported() -> None:
    llm = ScriptedLLM(
        calls(("write_file", {"path": "out/report.md", "content": "# R"})),
        text("wrote it\nCONFIDENCE: 0.9"),
    )
    tools = FakeTools({"write_file": "written"}, read_only=())
    result = await executor(llm, tools).run("x", goal="x", ctx=CTX)
    assert result.files_written == ("out/report.md",)


async def test_watchdog_keeps_a_long_task_under_num_ctx() -> None:
    llm = ScriptedLLM(
        *[calls(("read_file", {"path": f"f{i}"})) for i in range(25)],
        text("done\nCONFIDENCE: 0.9"),
        num_ctx=4096,
    )
    tools = FakeTools({"read_file": lambda a: "y" * 2000})
    ex = executor(llm, tools, max_rounds=30, read_only_cap=30)
    result = await ex.run("x", goal="x", ctx=CTX)
    assert result.compressions > 0
    assert max(ex.prompt_sizes) <= 4096
