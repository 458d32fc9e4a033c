"""bashlex's parser tables are built once, kept on disk, and give the same parses as a fresh build.

Each case runs in a fresh interpreter: which bashlex got imported is process-wide state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
COMMANDS = [
    "ls -la | grep x && echo $(cat f) > out; (cd /; rm -rf x) 2>&1",
    'for f in *.py; do wc -l "$f"; done',
    "if [ -f a ]; then cp a b; else echo no; fi",
    "find . -name '*.tmp' -exec rm {} \\;",
    "cat <<EOF\nhello\nEOF",
    "x=$(echo 3); echo ${x:-none} `date`",
]

_CHILD = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from core.tools.risk import bashparse
    if sys.argv[1] != "-":
        bashparse.cache_in(Path(sys.argv[1]))
    dumps = [t.dump() for c in json.loads(sys.argv[2]) for t in bashparse.parse(c)]
    try:
        bashparse.parse("if then fi (")
        error = None
    except bashparse.ParseError as exc:
        error = str(exc)
    import bashlex.parser
    source = type(bashlex.parser.yaccparser.productions[0]).__module__
    print(json.dumps({"dumps": dumps, "error": error, "tables_from": source}))
    """
)


def _child(cache: Path | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(cache) if cache else "-", json.dumps(COMMANDS)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def _tables(cache: Path) -> list[Path]:
    return sorted(cache.glob("bashlex-tables-*.json"))


def test_tables_are_written_once_then_read_and_parse_the_same(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh = _child(None)
    assert fresh["tables_from"] == "bashlex.yacc"  # no cache: bashlex builds its own
    first = _child(cache)
    [table] = _tables(cache)
    assert first["tables_from"] == "bashlex.yacc"  # built, then kept
    stamp = table.stat().st_mtime_ns
    second = _child(cache)
    assert second["tables_from"] == "core.tools.risk.bashparse"  # read, not rebuilt
    assert table.stat().st_mtime_ns == stamp
    assert first["dumps"] == second["dumps"] == fresh["dumps"]
    assert second["error"] == fresh["error"] == "unexpected token 'then' (position 3)"


def test_an_unreadable_cache_is_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    expected = _child(cache)["dumps"]
    [table] = _tables(cache)
    table.write_text('{"action": {"0": 1}, "goto": {}, "productions": [["x"]]}')
    again = _child(cache)
    assert again["dumps"] == expected
    assert again["tables_from"] == "bashlex.yacc"
    assert json.loads(table.read_text())["productions"][0][0] == "S'"  # rewritten whole
    table.write_text("not json")
    assert _child(cache)["dumps"] == expected


def test_an_unwritable_cache_dir_still_parses(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert _child(blocker / "cache")["dumps"] == _child(None)["dumps"]
