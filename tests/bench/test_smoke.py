"""Each benchmark runs in smoke mode and prints its table; numbers are not asserted."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench.common import append_results, format_table, percentile

SMOKE = bench_main.available()


@pytest.mark.parametrize("name", SMOKE)
def test_benchmark_runs_in_smoke_mode(name: str) -> None:
    headers, rows = importlib.import_module(f"bench.{name}").run(smoke=True)
    assert headers and all(isinstance(h, str) and h for h in headers)
    assert rows, f"{name} produced no rows"
    assert all(len(row) == len(headers) for row in rows)
    assert all(isinstance(cell, str) for row in rows for cell in row)


def test_cli_runs_one_benchmark_and_prints_an_aligned_table(capsys, tmp_path) -> None:
    assert bench_main.main(["streaming", "--smoke"]) == 0
    out = capsys.readouterr().out
    assert "## streaming (smoke)" in out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert len(table) >= 3
    assert len({len(line) for line in table}) == 1  # aligned: every line equally wide


def test_cli_rejects_unknown_names(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_main.main(["nope"])
    assert exc.value.code == 2
    assert "unknown benchmark nope" in capsys.readouterr().err


def test_results_are_appended_with_date_and_machine(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    append_results("demo", (["a", "bb"], [["1", "2"]]), path=path)
    append_results("demo", (["a", "bb"], [["3", "4"]]), path=path, note="second run")
    text = path.read_text()
    assert text.startswith("# Benchmark results")
    assert text.count("### demo — ") == 2
    assert text.count("Machine: ") == 2
    assert "second run" in text
    assert "| 3 | 4  |" in text


def test_table_and_percentile_helpers() -> None:
    assert format_table(["x", "long"], [["10", "1"]]).splitlines() == [
        "| x  | long |",
        "|----|------|",
        "| 10 | 1    |",
    ]
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


def test_the_e2e_headline_stays_on_top_with_the_newest_run(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\nIntro line.\n\n### old — x\n\nolder block\n")
    append_results("e2e", (["a"], [["first"]]), path=path)
    append_results("demo", (["a"], [["other"]]), path=path)
    append_results("e2e", (["a"], [["second"]]), path=path)
    text = path.read_text()
    top = text.split("### old")[0]
    assert top.startswith("# Benchmark results\n\nIntro line.\n\n<!-- headline:e2e -->")
    assert "## Headline: e2e — " in top and "second" in top and "first" not in top
    assert text.count("### e2e — ") == 2  # the history keeps both runs
    assert text.count("<!-- headline:e2e -->") == 1


def test_e2e_discord_leg_runs_alone_with_platform(capsys) -> None:
    assert bench_main.main(["e2e", "--smoke", "--platform", "discord"]) == 0
    out = capsys.readouterr().out
    assert "## e2e discord (smoke)" in out
    assert "## e2e (smoke)" not in out and "## e2e matrix" not in out
    rows = [line for line in out.splitlines() if line.startswith(("| floor", "| hearth"))]
    assert len(rows) == 4
    assert all("n/a" not in row for row in rows)  # every cell measured


def test_e2e_matrix_leg_runs_against_synapse() -> None:
    if importlib.util.find_spec("synapse") is None:
        pytest.skip("matrix-synapse is not installed (pip install -e '.[dev]')")
    from bench import e2e

    [(name, (_, rows), note)] = list(e2e.tables(smoke=True, platforms=["matrix"]))
    assert name == "e2e matrix" and "Synapse" in note
    assert [row[0] for row in rows] == ["floor", "floor", "hearth", "hearth"]
    assert all("n/a" not in cell for row in rows for cell in row)


def test_e2e_matrix_leg_says_so_when_synapse_cannot_start(tmp_path: Path, monkeypatch) -> None:
    # A "synapse" that cannot run shadows the real one in the driver process.
    (tmp_path / "synapse" / "app").mkdir(parents=True)
    (tmp_path / "synapse" / "__init__.py").write_text("")
    (tmp_path / "synapse" / "app" / "__init__.py").write_text("raise SystemExit('broken')\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), *sys.path]))
    from bench import e2e

    [(name, (headers, rows), _)] = list(e2e.tables(smoke=True, platforms=["matrix"]))
    assert name == "e2e matrix"
    assert len(rows) == 1 and len(rows[0]) == len(headers)
    assert rows[0][-1].startswith("not measured: Synapse did not start")


def test_platform_is_for_e2e_only(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_main.main(["streaming", "--platform", "slack"])
    assert exc.value.code == 2
    assert "--platform applies to e2e only" in capsys.readouterr().err
