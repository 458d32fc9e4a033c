"""Kept skill verdicts never change what a scan finds: same skills, same problems, same values."""

from __future__ import annotations

import json
from pathlib import Path

from core.skills.loader import scan
from core.skills.verdicts import Verdicts

GOOD = '''
NAME = "shout"
DESCRIPTION = "Say a word loudly."
PARAMS = {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]}
EXAMPLES = ["shout the word {word}"]


def run(params):
    return None
'''


def _scan(folder: Path, kept: Path) -> tuple[dict[str, object], list[str]]:
    verdicts = Verdicts(kept)
    skills, problems = scan(folder, "data", verdicts)
    verdicts.save()
    return {s.name: s for s in skills}, [p.line() for p in problems]


def test_an_unreadable_or_stale_file_is_ignored_and_written_again(tmp_path: Path) -> None:
    (tmp_path / "shout.py").write_text(GOOD)
    kept = tmp_path / "cache" / "skills.json"
    kept.parent.mkdir()
    kept.write_text("{not json")
    skills, problems = _scan(tmp_path, kept)
    assert list(skills) == ["shout"] and problems == []
    data = json.loads(kept.read_text())
    # Verdicts from other checking code (another stamp) are not used, even saying "error".
    data["stamp"] = "another loader"
    data["verdicts"] = {key: ["error", "made up"] for key in data["verdicts"]}
    kept.write_text(json.dumps(data))
    skills, problems = _scan(tmp_path, kept)
    assert list(skills) == ["shout"] and problems == []


def test_values_json_would_change_are_checked_each_time(tmp_path: Path) -> None:
    # A tuple in PARAMS would come back from JSON as a list: such a verdict is not kept.
    tupled = GOOD.replace('"required"', '"x-order": ("word",), "required"')
    (tmp_path / "shout.py").write_text(tupled)
    kept = tmp_path / "skills.json"
    first, _ = _scan(tmp_path, kept)
    again, _ = _scan(tmp_path, kept)
    assert first["shout"].params["x-order"] == again["shout"].params["x-order"] == ("word",)
    assert again["shout"].examples == ("shout the word {word}",)


def test_a_broken_file_reports_the_same_problem_from_a_kept_verdict(tmp_path: Path) -> None:
    (tmp_path / "shout.py").write_text(GOOD.replace("EXAMPLES", "EXAMPLEZ"))
    kept = tmp_path / "skills.json"
    checked = _scan(tmp_path, kept)
    assert checked[1] == [f"{tmp_path / 'shout.py'}: missing EXAMPLES"]
    assert _scan(tmp_path, kept) == checked
