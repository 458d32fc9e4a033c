"""One child process in its own group: capped output, a timeout, and its whole group killed after.

The only place that starts a subprocess for a tool, a check or a skill is core/tools/sandbox.py;
this module is the mechanism it uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_MAX_OUTPUT = 16_000  # bytes kept per stream (head + tail)
_DRAIN_GRACE = 2.0  # seconds to collect output after the process group is gone

# Called with the pid (= process group id) right after the spawn, and once it is gone.
StartHook = Callable[[int], Awaitable[None]]
EndHook = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """What one process did."""

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


async def _feed(proc: asyncio.subprocess.Process, data: bytes) -> None:
    if proc.stdin is None:
        return
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        proc.stdin.write(data)
        await proc.stdin.drain()
    proc.stdin.close()


async def _exited(proc: asyncio.subprocess.Process) -> None:
    """Return once the process itself has exited.

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


def kill_group(pgid: int) -> None:
    """SIGKILL every process of group ``pgid`` (gone already is fine)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


async def _discard(proc: asyncio.subprocess.Process) -> None:
    """Kill a child nobody will read from, and close its pipes now, not when the loop is gone."""
    kill_group(proc.pid)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(proc.wait(), _DRAIN_GRACE)
    transport = getattr(proc, "_transport", None)  # asyncio has no public close for it
    if transport is not None:
        transport.close()


async def _spawn(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], stdin_pipe: bool
) -> asyncio.subprocess.Process:
    """Start ``argv`` as the leader of a new session; a cancellation cannot lose the child.

    ``create_subprocess_exec`` forks first and then awaits the pipes; a cancellation in that
    window would kill only the leader and drop the handle. The spawn runs shielded, and on
    cancellation the whole group of whatever started is killed before re-raising.
    """
    spawn = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *argv,
            cwd=str(cwd),
            env=dict(env),
            stdin=asyncio.subprocess.PIPE if stdin_pipe else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    )
    try:
        return await asyncio.shield(spawn)
    except asyncio.CancelledError:
        await asyncio.wait({spawn})
        if not spawn.cancelled() and spawn.exception() is None:
            await _discard(spawn.result())
        raise


class Started:
    """A child running in its own group, its output collected from the start; finished once.

    With a ``ready`` line, the first line of stdout that equals it is not output: it says the
    child has done its start-up work (a pre-started worker now waiting for its stdin).
    """

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        argv: Sequence[str],
        *,
        max_output: int,
        ready: bytes,
        on_end: EndHook | None,
    ) -> None:
        self._proc = proc
        self._argv = argv
        self._on_end = on_end
        self._out, self._err = _Capped(max_output), _Capped(max_output)
        self._seen = asyncio.Event()
        self._ready = False
        self._finished = False
        self._pumps = {
            asyncio.create_task(self._guard(self._stdout(ready)), name=f"proc-stdout:{self.pid}"),
            asyncio.create_task(
                self._guard(_pump(proc.stderr, self._err)), name=f"proc-stderr:{self.pid}"
            ),
        }

    @property
    def pid(self) -> int:
        """The child's pid, which is also its process group id."""
        return self._proc.pid

    @property
    def running(self) -> bool:
        """False once the child has exited or was finished."""
        return not self._finished and self._proc.returncode is None

    async def ready(self) -> bool:
        """Wait for the ready line; False when the child ended (or printed else) first."""
        await self._seen.wait()
        return self._ready

    async def _stdout(self, ready: bytes) -> None:
        stream = self._proc.stdout
        if ready and stream is not None:
            try:
                first = await stream.readline()
            except ValueError:  # a first line longer than the reader's limit: not the marker
                first = b""
            self._ready = first.rstrip(b"\n") == ready
            if not self._ready:
                self._out.feed(first)
        self._seen.set()
        await _pump(stream, self._out)

    async def _guard(self, pump: Awaitable[None]) -> None:
        try:
            await pump
        except asyncio.CancelledError:
            # Also when the event loop shuts down around an unused child: it dies with it.
            await _discard(self._proc)
            raise
        finally:
            self._seen.set()

    async def finish(
        self, *, timeout: float, stdin: bytes | None = None, began: float | None = None
    ) -> ProcessResult:
        """Give the child its stdin, wait up to ``timeout`` for its exit, kill its group."""
        if self._finished:
            raise RuntimeError("a started process is finished only once")
        self._finished = True
        started = time.monotonic() if began is None else began
        proc = self._proc
        helpers = set(self._pumps)
        timed_out = False
        try:
            if stdin is not None:
                helpers.add(asyncio.create_task(_feed(proc, stdin), name=f"proc-stdin:{self.pid}"))
            try:
                async with asyncio.timeout(timeout):
                    await _exited(proc)
            except TimeoutError:
                timed_out = True
                log.info("process timed out after %ss: %.80s", timeout, " ".join(self._argv))
        finally:
            await self._end(helpers)
        for _ in range(100):  # the child watcher records the status right after the exit
            if proc.returncode is not None or timed_out:
                break
            await asyncio.sleep(0.01)
        return ProcessResult(
            exit_code=None if timed_out else proc.returncode,
            stdout=self._out.text(),
            stderr=self._err.text(),
            timed_out=timed_out,
            duration_s=time.monotonic() - started,
        )

    async def close(self) -> None:
        """Kill the child and its group without running it (an unused pre-started worker)."""
        if not self._finished:
            self._finished = True
            await self._end(set(self._pumps))

    async def _end(self, helpers: set[asyncio.Task[None]]) -> None:
        proc = self._proc
        kill_group(proc.pid)
        # Output pipes close once every writer is dead; a child that escaped the group with
        # its own session could hold them open, so draining is bounded.
        waiter = asyncio.create_task(proc.wait(), name=f"proc-wait:{proc.pid}")
        _, pending = await asyncio.wait({*helpers, waiter}, timeout=_DRAIN_GRACE)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        if self._on_end is not None:
            try:
                await self._on_end(proc.pid)
            except Exception:  # a bookkeeping failure must not hide the command's result
                log.exception("recording the end of process %d failed", proc.pid)


async def start_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    max_output: int = DEFAULT_MAX_OUTPUT,
    stdin_pipe: bool = False,
    ready: bytes = b"",
    on_start: StartHook | None = None,
    on_end: EndHook | None = None,
) -> Started:
    """Start ``argv`` in its own process group in ``cwd``; ``Started.finish`` ends it."""
    proc = await _spawn(argv, cwd, env, stdin_pipe)
    started = Started(proc, argv, max_output=max_output, ready=ready, on_end=on_end)
    if on_start is not None:
        try:
            await on_start(proc.pid)
        except Exception:  # recording is for crash recovery; the kill at the end still holds
            log.exception("recording the start of process %d failed", proc.pid)
        except BaseException:
            await started.close()
            raise
    return started


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    max_output: int = DEFAULT_MAX_OUTPUT,
    stdin: bytes | None = None,
    on_start: StartHook | None = None,
    on_end: EndHook | None = None,
) -> ProcessResult:
    """Run ``argv`` in its own process group in ``cwd``; never leaves that group behind.

    The whole group is killed when the process times out, when the awaiting task is
    cancelled, and after a normal exit (background leftovers such as ``sleep 99 &``).
    """
    began = time.monotonic()
    started = await start_process(
        argv,
        cwd=cwd,
        env=env,
        max_output=max_output,
        stdin_pipe=stdin is not None,
        on_start=on_start,
        on_end=on_end,
    )
    return await started.finish(timeout=timeout, stdin=stdin, began=began)
