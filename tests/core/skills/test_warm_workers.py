"""Pre-started skill workers: the same sandbox as a per-run child, one run each, none left over.

Every containment test runs twice: on a worker started before the request (and seen to be
the one that served it) and on a child started for the run (``warm=0``).
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.skills.model import CodeSkill
from core.skills.runner import SkillOutcome, SkillRunner
from core.storage import MIGRATIONS, Database
from core.storage.kv import KVStore
from core.storage.processes import ProcessStore
from core.tools.environment import MINIMAL_ENV
from core.tools.sandbox import Sandbox
from tests.core.skills.conftest import skill_from
from tests.support.procs import running, unique_sleep, wait_gone

COUNTER = (
    "import sys\n"
    "def run(params):\n"
    "    sys.hearth_runs = getattr(sys, 'hearth_runs', 0) + 1\n"
    "    return SkillResult(str(sys.hearth_runs))\n"
)


class Pools:
    """Runners over one data dir and one process ledger; every runner is closed at the end."""

    def __init__(self, data: Path, workspace: Path, store: ProcessStore) -> None:
        self.data, self.workspace, self.store = data, workspace, store
        self.word = secrets.token_hex(6)  # in every worker's argv: finds its processes
        self._runners: list[SkillRunner] = []

    def runner(self, *, warm: int = 1, hide: tuple[Path, ...] = (), **kw: object) -> SkillRunner:
        sandbox = Sandbox(
            "auto", workspace=self.workspace, hide=[self.data, *hide], ledger=self.store
        )
        if not sandbox.can_prestart:
            pytest.skip(f"bubblewrap cannot run here: {sandbox.reason}")
        runner = SkillRunner(
            sandbox,
            workspace=self.workspace,
            env=MINIMAL_ENV,
            warm=warm,
            preload=("psutil", self.word),  # a module that does not exist: only a marker
            **kw,  # type: ignore[arg-type]
        )
        self._runners.append(runner)
        return runner

    async def groups(self) -> set[int]:
        """Process groups recorded now."""
        return {r.pgid for r in await self.store.all()}

    async def close(self) -> None:
        for runner in self._runners:
            await runner.close()


@pytest.fixture
async def pools(db: Database) -> AsyncIterator[Pools]:
    # Not under /tmp: the sandbox's private /tmp would hide the data dir whatever it hides.
    root = Path(tempfile.mkdtemp(prefix=".hearth-test-", dir=Path.home()))
    data = root / "data"
    workspace = data / "workspace"  # the default layout: the workspace inside the data dir
    workspace.mkdir(parents=True)
    (data / "secrets.db").write_text("secret rows")
    made = Pools(data, workspace, ProcessStore(KVStore(db), SystemClock()))
    try:
        yield made
    finally:
        await made.close()
        shutil.rmtree(root)


async def _warmed(pools: Pools, runner: SkillRunner) -> int:
    """Fill the runner's pool; the waiting worker's process group."""
    assert runner.pool is not None
    await runner.pool.start()
    await runner.ready()
    (waiting,) = await pools.groups()
    return waiting


async def _run(pools: Pools, runner: SkillRunner, skill: CodeSkill, mode: str) -> SkillOutcome:
    """Run ``skill``; in warm mode on a worker started (and recorded) before the request."""
    if mode == "cold":
        return await runner.run(skill, {})
    waiting = await _warmed(pools, runner)
    out = await runner.run(skill, {})
    assert waiting not in await pools.groups(), "the run did not use the waiting worker"
    assert not _alive(waiting), "the worker's group outlived its run"
    return out


def _alive(pgid: int) -> bool:
    """True while any process of group ``pgid`` exists."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            return True
    return False


MODES = pytest.mark.parametrize("mode", ["warm", "cold"])


@MODES
async def test_writing_outside_the_workspace_fails(pools: Pools, tmp_path: Path, mode: str):
    runner = pools.runner(warm=int(mode == "warm"))
    outside = pools.data.parent / "escaped.txt"
    skill = skill_from(
        tmp_path,
        "escaper",
        "def run(params):\n"
        "    open('inside.txt', 'w').write('ok')\n"
        f"    open({str(outside)!r}, 'w').write('escaped')\n"
        "    return SkillResult('wrote both')\n",
    )
    try:
        out = await _run(pools, runner, skill, mode)
        assert not outside.exists()
    finally:
        outside.unlink(missing_ok=True)
    assert not out.ok and "Read-only file system" in out.text, out.text
    assert (pools.workspace / "inside.txt").read_text() == "ok"


@MODES
async def test_hearths_data_dir_is_unreadable(pools: Pools, tmp_path: Path, mode: str):
    runner = pools.runner(warm=int(mode == "warm"))
    skill = skill_from(
        tmp_path,
        "snoop",
        "def run(params):\n"
        f"    return SkillResult(open({str(pools.data / 'secrets.db')!r}).read())\n",
    )
    out = await _run(pools, runner, skill, mode)
    assert "secret rows" not in out.text
    assert not out.ok and "FileNotFoundError" in out.text, out.text


