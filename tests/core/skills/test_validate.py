"""Generated skills are checked before a human sees them (static checks and a dry run)."""

from __future__ import annotations

from core.skills.runner import SkillRunner
from core.skills.validate import static_problems, validate

GOOD = '''"""Echo a word."""

import re

from core.skills.api import SkillResult, ok

NAME = "echo_word"
DESCRIPTION = "Echo a word back."
PARAMS = {
    "type": "object",
    "properties": {"word": {"type": "string", "pattern": "^\\\\w+$", "examples": ["hello"]}},
    "required": ["word"],
}
EXAMPLES = ["echo {word}", "say {word} back"]
_WORD = re.compile(r"\\w+")


def run(params: dict) -> SkillResult:
    return ok(params["word"].upper())
'''


def _with(extra_top: str = "", body: str = "    return ok(params['word'])") -> str:
    head, _, _ = GOOD.partition("def run")
    return head + extra_top + "def run(params: dict) -> SkillResult:\n" + body + "\n"


def test_a_good_module_has_no_problems() -> None:
    assert static_problems(GOOD) == []


def test_os_system_and_subprocess_are_rejected_without_permission() -> None:
    system = _with(body="    import os\n    os.system('id')\n    return ok('x')")
    from_os = _with(extra_top="from os import system\n\n\n")
    sub = _with(extra_top="import subprocess\n\n\n")
    assert static_problems(system) == ["line 20: uses os.system"]
    assert static_problems(from_os) == ["line 18: imports os.system"]
    assert static_problems(sub) == [
        "line 18: imports subprocess, which is not allowed (set SKILL_ALLOW_SUBPROCESS=true)"
    ]
    assert static_problems(sub, allow_subprocess=True) == []
    assert "imports ctypes" in static_problems(_with(extra_top="import ctypes\n\n\n"))[0]
    assert "uses eval" in static_problems(_with(body="    return ok(eval('1'))"))[0]


def test_no_run_and_top_level_code_are_rejected() -> None:
    no_run = GOOD.replace("def run(params: dict)", "def answer(params: dict)")
    top = _with(extra_top="open('/tmp/x', 'w').write('side effect')\n\n\n")
    call = _with(extra_top="DATA = open('x').read()\n\n\n")
    assert static_problems(no_run) == ["missing a top-level def run(params)"]
    assert static_problems(top) == [
        "line 18: top-level code (Expr); only definitions and constants may sit at module level"
    ]
    assert static_problems(call)[0].startswith("line 18: top-level code (Assign)")
    assert static_problems(GOOD.replace('NAME = "echo_word"', "NAME = make_name()"))


async def test_the_dry_run_runs_each_example_in_the_sandbox(runner: SkillRunner) -> None:
    skill, verdict = await validate(GOOD, runner)
    assert skill is not None and verdict.passed, verdict
    assert verdict.dry_runs == ("echo hello → ok: HELLO", "say hello back → ok: HELLO")
    crashing = GOOD.replace('return ok(params["word"].upper())', "return 1 / 0")
    skill, verdict = await validate(crashing, runner)
    assert not verdict.passed
    assert "ZeroDivisionError" in verdict.problems[0]
