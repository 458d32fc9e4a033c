"""Planner fallbacks and the verifier's verdict parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.agent.planner import Planner, parse_plan
from core.agent.verifier import Verifier, parse_verdict
from core.errors import LLMUnavailable
from core.events import ChatRef, User
from core.tools.base import ToolContext
from tests.fakes.llm import FakeTools, ScriptedLLM, text


@pytest.mark.parametrize(
    ("raw", "steps"),
    [
        ('{"subtasks": ["a", "b"]}', ["a", "b"]),
        ('{"subtasks": [{"description": "a"}, {"task": "b"}]}', ["a", "b"]),
        ('["a", "  b  c "]', ["a", "b c"]),
        ('```json\n{"subtasks": ["a"]}\n```', ["a"]),
        ('{"subtasks": []}', None),
        ('{"subtasks": ["", "  "]}', None),
        ('{"steps": ["a"]}', None),
        ("first do a, then b", None),
        ('{"subtasks": "a"}', None),
    ],
)
def test_parse_plan(raw: str, steps: list[str] | None) -> None:
    assert parse_plan(raw, 6) == steps


def test_plan_is_capped() -> None:
    assert parse_plan('{"subtasks": ["1","2","3","4"]}', 2) == ["1", "2"]


async def test_planner_asks_for_the_schema_and_falls_back() -> None:
    llm = ScriptedLLM(text('{"subtasks": ["x", "y"]}'), text("garbage"), LLMUnavailable("down"))
    planner = Planner(llm, max_steps=4)
    assert await planner.plan("goal", memories=["remembered fact"]) == ["x", "y"]
    assert llm.seen[0].format["properties"]["subtasks"]["maxItems"] == 4
    assert "remembered fact" in llm.seen[0].messages[0].text
    assert await planner.plan("goal two") == ["goal two"]
    assert await planner.plan("goal three") == ["goal three"]


@pytest.mark.parametrize(
    ("raw", "passed", "judged"),
    [
        ('{"verdict": "PASS", "reason": "ok"}', True, True),
        ('{"verdict": "fail", "reason": "stub"}', False, True),
        ("FAIL: it is a description", False, True),
        ("PASS", True, True),
        ("no idea", True, False),
    ],
)
def test_parse_verdict(raw: str, passed: bool, judged: bool) -> None:
    v = parse_verdict(raw)
    assert (v.passed, v.judged) == (passed, judged)


async def test_verifier_reads_the_files_through_the_tools() -> None:
    ctx = ToolContext(
        task_id="t", chat=ChatRef("fake", "c"), requester=User("fake", "u"), workspace=Path(".")
    )
    tools = FakeTools({"read_file": "def main(): pass"})
    llm = ScriptedLLM(text('{"verdict": "FAIL", "reason": "main is empty"}'))
    verdict = await Verifier(llm, tools).verify("write main.py", "done", ["main.py"], ctx)
    assert not verdict.passed and verdict.reason == "main is empty"
    assert tools.calls[0].arguments == {"path": "main.py"}
    assert "def main(): pass" in llm.seen[0].messages[0].text


async def test_verifier_down_accepts_unverified() -> None:
    ctx = ToolContext(
        task_id="t", chat=ChatRef("fake", "c"), requester=User("fake", "u"), workspace=Path(".")
    )
    verdict = await Verifier(ScriptedLLM(LLMUnavailable("x")), FakeTools()).verify(
        "s", "a", ["f"], ctx
    )
    assert verdict.passed and not verdict.judged
