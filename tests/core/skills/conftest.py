"""Skill test fixtures: a runner over an unconfined process port, and the built-in library."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.skills.library import BUILTIN_DIR
from core.skills.loader import load_code_skill
from core.skills.model import CodeSkill
from core.skills.runner import SkillRunner
from core.tools.environment import MINIMAL_ENV


@dataclass(frozen=True, slots=True)
class Finished:
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    duration_s: float = 0.0


class PlainProcesses:
    """Runs processes without confinement (what the skills do, not where they may reach)."""

    async def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        max_output: int = 16_000,
        stdin: bytes | None = None,
        owner: str | None = None,
    ) -> Finished:
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            async with asyncio.timeout(timeout):
                out, err = await proc.communicate(stdin)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            return Finished(None, "", "", True, time.monotonic() - started)
        return Finished(
            proc.returncode,
            out.decode(errors="replace")[:max_output],
            err.decode(errors="replace")[:max_output],
            False,
            time.monotonic() - started,
        )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def runner(workspace: Path) -> SkillRunner:
    return SkillRunner(PlainProcesses(), workspace=workspace, env=MINIMAL_ENV, timeout=20)


def builtin(name: str) -> CodeSkill:
    """A built-in code skill by name."""
    return load_code_skill(BUILTIN_DIR / f"{name}.py", "builtin")


def skill_from(tmp_path: Path, name: str, body: str) -> CodeSkill:
    """A code skill written to ``tmp_path`` from a ``run`` body."""
    source = (
        "from core.skills.api import SkillResult\n"
        f"NAME = {name!r}\nDESCRIPTION = 'test skill'\n"
        "PARAMS = {'type': 'object', 'properties': {}}\nEXAMPLES = ['do the test thing']\n"
        f"{body}\n"
    )
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return load_code_skill(path, "data")