@MODES
async def test_a_hang_is_stopped_with_its_children(pools: Pools, tmp_path: Path, mode: str):
    runner = pools.runner(warm=int(mode == "warm"), timeout=1)
    word = unique_sleep()
    hang = skill_from(
        tmp_path,
        "hang",
        "import subprocess, time\n"
        "def run(params):\n"
        f"    subprocess.Popen(['sleep', {word!r}])\n"
        "    time.sleep(3600)\n",
    )
    out = await _run(pools, runner, hang, mode)
    assert not out.ok and out.error == "timeout"
    assert out.text == "`hang` did not finish within 1s and was stopped."
    assert await wait_gone(word), "the hung skill's child outlived it"
    quick = skill_from(tmp_path, "quick", "def run(params):\n    return SkillResult('fine')\n")
    assert (await _run(pools, runner, quick, mode)).text == "fine"


@MODES
async def test_memory_and_crashes_are_clear_errors(pools: Pools, tmp_path: Path, mode: str):
    runner = pools.runner(warm=int(mode == "warm"), max_memory_mb=200)
    hog = skill_from(tmp_path, "hog", "def run(params):\n    return SkillResult('.' * 2**30)\n")
    crash = skill_from(tmp_path, "crash", "import os\ndef run(params):\n    os._exit(3)\n")
    out = await _run(pools, runner, hog, mode)
    assert out.error == "memory" and out.text == "`hog` ran out of memory (the limit is 200 MB)."
    crashed = await _run(pools, runner, crash, mode)
    assert crashed.text == "`crash` crashed (exit code 3)" and crashed.error == "crash"


async def test_a_worker_serves_one_run_only(pools: Pools, tmp_path: Path) -> None:
    runner = pools.runner()
    counter = skill_from(tmp_path, "counter", COUNTER)
    first = await _warmed(pools, runner)
    assert (await _run(pools, runner, counter, "warm")).text == "1"
    second = await _warmed(pools, runner)
    assert (await _run(pools, runner, counter, "warm")).text == "1"  # not 2: a new process
    assert first != second


async def test_no_worker_outlives_the_pool(pools: Pools, tmp_path: Path) -> None:
    runner = pools.runner(warm=2)
    await runner.run(skill_from(tmp_path, "quick", COUNTER), {})
    await runner.ready()
    waiting = await pools.groups()
    assert len(waiting) == 2 and all(_alive(g) for g in waiting)
    assert running(pools.word), "the waiting workers are not found by their argv"
    await runner.close()
    assert await pools.groups() == set()
    assert not any(_alive(g) for g in waiting)
    assert await wait_gone(pools.word)
    assert (await runner.run(skill_from(tmp_path, "after", COUNTER), {})).text == "1"  # cold


async def test_a_folder_hidden_after_the_worker_started_is_hidden(
    pools: Pools, tmp_path: Path
) -> None:
    later = pools.data.parent / ".aws"  # a credential folder created while hearth runs
    runner = pools.runner(hide=(later,))
    waiting = await _warmed(pools, runner)
    later.mkdir()
    (later / "credentials").write_text("aws-secret")
    skill = skill_from(
        tmp_path,
        "creds",
        f"def run(params):\n    return SkillResult(open({str(later / 'credentials')!r}).read())\n",
    )
    out = await runner.run(skill, {})
    assert "aws-secret" not in out.text and "FileNotFoundError" in out.text, out.text
    assert not _alive(waiting), "the outdated worker was not discarded"


async def test_a_workspace_made_again_is_the_one_a_skill_writes(
    pools: Pools, tmp_path: Path
) -> None:
    runner = pools.runner()
    await _warmed(pools, runner)
    shutil.rmtree(pools.workspace)
    pools.workspace.mkdir()
    skill = skill_from(
        tmp_path,
        "writer",
        "def run(params):\n    open('note.txt', 'w').write('here')\n    return SkillResult('')\n",
    )
    assert (await runner.run(skill, {})).ok
    assert (pools.workspace / "note.txt").read_text() == "here"


async def test_a_waiting_worker_dies_with_a_killed_hearth_and_is_recovered(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    db_path, word = tmp_path / "procs.db", secrets.token_hex(6)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.child_skills",
        str(db_path),
        str(workspace),
        word,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        if line != b"ready\n":
            pytest.skip("the stand-in hearth could not start a worker (no bubblewrap?)")
        assert running(word), "no waiting worker"
    finally:
        child.send_signal(signal.SIGKILL)  # hearth dies without cleaning up
        await child.wait()
    assert await wait_gone(word), "a waiting worker outlived hearth"
    db = Database(db_path, MIGRATIONS)
    await db.start()
    try:
        store = ProcessStore(KVStore(db), SystemClock())
        assert [r.owner for r in await store.all()] == ["skill:warm"]  # found at restart
        await Sandbox("auto", workspace=workspace, ledger=store).recover()
        assert await store.all() == []
    finally:
        await db.close()
