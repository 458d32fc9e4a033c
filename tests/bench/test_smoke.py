"""Each benchmark runs in smoke mode and prints its table; numbers are not asserted."""

from __future__ import annotations

import importlib
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
