"""The shell tool: process-group kills, capped output, scrubbed environment."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from core.tools.environment import scrubbed_env
from core.tools.shell import ShellTool, run_shell
from tests.support.procs import unique_sleep, wait_gone

SECRET = "xoxb-1234567890-SUPERSECRET"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie is dead, just not reaped yet


async def _gone(pid: int) -> bool:
    for _ in range(100):  # bounded: the kernel needs a moment to tear the process down
        if not _alive(pid):
            return True
        await asyncio.sleep(0.02)
    return False


def _env() -> dict[str, str]:
    return scrubbed_env(None, [])


async def test_exit_code_and_separate_streams(tmp_path: Path) -> None:
    result = await run_shell(
        "echo out; echo err >&2; exit 3", cwd=tmp_path, env=_env(), timeout=10
    )
    assert result.exit_code == 3
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"
    assert not result.ok
    assert "exit code: 3" in result.render(10)


async def test_runs_in_the_workspace(tmp_path: Path) -> None:
    result = await run_shell("pwd; touch made.txt", cwd=tmp_path, env=_env(), timeout=10)
    assert result.stdout.strip() == str(tmp_path)
    assert (tmp_path / "made.txt").exists()


async def test_timeout_kills_children_and_grandchildren(tmp_path: Path) -> None:
    command = (
        "sleep 60 & echo $! > child.pid; "
        "bash -c 'sleep 60 & echo $! > grandchild.pid; wait' & "
        "wait"
    )
    result = await run_shell(command, cwd=tmp_path, env=_env(), timeout=0.5)
    assert result.timed_out and result.exit_code is None
    assert "timed out after 0.5s" in result.render(0.5)
    for name in ("child.pid", "grandchild.pid"):
        pid = int((tmp_path / name).read_text())
        assert await _gone(pid), f"{name} {pid} survived the timeout"


async def test_background_leftovers_are_killed_after_exit(tmp_path: Path) -> None:
    result = await run_shell(
        "sleep 60 & echo $! > bg.pid; echo done", cwd=tmp_path, env=_env(), timeout=10
    )
    assert result.exit_code == 0 and result.stdout == "done\n"
    assert await _gone(int((tmp_path / "bg.pid").read_text()))


async def test_cancelling_the_task_kills_the_group(tmp_path: Path) -> None:
    word = unique_sleep()
    task = asyncio.create_task(
        run_shell(
            f"sleep {word} & echo started > started; wait", cwd=tmp_path, env=_env(), timeout=30
        )
    )
    started = tmp_path / "started"
    for _ in range(500):
        if started.exists() and started.read_text().strip():
            break
        await asyncio.sleep(0.01)
    assert started.exists(), "the command never started"
    task.cancel()
    # Fail fast: a leftover child holding the pipes would keep the task from ending.
    async with asyncio.timeout(2):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await wait_gone(word, 2.0), "the background child outlived the cancelled task"


@pytest.mark.parametrize("ticks", [0, 1, 2, 3, 5, 8])
async def test_cancelling_while_the_process_starts_leaves_nothing(
    tmp_path: Path, ticks: int
) -> None:
    """The spawn race: a cancellation while the pipes are connected still kills the group."""
    word = unique_sleep()
    task = asyncio.create_task(
        run_shell(f"sleep {word} & wait", cwd=tmp_path, env=_env(), timeout=30)
    )
    for _ in range(ticks):
        await asyncio.sleep(0)
    task.cancel()
    async with asyncio.timeout(2):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await wait_gone(word, 2.0), "a child started during the cancellation survived"


async def test_output_is_capped_keeping_head_and_tail(tmp_path: Path) -> None:
    command = "echo FIRST; head -c 300000 /dev/zero | tr '\\0' x; echo; echo LAST"
    result = await run_shell(command, cwd=tmp_path, env=_env(), timeout=10, max_output=2000)
    assert result.stdout.startswith("FIRST")
    assert result.stdout.rstrip().endswith("LAST")
    assert "bytes cut from the middle" in result.stdout
    assert len(result.stdout) < 2200


async def test_secrets_never_reach_the_child(tmp_path: Path) -> None:
    parent = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/home/hearth",
        "LANG": "C.UTF-8",
        "SLACK_BOT_TOKEN": SECRET,
        "ANTHROPIC_API_KEY": "sk-ant-abcdefghijklmnop",
        "DB_PASSWORD": "hunter2hunter2",
        "MATRIX_ACCESS_TOKEN": "syt_matrixtoken_123456",
        "SOME_SECRET": "s3cr3t-value-xyz",
        "FOO": SECRET,  # an innocent name holding a secret value
        "BAR": f"prefix-{SECRET}-suffix",
        "INNOCENT": "keep-me",
    }
    env = scrubbed_env(parent, [SECRET])
    tool = ShellTool(tmp_path, env=env, timeout=10)
    out = await tool.shell("env; cat /proc/self/environ | tr '\\0' '\\n'")
    for needle in (
        SECRET,
        "sk-ant-abcdefghijklmnop",
        "hunter2hunter2",
        "syt_matrixtoken_123456",
        "s3cr3t-value-xyz",
        "SLACK_BOT_TOKEN",
        "ANTHROPIC_API_KEY",
        "DB_PASSWORD",
    ):
        assert needle not in out.text
    assert "INNOCENT=keep-me" in out.text
    assert "HOME=/home/hearth" in out.text


async def test_minimal_env_without_a_parent(tmp_path: Path) -> None:
    result = await run_shell("env", cwd=tmp_path, env=scrubbed_env(None, []), timeout=10)
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines() if "=" in line}
    assert "PATH" in names
    assert not names & {"HOME_TOKEN", "ANTHROPIC_API_KEY"}


async def test_tool_output_reports_failure_as_error(tmp_path: Path) -> None:
    tool = ShellTool(tmp_path, env=_env(), timeout=10)
    ok = await tool.shell("echo fine")
    bad = await tool.shell("nonexistent-command-xyz")
    assert not ok.is_error and "fine" in ok.text
    assert bad.is_error and "command not found" in bad.text


async def test_stdin_is_closed(tmp_path: Path) -> None:
    """A command reading stdin gets EOF at once instead of hanging until the timeout."""
    result = await run_shell("cat; echo after", cwd=tmp_path, env=_env(), timeout=5)
    assert result.exit_code == 0 and result.stdout == "after\n"
