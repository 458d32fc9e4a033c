"""`hearth skills list|show|enable|disable` and `hearth doctor` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_cli_oneshot import _closed_url, hearth


def _broken_skills(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "skills"
    folder.mkdir(parents=True)
    (folder / "syntax.py").write_text("NAME = 'syntax'\ndef run(:\n")
    (folder / "norun.py").write_text(
        "NAME = 'norun'\nDESCRIPTION = 'x'\nPARAMS = {'type': 'object'}\nEXAMPLES = []\n"
    )
    (folder / "front").mkdir()
    (folder / "front" / "SKILL.md").write_text("---\ndescription: no name\n---\nbody\n")
    return folder


async def test_list_reports_broken_skills_and_skips_them(tmp_path: Path) -> None:
    folder = _broken_skills(tmp_path)
    code, out, err = await hearth(tmp_path, "skills", "list", ollama=_closed_url())
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == [
        "name",
        "kind",
        "origin",
        "status",
        "runs",
        "ok",
        "failed",
        "last",
        "run",
    ]
    assert any(line.split()[:4] == ["disk_usage", "code", "builtin", "ACTIVE"] for line in lines)
    assert "not loaded (3):" in out
    assert f"{folder / 'syntax.py'}: syntax error on line 2" in out
    assert f"{folder / 'norun.py'}: missing a top-level def run(params)" in out
    assert f"{folder / 'front'}: SKILL.md: name None must be" in out
    assert "Traceback" not in out + err


async def test_doctor_reports_broken_skills(tmp_path: Path) -> None:
    _broken_skills(tmp_path)
    code, out, _ = await hearth(tmp_path, "doctor", ollama=_closed_url())
    assert code == 1
    assert "OK   skills: 10 loaded" in out
    assert "FAIL skill: " in out and "syntax error on line 2" in out
    assert "fix the file or remove it; it is skipped" in out


async def test_show_enable_disable(tmp_path: Path) -> None:
    url = _closed_url()
    code, out, _ = await hearth(tmp_path, "skills", "show", "port_check", ollama=url)
    assert code == 0 and "port_check (code, builtin, v1)" in out and "Examples:" in out
    code, out, _ = await hearth(tmp_path, "skills", "disable", "port_check", ollama=url)
    assert code == 0 and out.strip() == "port_check: DISABLED"
    code, out, _ = await hearth(tmp_path, "skills", "list", ollama=url)
    assert any(
        line.split()[:4] == ["port_check", "code", "builtin", "DISABLED"]
        for line in out.splitlines()
    )
    code, out, _ = await hearth(tmp_path, "skills", "enable", "port_check", ollama=url)
    assert out.strip() == "port_check: ACTIVE"
    code, _, err = await hearth(tmp_path, "skills", "disable", "nope", ollama=url)
    assert code == 1 and err.strip() == "no skill named 'nope' (see `hearth skills list`)"


async def test_history_and_rollback_of_a_generated_skill(tmp_path: Path) -> None:
    from core.skills.library import SkillLibrary
    from core.storage import MIGRATIONS, Database
    from core.storage.skills import SkillStore

    source = (
        "from core.skills.api import ok\nNAME = 'greet'\nDESCRIPTION = 'Greets.'\n"
        "PARAMS = {'type': 'object', 'properties': {}}\nEXAMPLES = ['greet me', 'say hi']\n"
        "def run(params):\n    return ok('GREETING')\n"
    )
    (tmp_path / "data").mkdir()
    db = Database(tmp_path / "data" / "hearth.db", MIGRATIONS)
    await db.start()
    try:
        lib = SkillLibrary(SkillStore(db), builtin_dir=None)
        await lib.load()
        await lib.add_generated(source.replace("GREETING", "hello"), note="first")
        await lib.add_generated(source.replace("GREETING", "hi there"), note="friendlier")
    finally:
        await db.close()
    url = _closed_url()
    code, out, _ = await hearth(tmp_path, "skills", "history", "greet", ollama=url)
    assert code == 0
    assert "v1 (generated" in out and "first" in out
    assert "v2 (generated" in out and "friendlier ← in use" in out
    code, out, _ = await hearth(tmp_path, "skills", "rollback", "greet", "1", ollama=url)
    assert code == 0 and out.strip() == "greet: now v1"
    code, out, _ = await hearth(tmp_path, "skills", "history", "greet", ollama=url)
    assert "first ← in use" in out
    code, _, err = await hearth(tmp_path, "skills", "rollback", "greet", "7", ollama=url)
    assert code == 1 and err.strip() == "'greet' has no generated version 7"
