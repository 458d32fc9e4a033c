"""SkillLibrary: loading from every folder, broken files reported and skipped, statuses."""

from __future__ import annotations

from pathlib import Path

from core.skills.library import BUILTIN_DIR, SkillLibrary
from core.skills.matching import best_match, match_example, parse_args
from core.skills.model import CodeSkill, RunbookSkill, Status
from core.storage.db import Database
from core.storage.skills import SkillStore
from tests.core.skills.conftest import builtin
from tests.fakes.clock import FakeClock

GOOD = """from core.skills.api import SkillResult
NAME = "{name}"
DESCRIPTION = "a team skill"
PARAMS = {{"type": "object", "properties": {{"host": {{"type": "string"}}}}}}
EXAMPLES = ["say hello to {{host}}"]
def run(params):
    return SkillResult("hello " + params.get("host", "?"))
"""

# From the public SKILL.md format (Claude Code / agentskills.io): front matter, body, a script.
PUBLIC_SKILL = """---
name: pdf-report
description: Build a PDF report from the workspace's CSV files. Use when asked for a report.
license: Apache-2.0
allowed-tools: Bash(python3:*) Read
metadata:
  author: example-team
  version: "1.0"
---

# PDF report

1. Run `scripts/build.sh` from the skill folder.
2. Check the output file exists.
"""


def _write_broken(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "syntax.py").write_text("NAME = 'syntax'\ndef run(:\n")
    (folder / "norun.py").write_text(
        "NAME = 'norun'\nDESCRIPTION = 'x'\nPARAMS = {'type': 'object'}\nEXAMPLES = []\n"
    )
    bad_fm = folder / "bad-front"
    bad_fm.mkdir()
    (bad_fm / "SKILL.md").write_text("---\nname: [unclosed\n---\nbody\n")


async def test_loads_builtins_data_dir_and_skills_dirs(db: Database, tmp_path: Path) -> None:
    data, team = tmp_path / "data-skills", tmp_path / "team"
    data.mkdir()
    team.mkdir()
    (data / "hello.py").write_text(GOOD.format(name="hello"))
    (team / "pdf-report").mkdir()
    (team / "pdf-report" / "SKILL.md").write_text(PUBLIC_SKILL)
    (team / "pdf-report" / "scripts").mkdir()
    (team / "pdf-report" / "scripts" / "build.sh").write_text("echo building\n")
    lib = SkillLibrary(SkillStore(db), data_dir=data, extra_dirs=[team], clock=FakeClock())
    assert await lib.load() == 12
    assert lib.problems == []
    hello, pdf = lib.get("hello"), lib.get("pdf-report")
    assert isinstance(hello, CodeSkill) and hello.origin == "data"
    assert isinstance(pdf, RunbookSkill) and pdf.origin == "dir"
    assert pdf.scripts == ("scripts/build.sh",) and pdf.body.startswith("# PDF report")
    states = await lib.states()
    assert {s.status for s in states.values()} == {Status.ACTIVE}


async def test_broken_files_are_reported_once_and_skipped(db: Database, tmp_path: Path) -> None:
    data = tmp_path / "skills"
    _write_broken(data)
    (data / "dup.py").write_text(GOOD.format(name="disk_usage"))  # a built-in's name
    lib = SkillLibrary(SkillStore(db), data_dir=data, clock=FakeClock())
    assert await lib.load() == 10  # the built-ins still load
    errors = {p.path.name: p.error for p in lib.problems}
    assert errors["syntax.py"] == "syntax error on line 2: invalid syntax"
    assert errors["norun.py"] == "missing a top-level def run(params)"
    assert errors["bad-front"].startswith("SKILL.md: bad front matter")
    assert "already loaded" in errors["dup.py"]
    assert lib.get("disk_usage").origin == "builtin"  # type: ignore[union-attr]


async def test_status_and_counters_are_stored(db: Database, tmp_path: Path) -> None:
    store = SkillStore(db)
    lib = SkillLibrary(store, builtin_dir=BUILTIN_DIR, clock=FakeClock())
    await lib.load()
    assert await lib.set_status("disk_usage", Status.DISABLED)
    assert not await lib.set_status("nope", Status.DISABLED)
    active = {s.name for s in await lib.code_skills(frozenset({Status.ACTIVE}))}
    assert "disk_usage" not in active and "port_check" in active
    await store.record_run("port_check", 1, ok=False, error="boom", now=5.0)
    await store.record_run("port_check", 1, ok=True, error="", now=6.0)
    state = await lib.state("port_check")
    assert state is not None
    assert (state.runs, state.successes, state.failures, state.consecutive_failures) == (
        2,
        1,
        1,
        0,
    )
    assert state.last_error == "boom" and state.last_run_at == 6.0
    again = SkillLibrary(store, builtin_dir=BUILTIN_DIR, clock=FakeClock())
    await again.load()  # a restart keeps the status
    assert (await again.state("disk_usage")).status is Status.DISABLED  # type: ignore[union-attr]


def test_matching_takes_params_from_where_the_placeholders_sit() -> None:
    port = builtin("port_check")
    score, params = match_example(
        "is port 5432 open on db.internal?", "is port {ports} open on {host}", port
    )
    assert score == 1.0 and params == {"ports": "5432", "host": "db.internal"}
    top = builtin("top_processes")
    assert match_example("show the top 5 processes", "show the top {count} processes", top)[1] == {
        "count": 5
    }
    # A value that does not fit its schema is no match ("the database" is no path).
    assert (
        match_example("how full is the database", "how full is {path}", builtin("disk_usage"))[0]
        == 0
    )
    tail = builtin("log_tail")
    assert match_example('grep "disk full" in app.log', "grep {pattern} in {path}", tail)[1] == {
        "pattern": "disk full",
        "path": "app.log",
    }


def test_best_match_threshold() -> None:
    skills = [builtin(n) for n in ("disk_usage", "port_check", "http_check", "git_status")]
    assert best_match("How full are the disks?", skills).skill.name == "disk_usage"  # type: ignore[union-attr]
    assert best_match("how full is the database", skills) is None
    assert best_match("write a poem about disks", skills) is None
    assert best_match("is nginx up", skills) is None
    assert best_match("how full is the database", skills, threshold=0.8) is not None


def test_parse_args() -> None:
    assert parse_args('{"ports": "22"}') == {"ports": "22"}
    assert parse_args('ports=22,80 host="db one" verbose=true n=3') == {
        "ports": "22,80",
        "host": "db one",
        "verbose": True,
        "n": 3,
    }
    for bad in ("{nope", "[1]", "just words"):
        try:
            parse_args(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
