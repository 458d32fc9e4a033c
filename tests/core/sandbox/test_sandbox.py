"""The Sandbox itself: modes, what approved commands may do, leftovers after hearth is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.events import ChatRef, User
from core.llm.base import ToolCall
from core.storage import MIGRATIONS, Database
from core.storage.kv import KVStore
from core.storage.processes import ProcessStore
from core.tools.base import ToolContext
from core.tools.builtin import build_tools
from core.tools.reaper import ProcessRecord
from core.tools.sandbox import Sandbox
from tests.support.procs import running, unique_sleep, wait_gone, wait_running
from tests.support.sandboxes import ApproveAll, DenyAll, Layout, make_layout, require_bwrap

ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
CTX_USER = User("t", "u", "U")


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    require_bwrap()
    return make_layout(tmp_path)


@pytest.fixture
def any_layout(tmp_path: Path) -> Layout:
    """The layout on any machine (for what holds without bubblewrap too)."""
    return make_layout(tmp_path)


def _ctx(layout: Layout) -> ToolContext:
    return ToolContext(
        task_id="t1", chat=ChatRef("t", "c"), requester=CTX_USER, workspace=layout.workspace
    )


async def test_an_approved_command_writes_where_the_approver_allowed(layout: Layout) -> None:
    broker = ApproveAll()
    registry = build_tools(
        workspace=layout.workspace, broker=broker, secrets=[], sandbox=layout.sandbox()
    )
    command = f"echo approved > {layout.victim}"
    result = await registry.run(ToolCall("c1", "shell", {"command": command}), _ctx(layout))
    assert broker.asked == [command], result.output
    assert layout.victim.read_text() == "approved\n"


async def test_without_a_sandbox_every_command_needs_an_approval(any_layout: Layout) -> None:
    layout = any_layout
    none = Sandbox("auto", workspace=layout.workspace, bwrap="/nonexistent/bwrap")
    assert none.mode == "none" and not none.confines
    broker = DenyAll()
    registry = build_tools(workspace=layout.workspace, broker=broker, secrets=[], sandbox=none)
    result = await registry.run(
        ToolCall("c1", "shell", {"command": "echo hi > hi.txt"}), _ctx(layout)
    )
    assert broker.asked == ["echo hi > hi.txt"]
    assert result.is_error and not (layout.workspace / "hi.txt").exists()
    prepared = await registry.prepare(ToolCall("c2", "shell", {"command": "ls"}))
    assert prepared.risk.level == "high" and not prepared.parallel


async def test_sandbox_off_runs_low_risk_commands_unasked(any_layout: Layout) -> None:
    layout = any_layout
    off = Sandbox("off", workspace=layout.workspace)
    broker = DenyAll()
    registry = build_tools(workspace=layout.workspace, broker=broker, secrets=[], sandbox=off)
    await registry.run(ToolCall("c1", "shell", {"command": "echo hi > hi.txt"}), _ctx(layout))
    assert broker.asked == [] and (layout.workspace / "hi.txt").read_text() == "hi\n"


async def test_network_off_has_only_loopback(layout: Layout) -> None:
    sandbox = layout.sandbox(network=False)
    result = await sandbox.run(["cat", "/proc/net/dev"], cwd=layout.workspace, env=ENV, timeout=10)
    interfaces = {line.split(":")[0].strip() for line in result.stdout.splitlines()[2:]}
    assert interfaces == {"lo"}


async def test_stdin_and_extra_writable_paths(layout: Layout) -> None:
    extra = layout.root / "skill-out"
    extra.mkdir()
    result = await layout.sandbox().run(
        ["bash", "-c", f"cat > {extra}/got"],
        cwd=layout.workspace,
        env=ENV,
        timeout=10,
        stdin=b"payload",
        writable=[extra],
    )
    assert result.ok, result
    assert (extra / "got").read_text() == "payload"
    assert layout.outside_untouched()


async def test_leftovers_are_killed_after_hearth_is_killed_and_restarted(
    layout: Layout,
) -> None:
    db_path = layout.root / "procs.db"
    w1, w2, w3, w4 = (unique_sleep() for _ in range(4))
    confined = f"setsid -f sleep {w1}; sleep {w2} & touch confined; sleep 60"
    host = f"setsid -f sleep {w3}; sleep {w4} & touch host; sleep 60"
    try:
        await _kill_hearth_then_recover(db_path, layout, confined, host, (w1, w2, w3, w4))
    finally:
        for word in (w1, w2, w3, w4):  # never leave a sleeper behind, pass or fail
            for pid in running(word):
                os.killpg(os.getpgid(pid), signal.SIGKILL)


async def _kill_hearth_then_recover(
    db_path: Path, layout: Layout, confined: str, host: str, words: tuple[str, ...]
) -> None:
    w1, w2, w3, w4 = words
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.child_sandbox",
        str(db_path),
        str(layout.workspace),
        confined,
        host,
    )
    try:
        for word in words:
            assert await wait_running(word, 20), f"sleep {word} never started"
    finally:
        child.send_signal(signal.SIGKILL)  # hearth dies without cleaning up
        await child.wait()
    # Confined processes die with hearth (their PID namespace dies with bwrap's parent).
    assert await wait_gone(w1) and await wait_gone(w2), "confined children outlived hearth"
    # The approved command's leftovers outlived it; the next start of hearth finds them.
    db = Database(db_path, MIGRATIONS)
    await db.start()
    try:
        store = ProcessStore(KVStore(db), SystemClock())
        assert len(await store.all()) == 2
        restarted = Sandbox("bwrap", workspace=layout.workspace, ledger=store)
        assert await restarted.recover() >= 2
        assert await wait_gone(w3), "a setsid child of an approved command survived recovery"
        assert await wait_gone(w4), "a background child of an approved command survived"
        assert await store.all() == []
    finally:
        await db.close()


async def test_recover_leaves_unrelated_processes_alone(db: Database, tmp_path: Path) -> None:
    word = unique_sleep()
    bystander = await asyncio.create_subprocess_exec("sleep", word, start_new_session=True)
    try:
        store = ProcessStore(KVStore(db), SystemClock())
        # A stale record whose group id is now the bystander's, with another run's token.
        await store.add(ProcessRecord(bystander.pid, "0123456789abcdef", "t-old", True))
        assert await Sandbox("off", workspace=tmp_path, ledger=store).recover() == 0
        assert running(word) == [bystander.pid]
        assert await store.all() == []
    finally:
        bystander.kill()
        await bystander.wait()


async def test_approved_commands_leave_nothing_behind_either(any_layout: Layout) -> None:
    """On the host, a setsid child left its group; the environment marker still finds it."""
    host = Sandbox("off", workspace=any_layout.workspace)
    detached, background = unique_sleep(), unique_sleep()
    try:
        result = await host.run_host(
            ["bash", "-c", f"setsid -f sleep {detached}; sleep {background} & echo started"],
            cwd=any_layout.workspace,
            env=ENV,
            timeout=10,
        )
        assert result.stdout == "started\n"
        assert await wait_gone(detached), "a setsid child outlived its approved command"
        assert await wait_gone(background), "a background child outlived its approved command"
    finally:
        for word in (detached, background):
            for pid in running(word):
                os.kill(pid, signal.SIGKILL)
