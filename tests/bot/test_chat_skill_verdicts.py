"""Skills in `hearth chat` when their checks are kept between starts (#24: ready ≤ 0.5 s).

A start after the first reuses the verdicts kept for unchanged skill files instead of checking
them again. The real CLI runs in a pipe with Ollama unreachable: a line answered at all was
answered by a skill (no model call), and `skills` lists what could not be loaded.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SHOUT = '''
from core.skills.api import ok

NAME = "shout"
DESCRIPTION = "Say a word loudly."
PARAMS = {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]}
EXAMPLES = ["shout the word {word}"]


def run(params):
    return ok("LOUD-" + params["word"].upper())
'''
# A PARAMS schema that JSON Schema's meta-schema refuses: the skill must not load.
BROKEN = (
    SHOUT.replace("shout", "whisper")
    .replace("LOUD-", "SOFT-")
    .replace('"type": "string"', '"type": "strang"')
)
PROBLEM = ".py: PARAMS is not a valid JSON schema: 'strang' is not valid"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _chat(tmp_path: Path, lines: str) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "MATRIX_", "ANTHROPIC_", "HEARTH_"))
    }
    env.update(
        HEARTH_DATA_DIR=str(tmp_path / "data"),
        OLLAMA_HOST=f"http://127.0.0.1:{_closed_port()}",
        PYTHONPATH=str(ROOT),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "chat",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    out, err = await asyncio.wait_for(proc.communicate(lines.encode()), 90)
    assert proc.returncode == 0, err.decode()
    return " ".join(out.decode().split())  # as one line: long lines are wrapped at 120


async def test_kept_verdicts_match_the_first_line_and_report_a_broken_skill(
    tmp_path: Path,
) -> None:
    skills = tmp_path / "data" / "skills"
    skills.mkdir(parents=True)
    (skills / "shout.py").write_text(SHOUT)
    (skills / "whisper.py").write_text(BROKEN)
    lines = "shout the word hello\nskills\n"

    checked = await _chat(tmp_path, lines)  # a new data dir: every file is checked
    assert (tmp_path / "data" / "cache" / "skills.json").is_file()
    kept = await _chat(tmp_path, lines)  # unchanged files: the kept verdicts

    for out in (checked, kept):
        assert "LOUD-HELLO" in out  # the very first line typed matched the skill
        assert f"whisper{PROBLEM}" in out  # still listed as not loaded, and why
        assert "shout — Say a word loudly" in out  # listed as loaded

    # An edited file is checked again: the broken one fixed loads, the good one broken does not.
    (skills / "whisper.py").write_text(BROKEN.replace('"strang"', '"string"'))
    (skills / "shout.py").write_text(SHOUT.replace('"type": "string"', '"type": "strang"'))
    edited = await _chat(tmp_path, "whisper the word hi\nskills\n")
    assert "SOFT-HI" in edited
    assert f"shout{PROBLEM}" in edited
    assert "whisper.py" not in edited
