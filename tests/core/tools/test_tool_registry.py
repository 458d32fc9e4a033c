"""ToolRegistry: specs, validation, refusals and approvals; failures are results, never crashes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.errors import ToolError
from core.events import ApprovalOutcome, ChatRef, Decision, User
from core.llm.base import ToolCall
from core.tools.base import ToolContext
from core.tools.builtin import build_tools
from core.tools.registry import Tool, ToolRegistry, tool
from core.tools.risk import Risk
from core.tools.sandbox import Sandbox

SECRET = "xoxb-registry-secret-123456"
ANA = User("fake", "U1", "Ana")
BOB = User("fake", "U2", "Bob")
CHAT = ChatRef("fake", "C1", "T1")


class RecordingBroker:
    """Hand-written fake of ApprovalBroker.request: records requests, answers from a script."""

    def __init__(self, *outcomes: ApprovalOutcome) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[dict[str, object]] = []

    async def request(self, **kwargs: object) -> ApprovalOutcome:
        self.requests.append(kwargs)
        return self.outcomes.pop(0)


def _outcome(decision: Decision, by: User | None, reason: str = "") -> ApprovalOutcome:
    return ApprovalOutcome(
        decision=decision, decided_by=by, decided_at=datetime.now(UTC), reason=reason
    )


def _ctx(ws: Path, *, unattended: bool = False) -> ToolContext:
    return ToolContext(
        task_id="task-1", chat=CHAT, requester=BOB, workspace=ws, unattended=unattended
    )


def _call(name: str, **arguments: object) -> ToolCall:
    return ToolCall("c1", name, dict(arguments))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return (tmp_path / "ws").resolve()


def _registry(ws: Path, broker: RecordingBroker | None) -> ToolRegistry:
    # These test the registry and the classifier: confined when bwrap works here, otherwise
    # classifier-only (without a sandbox every command would ask; that has its own test).
    sandbox = Sandbox("auto", workspace=ws)
    if not sandbox.confines:
        sandbox = Sandbox("off", workspace=ws)
    return build_tools(
        workspace=ws, broker=broker, secrets=[SECRET], shell_timeout=10, sandbox=sandbox
    )


async def test_blocked_is_refused_without_asking(ws: Path) -> None:
    broker = RecordingBroker()
    result = await _registry(ws, broker).run(
        _call("shell", command="rm -rf / && touch x"), _ctx(ws)
    )
    assert result.is_error and result.output.startswith("refused:")
    assert "rm -r on /" in result.output
    assert broker.requests == []
    assert not (ws / "x").exists()


async def test_high_risk_denied_runs_nothing(ws: Path) -> None:
    broker = RecordingBroker(_outcome(Decision.DENY, ANA, "not today"))
    reg = _registry(ws, broker)
    result = await reg.run(_call("shell", command="touch made && rm -f made2"), _ctx(ws))
    assert result.is_error
    assert result.output.startswith("Not run: denied by Ana (not today)")
    assert not (ws / "made").exists()
    (request,) = broker.requests
    assert request["command"] == "touch made && rm -f made2"
    assert request["cwd"] == str(ws)
    assert request["task_id"] == "task-1"
    assert request["requester"] == BOB
    assert request["chat"] == CHAT
    assert request["tool_name"] == "shell"
    assert "deletes files (rm)" in request["reasons"]  # type: ignore[operator]


async def test_high_risk_expired_runs_nothing(ws: Path) -> None:
    broker = RecordingBroker(_outcome(Decision.DENY, None, "expired after 30 min"))
    result = await _registry(ws, broker).run(_call("shell", command="touch a; rm a"), _ctx(ws))
    assert result.is_error
    assert result.output.startswith("Not run: approval expired after 30 min")
    assert not (ws / "a").exists()


async def test_high_risk_approved_runs_exactly_that_command(ws: Path) -> None:
    broker = RecordingBroker(_outcome(Decision.APPROVE, ANA, "approved by Ana"))
    result = await _registry(ws, broker).run(
        _call("shell", command="echo approved > out.txt; rm -f nothing; pwd"), _ctx(ws)
    )
    assert not result.is_error, result.output
    assert (ws / "out.txt").read_text() == "approved\n"
    assert str(ws) in result.output


async def test_each_call_needs_its_own_approval(ws: Path) -> None:
    broker = RecordingBroker(
        _outcome(Decision.APPROVE, ANA, "approved by Ana"), _outcome(Decision.DENY, ANA)
    )
    reg = _registry(ws, broker)
    first = await reg.run(_call("shell", command="touch one; rm -f x"), _ctx(ws))
    second = await reg.run(_call("shell", command="touch two; rm -f x"), _ctx(ws))
    assert not first.is_error and second.is_error
    assert [r["command"] for r in broker.requests] == ["touch one; rm -f x", "touch two; rm -f x"]
    assert (ws / "one").exists() and not (ws / "two").exists()


async def test_unattended_work_still_asks(ws: Path) -> None:
    broker = RecordingBroker(_outcome(Decision.DENY, None, "expired after 30 min"))
    result = await _registry(ws, broker).run(
        _call("shell", command="systemctl restart nginx"), _ctx(ws, unattended=True)
    )
    assert result.is_error and len(broker.requests) == 1


async def test_high_risk_without_a_broker_is_refused(ws: Path) -> None:
    result = await _registry(ws, None).run(_call("shell", command="rm x"), _ctx(ws))
    assert result.is_error and "no approver is configured" in result.output


async def test_low_risk_runs_without_asking(ws: Path) -> None:
    broker = RecordingBroker()
    result = await _registry(ws, broker).run(_call("shell", command="echo hi"), _ctx(ws))
    assert not result.is_error and "hi" in result.output and broker.requests == []


async def test_unknown_tool_names_the_available_ones(ws: Path) -> None:
    result = await _registry(ws, None).run(_call("bash", command="ls"), _ctx(ws))
    assert result.is_error
    assert result.output == (
        "unknown tool 'bash'; available tools: shell, read_file, write_file, list_dir, "
        "http_request"
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "command: Field required"),
        ({"cmd": "ls"}, "cmd: unexpected argument"),
        ({"command": ["ls"]}, "command: Input should be a valid string"),
    ],
)
async def test_bad_arguments_explain_the_schema(
    ws: Path, arguments: dict[str, object], expected: str
) -> None:
    result = await _registry(ws, None).run(ToolCall("c", "shell", arguments), _ctx(ws))
    assert result.is_error
    assert expected in result.output
    assert 'Expected: {"command": string}' in result.output


async def test_non_object_arguments(ws: Path) -> None:
    result = await _registry(ws, None).run(ToolCall("c", "read_file", "x.txt"), _ctx(ws))  # type: ignore[arg-type]
    assert result.is_error and "must be a JSON object" in result.output
    assert '"offset_line"?: integer' in result.output


async def test_tool_exception_is_a_result_not_a_crash(ws: Path) -> None:
    async def explode(x: int) -> str:
        """Always fails."""
        raise RuntimeError("boom")

    async def refuse(x: int) -> str:
        """Refuses politely."""
        raise ToolError("refused: nope")

    reg = ToolRegistry([tool(explode), tool(refuse)])
    crashed = await reg.run(_call("explode", x=1), _ctx(ws))
    refused = await reg.run(_call("refuse", x="2"), _ctx(ws))
    assert crashed.is_error and crashed.output == "explode failed: RuntimeError: boom"
    assert refused.is_error and refused.output == "refused: nope"


def _plant_leak(ws: Path) -> None:
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "leak.txt").write_text(f"token={SECRET}\n")


async def test_secrets_are_redacted_from_outputs(ws: Path) -> None:
    _plant_leak(ws)
    result = await _registry(ws, None).run(_call("read_file", path="leak.txt"), _ctx(ws))
    assert SECRET not in result.output and "REDACTED" in result.output


def test_duplicate_names_are_an_error() -> None:
    async def same(a: str) -> str:
        """One."""
        return a

    reg = ToolRegistry([tool(same)])
    with pytest.raises(ValueError, match="duplicate tool name 'same'"):
        reg.register(tool(same))


def test_spec_from_signature_and_docstring() -> None:
    async def greet(name: str, times: int = 1, loud: bool = False) -> str:
        """Greet someone.

        Args:
            name: who to greet.
            times: how often.
        """
        return name

    t: Tool = tool(greet)
    assert t.spec.description == "Greet someone."
    assert t.parameters["required"] == ["name"]
    assert t.parameters["properties"]["name"] == {"description": "who to greet.", "type": "string"}
    assert t.parameters["properties"]["times"]["default"] == 1
    assert "title" not in str(t.parameters)


async def _public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]  # a public address, without asking a real resolver


async def test_prepare_judges_once_and_says_what_may_run_in_parallel(ws: Path) -> None:
    reg = build_tools(workspace=ws, broker=None, secrets=[SECRET], resolve=_public)

    async def parallel(call: ToolCall) -> bool:
        prepared = await reg.prepare(call)
        return prepared.error is None and prepared.parallel

    assert await parallel(_call("shell", command="ls -la"))
    assert not await parallel(_call("shell", command="rm x"))
    assert not await parallel(_call("shell", cmd="ls"))
    assert await parallel(_call("read_file", path="x"))
    assert await parallel(_call("list_dir"))
    assert not await parallel(_call("write_file", path="x", content=""))
    assert await parallel(_call("http_request", url="http://public.test/x"))
    assert not await parallel(_call("http_request", url="http://public.test/x", method="POST"))
    assert not await parallel(_call("http_request", url="http://127.0.0.1:1/x"))
    assert not await parallel(_call("nope"))
    assert reg.is_read_only("read_file") and reg.is_read_only("http_request")
    assert not reg.is_read_only("shell") and not reg.is_read_only("write_file")


async def test_a_prepared_call_is_not_judged_again_when_it_runs(ws: Path) -> None:
    judged: list[str] = []

    def risk(args: Mapping[str, Any]) -> Risk:
        judged.append(str(args["command"]))
        return Risk("low")

    async def echo(command: str) -> str:
        """Echo."""
        return command

    reg = ToolRegistry([tool(echo, risk=risk)])
    prepared = await reg.prepare(_call("echo", command="hi"))
    result = await reg.run(prepared, _ctx(ws))
    assert result.output == "hi" and judged == ["hi"]


async def test_broker_failure_denies_instead_of_crashing(ws: Path) -> None:
    class BrokenBroker:
        async def request(self, **kwargs: object) -> ApprovalOutcome:
            raise RuntimeError("database is locked")

    reg = build_tools(workspace=ws, broker=BrokenBroker(), secrets=[], shell_timeout=10)
    result = await reg.run(_call("shell", command="touch x; rm -f y"), _ctx(ws))
    assert result.is_error
    assert result.output == "Not run: the approval could not be requested (database is locked)."
    assert not (ws / "x").exists()


@pytest.mark.parametrize("command", ["./ls", "{tmp}/x/cat a", "/opt/evil/ls"])
async def test_a_program_run_by_path_asks_and_does_not_run_when_denied(
    ws: Path, tmp_path: Path, command: str
) -> None:
    marker = tmp_path / "ran"
    for program in (ws / "ls", tmp_path / "x" / "cat"):
        program.parent.mkdir(parents=True, exist_ok=True)
        program.write_text(f"#!/bin/sh\ntouch {marker}\n")
        program.chmod(0o755)
    command = command.format(tmp=tmp_path)
    broker = RecordingBroker(_outcome(Decision.DENY, ANA, "not that one"))
    result = await _registry(ws, broker).run(_call("shell", command=command), _ctx(ws))
    assert result.is_error and "denied by Ana" in result.output
    [asked] = broker.requests
    assert asked["command"] == command
    assert any("runs a program by path" in r for r in asked["reasons"])  # type: ignore[attr-defined]
    assert not marker.exists()


async def test_an_approved_program_by_path_does_run(ws: Path, tmp_path: Path) -> None:
    """The control for the test above: the marker shows when the program runs."""
    marker = tmp_path / "ran"
    broker = RecordingBroker(_outcome(Decision.APPROVE, ANA))
    registry = _registry(ws, broker)  # makes the workspace
    (ws / "ls").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (ws / "ls").chmod(0o755)
    result = await registry.run(_call("shell", command="./ls"), _ctx(ws))
    assert not result.is_error, result.output
    assert marker.exists()


async def test_one_shared_registry_asks_through_the_calls_own_approver(ws: Path) -> None:
    chat_broker = RecordingBroker(_outcome(Decision.DENY, ANA, "not now"))
    timed = RecordingBroker(_outcome(Decision.DENY, None, "expired after 5 min"))
    sandbox = Sandbox("off", workspace=ws)
    reg = build_tools(
        workspace=ws, broker=chat_broker, secrets=[], sandbox=sandbox, unattended_broker=timed
    )
    live = await reg.run(_call("shell", command="touch a; rm a"), _ctx(ws))
    scheduled = await reg.run(_call("shell", command="touch b; rm b"), _ctx(ws, unattended=True))
    assert live.output.startswith("Not run: denied by Ana")
    assert scheduled.output.startswith("Not run: approval expired after 5 min")
    assert [r["command"] for r in chat_broker.requests] == ["touch a; rm a"]
    assert [r["command"] for r in timed.requests] == ["touch b; rm b"]


async def test_a_tool_may_take_the_calls_context_which_the_model_never_sees(ws: Path) -> None:
    async def whoami(ctx: ToolContext, loud: bool = False) -> str:
        """Say which task calls."""
        return ctx.task_id.upper() if loud else ctx.task_id

    reg = ToolRegistry([tool(whoami)])
    (spec,) = reg.specs()
    assert list(spec.parameters["properties"]) == ["loud"]
    result = await reg.run(_call("whoami", loud=True), _ctx(ws))
    assert result.output == "TASK-1"
    refused = await reg.run(_call("whoami", ctx="forged"), _ctx(ws))
    assert refused.is_error and "unexpected argument" in refused.output
