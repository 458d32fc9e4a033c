"""The shell tool: bash in the workspace, own process group, timeout, capped output, clean env."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.tools.registry import ToolOutput

log = logging.getLogger(__name__)

DEFAULT_MAX_OUTPUT = 16_000  # bytes kept per stream (head + tail)
_DRAIN_GRACE = 2.0  # seconds to collect output after the process group is gone


@dataclass(frozen=True, slots=True)
class ShellResult:
    """What one command did."""

    exit_code: int | None  # None when it was killed by the timeout
    stdout: str
    stderr: str
    timed_out: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True for exit code 0 within the timeout."""
        return self.exit_code == 0 and not self.timed_out

    def render(self, timeout: float) -> str:
        """The result as the model reads it."""
        if self.timed_out:
            head = f"timed out after {timeout:g}s; the command and its children were killed"
        else:
            head = f"exit code: {self.exit_code}"
        parts = [head]
        if self.stdout:
            parts.append(f"stdout:\n{self.stdout}")
        if self.stderr:
            parts.append(f"stderr:\n{self.stderr}")
        if not self.stdout and not self.stderr:
            parts.append("(no output)")
        return "\n".join(parts)


class _Capped:
    """Keeps the first and last ``limit // 2`` bytes of a stream and counts the rest."""

    def __init__(self, limit: int) -> None:
        self._half = max(1, limit // 2)
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0

    def feed(self, chunk: bytes) -> None:
        self._total += len(chunk)
        room = self._half - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            if len(self._tail) > self._half:
                del self._tail[: len(self._tail) - self._half]

    def text(self) -> str:
        cut = self._total - len(self._head) - len(self._tail)
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        if cut > 0:
            return f"{head}\n[… {cut} bytes cut from the middle …]\n{tail}"
        return head + tail


async def _pump(stream: asyncio.StreamReader | None, sink: _Capped) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        sink.feed(chunk)


async def _exited(proc: asyncio.subprocess.Process) -> None:
    """Return once the shell itself has exited.

    ``proc.wait()`` also waits for the output pipes to close, which a background child
    (``sleep 99 &``) can hold open forever; a pidfd says when the process itself is gone.
    """
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        while proc.returncode is None:  # no pidfd (old kernel): poll the exit status
            await asyncio.sleep(0.05)
        return
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(fd, lambda: done.done() or done.set_result(None))
    try:
        await done
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def _kill_group(pid: int) -> None:
    # start_new_session made the shell a group leader: its pid is the group id, so this
    # reaches every child and grandchild that did not start a session of its own.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


async def run_shell(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    max_output: int = DEFAULT_MAX_OUTPUT,
) -> ShellResult:
    """Run ``command`` with ``/bin/bash -c`` in ``cwd``; never leaves processes behind.

    The whole process group is killed when the command times out, when the awaiting task is
    cancelled, and after a normal exit (background leftovers such as ``sleep 99 &``).
    """
    started = time.monotonic()
    out, err = _Capped(max_output), _Capped(max_output)
    proc = await asyncio.create_subprocess_exec(
        "/bin/bash",
        "-c",
        command,
        cwd=str(cwd),
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    pumps = {
        asyncio.create_task(_pump(proc.stdout, out), name=f"shell-stdout:{proc.pid}"),
        asyncio.create_task(_pump(proc.stderr, err), name=f"shell-stderr:{proc.pid}"),
    }
    timed_out = False
    try:
        try:
            async with asyncio.timeout(timeout):
                await _exited(proc)
        except TimeoutError:
            timed_out = True
            log.info("shell command timed out after %ss: %.80s", timeout, command)
    finally:
        _kill_group(proc.pid)
        # Output pipes close once every writer is dead; a child that escaped the group with
        # its own session could hold them open, so draining is bounded.
        waiter = asyncio.create_task(proc.wait(), name=f"shell-wait:{proc.pid}")
        _, pending = await asyncio.wait({*pumps, waiter}, timeout=_DRAIN_GRACE)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
    for _ in range(100):  # the child watcher records the status right after the exit
        if proc.returncode is not None or timed_out:
            break
        await asyncio.sleep(0.01)
    return ShellResult(
        exit_code=None if timed_out else proc.returncode,
        stdout=out.text(),
        stderr=err.text(),
        timed_out=timed_out,
        duration_s=time.monotonic() - started,
    )


class ShellTool:
    """The ``shell`` tool bound to a workspace, an environment and a timeout."""

    def __init__(
        self,
        workspace: Path,
        *,
        env: Mapping[str, str],
        timeout: float = 120.0,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> None:
        self.workspace = workspace
        self._env = dict(env)
        self._timeout = timeout
        self._max_output = max_output

    async def shell(self, command: str) -> ToolOutput:
        """Run a bash command in the workspace and return its exit code, stdout and stderr.

        Args:
            command: the exact bash command line to run; risky commands wait for a human
                approval, destructive ones are refused.
        """
        self.workspace.mkdir(parents=True, exist_ok=True)
        result = await run_shell(
            command,
            cwd=self.workspace,
            env=self._env,
            timeout=self._timeout,
            max_output=self._max_output,
        )
        return ToolOutput(result.render(self._timeout), is_error=not result.ok)

    @property
    def timeout(self) -> float:
        """Seconds before the command's process group is killed."""
        return self._timeout
