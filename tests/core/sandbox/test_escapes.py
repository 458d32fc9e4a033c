"""Each escape a review found, RUN through the shell tool with a broker that denies everything.

Two ways in for every command: the real registry (the classifier decides, every approval is
denied), and a shell tool whose classifier was fooled (everything counts as low risk, so the
command runs unapproved). Either way nothing outside the workspace changes and no secret of
hearth's shows up: the sandbox guarantees it, whatever the classifier thought.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from core.events import ChatRef, User
from core.llm.base import ToolCall
from core.tools.base import ToolContext
from core.tools.builtin import build_tools
from core.tools.environment import scrubbed_env
from core.tools.shell import ShellTool
from tests.support.procs import unique_sleep, wait_gone
from tests.support.sandboxes import (
    DB_PASSWORD,
    SECRET,
    SETTING,
    DenyAll,
    Layout,
    make_layout,
    require_bwrap,
)

Run = Callable[[str], Awaitable[str]]

ESCAPES = {
    # code run through the options of an archiver, a VCS, a compressor, awk, kubectl
    "tar --use-compress-program": (
        "tar -tf a.tar --use-compress-program='sh -c \"echo pwned > {victim}; cat\"'"
    ),
    "git ls-remote --upload-pack": "git ls-remote --upload-pack='echo pwned > {victim} #' .",
    "zip -T -TT": "zip -q z.zip notes.txt -T -TT 'sh -c \"echo pwned > {victim}\" #'",
    "awk system()": "awk 'BEGIN {{ system(\"echo pwned > {victim}\") }}'",
    "awk -W exec": "awk -W exec prog.awk",
    "kubectl exec credential plugin": "kubectl get pods --kubeconfig k.yaml --request-timeout=2s",
    # shell builtins that change PATH or the hash table
    "hash -p": "hash -p /usr/bin/touch ls; ls {outside}/new",
    "read PATH": "read PATH <<< .; ls",
    # brace expansion, abbreviated long options, symlinks
    "tee with braces": "echo pwned | tee {{a,{victim}}}",
    "sed --in-pl": "sed --in-pl -e s/original/pwned/ {victim}",
    "write through a symlink": "ln -s {victim} link; echo pwned > link",
    "new file outside": "echo pwned > {outside}/new",
    "cp over": "cp notes.txt {victim}",
}

PROC_READS = {
    "/proc/$PPID/environ": "tr '\\0' '\\n' < /proc/$PPID//environ",
    "ps eww $PPID": "ps eww -p $PPID",
    "every /proc/*/environ": "cat /proc/*/environ | tr '\\0' '\\n' | grep -e TOKEN -e _URL",
}
READS = {
    ".env beside the data dir": "cat ../../.en*",
    ".env by absolute path": "cat {env_file}",
    "Matrix session in the data dir": "cat ../matrix/session.json",
    "database in the data dir": "cat {data}/hearth.db",
}


def _prepare(layout: Layout) -> None:
    """What a model could have written into the workspace earlier (file tools are allowed)."""
    ws = layout.workspace
    (ws / "notes.txt").write_text("notes\n")
    subprocess.run(["tar", "-cf", "a.tar", "notes.txt"], cwd=ws, check=True)
    (ws / "prog.awk").write_text(f'BEGIN {{ system("echo pwned > {layout.victim}") }}\n')
    (ws / "ls").write_text(f"#!/bin/sh\necho pwned > {layout.victim}\n")
    (ws / "ls").chmod(0o755)
    (ws / "k.yaml").write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
        "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1,"
        f" command: sh, args: ['-c', 'echo pwned > {layout.victim}'],"
        " interactiveMode: Never}}}]\n"
    )


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    require_bwrap()
    found = make_layout(tmp_path)
    _prepare(found)
    return found


def _through_registry(layout: Layout) -> Run:
    # No configured secrets: the registry's redaction must not hide a leak from this test.
    registry = build_tools(
        workspace=layout.workspace,
        broker=DenyAll(),
        secrets=[],
        shell_timeout=20,
        sandbox=layout.sandbox(),
    )
    ctx = ToolContext(
        task_id="t1",
        chat=ChatRef("t", "c"),
        requester=User("t", "u", "U"),
        workspace=layout.workspace,
    )

    async def run(command: str) -> str:
        return (await registry.run(ToolCall("c1", "shell", {"command": command}), ctx)).output

    return run


def _classifier_fooled(layout: Layout) -> Run:
    # Every command counts as low risk: it runs unapproved, confined only by the sandbox.
    tool = ShellTool(
        layout.workspace,
        env=scrubbed_env(None, []),
        timeout=20,
        sandbox=layout.sandbox(),
        approved=lambda _command: False,
    )

    async def run(command: str) -> str:
        return (await tool.shell(command)).text

    return run


WAYS = {"registry": _through_registry, "classifier fooled": _classifier_fooled}


def _fill(command: str, layout: Layout) -> str:
    return command.format(
        victim=layout.victim,
        outside=layout.outside,
        env_file=layout.env_file,
        data=layout.data,
    )


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", ESCAPES)
async def test_nothing_outside_the_workspace_changes(layout: Layout, way: str, name: str) -> None:
    run = WAYS[way](layout)
    output = await run(_fill(ESCAPES[name], layout))
    assert layout.outside_untouched(), f"{name} ({way}) changed a file outside: {output}"


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", READS)
async def test_hearths_files_stay_unseen(layout: Layout, way: str, name: str) -> None:
    run = WAYS[way](layout)
    output = await run(_fill(READS[name], layout))
    assert SECRET not in output and DB_PASSWORD not in output, f"{name} ({way}): {output}"


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", PROC_READS)
async def test_hearths_environment_stays_unseen(layout: Layout, way: str, name: str) -> None:
    # hearth's process must hold the secrets from its start (/proc/PID/environ shows the
    # environment a process was started with), so a child process stands in for hearth.
    hide = f"{layout.data},{layout.env_file}"
    args = [way, SETTING, str(layout.workspace), hide, PROC_READS[name]]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.child_hearth",
        *args,
        env={
            **os.environ,
            "SLACK_BOT_TOKEN": SECRET,
            "DATABASE_URL": f"postgres://hearth:{DB_PASSWORD}@db/hearth",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    output = out.decode()
    assert proc.returncode == 0, output
    assert SECRET not in output and DB_PASSWORD not in output, f"{name} ({way}): {output}"


async def test_the_workspace_stays_writable_inside_the_hidden_data_dir(layout: Layout) -> None:
    """The data dir is hidden, yet the workspace inside it works, read and write."""
    run = _classifier_fooled(layout)
    output = await run("echo made > made.txt && cat notes.txt && ls ..")
    assert (layout.workspace / "made.txt").read_text() == "made\n"
    assert "notes" in output
    assert "matrix" not in output and "hearth.db" not in output


@pytest.mark.parametrize("way", WAYS)
async def test_setsid_and_background_children_end_with_the_command(
    layout: Layout, way: str
) -> None:
    run = WAYS[way](layout)
    detached, background = unique_sleep(), unique_sleep()
    output = await run(f"setsid -f sleep {detached}; sleep {background} & echo started")
    assert "started" in output
    assert await wait_gone(detached, 2.0), "a setsid child outlived its command"
    assert await wait_gone(background, 2.0), "a background child outlived its command"


@pytest.mark.parametrize("way", WAYS)
async def test_cancelling_the_task_ends_setsid_children(layout: Layout, way: str) -> None:
    run = WAYS[way](layout)
    detached = unique_sleep()
    started = layout.workspace / "started"
    task = asyncio.create_task(run(f"setsid -f sleep {detached}; touch started; sleep 60"))
    for _ in range(500):  # positive signal: the command got as far as the marker file
        if started.exists():
            break
        await asyncio.sleep(0.01)
    assert started.exists(), "the command never started"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_gone(detached, 2.0), "a setsid child outlived its cancelled task"
