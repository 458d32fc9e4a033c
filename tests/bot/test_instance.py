"""One hearth per data directory, and a hearth process that others cannot read."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

from bot.instance import AlreadyRunning, DataDirLock
from tests.bot.test_chat_e2e import HEARTH, _env
from tests.fakes.ollama import FakeOllama

ROOT = str(Path(__file__).resolve().parents[2])


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


async def _wait_for(path: Path, text: str, deadline: float = 30.0) -> None:
    end = asyncio.get_running_loop().time() + deadline
    while asyncio.get_running_loop().time() < end:
        if text in _read(path):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in {path}")


def _db_state(data: Path) -> dict[str, bytes]:
    # Not the -shm index: the first hearth's own reads update it (read marks) at any time.
    return {
        p.name: p.read_bytes() for p in sorted(data.glob("hearth.db*")) if p.suffix != ".db-shm"
    }


async def test_a_second_hearth_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeOllama() as fake:
        env = _env(tmp_path, fake.url)
        first = await asyncio.create_subprocess_exec(
            *HEARTH,
            "chat",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
        try:
            await _wait_for(data / "hearth.log", "hearth is up")
            before = _db_state(data)
            second = await asyncio.create_subprocess_exec(
                *HEARTH,
                "run",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                cwd=tmp_path,
            )
            try:
                _, err = await asyncio.wait_for(second.communicate(), 30)
            finally:
                if second.returncode is None:  # it did not refuse: never leave it running
                    second.kill()
                    await second.wait()
            assert second.returncode == 2
            lines = err.decode().strip().splitlines()
            assert len(lines) == 1 and f"pid {first.pid}" in lines[0], err.decode()
            assert str(data) in lines[0]
            assert _db_state(data) == before  # it touched nothing of the first one's
            # The first one still works: it answers a question after the refusal.
            fake.queue_json({"subtasks": ["answer"]})
            fake.queue_text("Still here.")
            assert first.stdin is not None
            first.stdin.write(b"are you there?\n")
            first.stdin.close()
            answer, _ = await asyncio.wait_for(first.communicate(), 60)
            assert "Still here." in answer.decode()
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()


def test_the_lock_is_released_with_the_process(tmp_path: Path) -> None:
    with DataDirLock(tmp_path), pytest.raises(AlreadyRunning, match=f"pid {os.getpid()}"):
        DataDirLock(tmp_path).acquire()
    with DataDirLock(tmp_path):  # free again
        pass


_HOLDER = (
    "import sys, time; from bot.instance import harden_process; "
    "harden = sys.argv[1] == 'harden'; ok = harden_process() if harden else True; "
    "print('ready' if ok else 'failed', flush=True); time.sleep(60)"
)


async def _environ_readable(harden: bool, tmp_path: Path) -> bool:
    """Can another process of the same user read the holder's /proc/PID/environ?"""
    as_user: list[str] = []
    if os.getuid() == 0:  # root reads everything: run both sides as an ordinary user
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("needs setpriv to drop root for this test")
        as_user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    holder = await asyncio.create_subprocess_exec(
        *as_user,
        sys.executable,
        "-c",
        _HOLDER,
        "harden" if harden else "plain",
        env={"PATH": os.environ["PATH"], "PYTHONPATH": ROOT, "HOLDER_SECRET": "s3cr3t-value"},
        stdout=asyncio.subprocess.PIPE,
        cwd=tmp_path,
    )
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(holder.stdout.readline(), 30)
        assert line == b"ready\n", line
        reader = await asyncio.create_subprocess_exec(
            *as_user,
            "cat",
            f"/proc/{holder.pid}/environ",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await reader.communicate()
        return b"s3cr3t-value" in out
    finally:
        holder.kill()
        await holder.wait()


async def test_hearths_environment_is_unreadable_to_other_processes(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)  # the ordinary user's cwd
    assert await _environ_readable(harden=False, tmp_path=tmp_path)  # the control
    assert not await _environ_readable(harden=True, tmp_path=tmp_path)
