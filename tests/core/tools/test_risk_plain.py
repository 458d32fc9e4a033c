"""The plain-line fast path builds exactly bashlex's trees, so every verdict stays the same."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import bashlex
import pytest

from core.tools.risk import classify, plain
from core.tools.risk.rules import HIGH, READ_ONLY, WORKSPACE_WRITERS
from core.tools.risk.verdict import Risk
from core.tools.risk.walker import Walker

CASES_FILE = Path(__file__).with_name("test_tool_risk.py")


def _risk_cases() -> list[str]:
    """Every command of the risk test file (read as data, like bench/classifier.py)."""
    out: list[str] = []
    for node in ast.parse(CASES_FILE.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in {"BLOCKED", "HIGH", "LOW", "CASES"}
        ):
            out.extend(v[0] if isinstance(v, tuple) else v for v in ast.literal_eval(node.value))
    return out


def _words(text: str) -> list[str]:
    return text.split()


# Tokens a generated line is made of: plain words, and everything the fast path must refuse.
_PLAIN_WORDS = [
    *sorted(READ_ONLY)[:60],
    *sorted(HIGH)[:30],
    *sorted(WORKSPACE_WRITERS),
    *_words(
        "git status log push docker ps run exec systemctl status restart pip list install npm "
        "ls -la -rf -n 5 --color=auto --output=x --since=today x=1 FOO=bar a.txt /etc/passwd "
        "../x ./ls /bin/rm /tmp/x - -- . .. @x %1 a:b a,b +x = =x"
    ),
]
_OTHERS = [
    *_words("if then else elif fi case esac for select while until do done in function time"),
    "coproc",
    "{",
    "}",
    "!",
    "[[",
    "]]",
    "'a b'",
    '"q"',
    "$x",
    "${y}",
    "$(id)",
    "`id`",
    "*.py",
    "a?",
    "[ab]",
    "~",
    "~/x",
    "#c",
    ">",
    ">>",
    "<",
    "2>&1",
    "(",
    ")",
    "\\x",
    "&",
    ";;",
    "|&",
    "\t",
    "\n",
    "{a,b}",
]
_OPS = ["|", "||", "&&", ";"]


def _generated(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    lines: list[str] = []
    for _ in range(count):
        parts: list[str] = []
        for _ in range(rng.randint(1, 9)):
            roll = rng.random()
            if roll < 0.62:
                parts.append(rng.choice(_PLAIN_WORDS))
            elif roll < 0.85:
                parts.append(rng.choice(_OPS))
            else:
                parts.append(rng.choice(_OTHERS))
        seps = [rng.choice([" ", " ", " ", "", "  "]) for _ in parts]
        line = rng.choice(["", " "]) + "".join(p + s for p, s in zip(parts, seps, strict=True))
        lines.append(line)
    return lines


CORPUS = _risk_cases() + _generated(3000, seed=13)


def _slow(command: str, ws: Path) -> Risk:
    """classify() with the fast path off: every line goes through bashlex."""
    walker = Walker(ws, fast=False)
    walker.script(command, 0)
    return walker.result()


def _fast(command: str, ws: Path) -> Risk:
    walker = Walker(ws, fast=True)
    walker.script(command, 0)
    return walker.result()


def test_fast_trees_equal_bashlex_trees() -> None:
    """Wherever the fast path answers, bashlex parses the line to the very same trees."""
    taken = 0
    for command in CORPUS:
        trees = plain.parse(command)
        if trees is None:
            continue
        taken += 1
        assert trees == bashlex.parse(command), command
    # The corpus exercises both sides: many lines take the fast path, many do not.
    assert 1000 < taken < len(CORPUS) - 1000, taken


def test_fast_verdicts_equal_bashlex_verdicts(tmp_path: Path) -> None:
    """Level and reasons are the same with and without the fast path, for every line."""
    for command in CORPUS:
        assert _fast(command, tmp_path) == _slow(command, tmp_path), command


@pytest.mark.parametrize(
    "command",
    [
        "ls 'a b'",
        'echo "x"',
        "echo $HOME",
        "echo `id`",
        "ls *.py",
        "ls a?",
        "cat {a,b}",
        "echo hi > f",
        "cat < f",
        "(ls)",
        "echo a\\ b",
        "ls # c",
        "ls ~",
        "! ls",
        "ls &",
        "ls\nrm x",
        "ls\trm",
        "X=1 ls",
        "time ls",
        "if true; then ls; fi",
        "ls |",
        "ls &&",
        "| ls",
        "ls ;; ls",
        "ls | | ls",
    ],
)
def test_anything_but_plain_goes_to_bashlex(command: str) -> None:
    assert plain.parse(command) is None


@pytest.mark.timeout(10)
def test_a_long_almost_plain_line_is_judged_without_backtracking() -> None:
    """A long plain prefix then one shell character is refused at once, not after a
    regular expression has backtracked over every way to split the prefix."""
    line = "a" * 60 + " " + "b" * 60 + "*"
    assert plain.parse(line) is None
    assert classify(line).level == "high"


def test_every_other_character_goes_to_bashlex() -> None:
    """Only letters, digits, `_./=:,@%+-`, spaces, `|`, `&&` and `;` are plain."""
    allowed = set("abcxyzABCXYZ0123456789_./=:,@%+-")
    for code in range(1, 256):
        ch = chr(code)
        if ch in allowed or (ch.isascii() and ch.isalnum()):
            continue
        if ch in " |;":
            continue
        assert plain.parse(f"ls a{ch}b") is None, repr(ch)
