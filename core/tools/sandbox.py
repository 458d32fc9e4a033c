"""The OS sandbox: what runs without a human cannot write outside the workspace, see hearth, or
outlive its task.

Unapproved work (low-risk shell calls, heartbeat shell checks, skills) goes through
``Sandbox.run``: under bubblewrap the root is read-only, the workspace read-write, /tmp private,
/proc fresh in a new PID namespace, hearth's data dir, .env files and credential folders hidden,
capabilities dropped, and the whole namespace dies with its task (and with hearth). Approved
commands go through ``Sandbox.run_host``: as the approver saw them, on the host, but in their
own process group, with the timeout, and killed with their task.
"""

from __future__ import annotations

import functools
import logging
import os
import pwd
import secrets
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.tools.host import existing, hide_args, runtime_under_private_dirs, user_tasks, within
from core.tools.process import DEFAULT_MAX_OUTPUT, ProcessResult, run_process, start_process
from core.tools.reaper import ProcessLedger, Reaper
from core.tools.warm import WarmProcess

log = logging.getLogger(__name__)

SETTINGS = ("auto", "bwrap", "off")
MODES = ("bwrap", "landlock", "off", "none")
# Credential folders of the home directory that no unapproved command may read.
HOME_SECRETS = (".ssh", ".aws", ".kube", ".config/gcloud", ".docker", ".netrc", ".gnupg")
# Control sockets under /run reach host daemons (docker, systemd, dbus) from a read-only root.
_RUN_KEEP = ("/run/systemd/resolve",)  # DNS on systemd-resolved hosts lives here

__all__ = [
    "MODES",
    "SETTINGS",
    "Limits",
    "ProcessResult",
    "Sandbox",
    "SandboxRunner",
    "WarmProcess",
    "default_hidden",
]


@dataclass(frozen=True, slots=True)
class Limits:
    """rlimits for sandboxed processes (a fork bomb, a disk filler, a CPU spinner)."""

    processes: int = 1024  # added to what the user already runs: RLIMIT_NPROC is per user
    file_size: int = 1 << 30  # bytes
    cpu_s: int = 600  # seconds of CPU per process (the timeout bounds wall time)


class SandboxRunner(Protocol):
    """What tools, checks and skills need to start a process."""

    mode: str  # "bwrap" | "landlock" | "off" | "none" (no sandbox: every command is asked)

    @property
    def confines(self) -> bool:
        """True when unapproved code runs confined."""
        ...

    async def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        max_output: int = DEFAULT_MAX_OUTPUT,
        stdin: bytes | None = None,
        owner: str | None = None,
    ) -> ProcessResult:
        """Run ``argv`` confined (when ``confines``)."""
        ...

    async def run_host(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        max_output: int = DEFAULT_MAX_OUTPUT,
        stdin: bytes | None = None,
        owner: str | None = None,
    ) -> ProcessResult:
        """Run an approved ``argv`` on the host."""
        ...


def default_hidden(home: Path | None = None) -> list[Path]:
    """The home directory's usual credential folders (whether or not they exist yet)."""
    homes = {Path(pwd.getpwuid(os.getuid()).pw_dir)}
    if home is not None:
        homes.add(home)
    return [h / name for h in sorted(homes) for name in HOME_SECRETS]


@functools.cache
def _probe_bwrap(bwrap: str) -> str | None:
    """None when bwrap can start a confined ``true`` here; else why not (one line)."""
    argv = [bwrap, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid"]
    argv += ["--die-with-parent", "--new-session", "--cap-drop", "ALL", "--", "true"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start: {exc}"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"bwrap failed: {lines[-1] if lines else f'exit {done.returncode}'}"
    return None


class Sandbox:
    """Starts every tool, check and skill process; confined unless a human approved it."""

    def __init__(
        self,
        setting: str = "auto",
        *,
        workspace: Path,
        hide: Sequence[Path] = (),
        network: bool = True,
        ledger: ProcessLedger | None = None,
        limits: Limits | None = None,
        bwrap: str | None = None,
    ) -> None:
        if setting not in SETTINGS:
            raise ValueError(f"TOOL_SANDBOX must be one of {', '.join(SETTINGS)}, not {setting!r}")
        self.setting = setting
        self.workspace = workspace.resolve()
        self.network = network
        self._hide = tuple(Path(p) for p in hide)
        self._limits = limits or Limits()
        self._reaper = Reaper(ledger)
        self._prlimit = shutil.which("prlimit")
        self._setpriv = shutil.which("setpriv")
        self.mode, self.reason = self._choose(setting, bwrap)
        self._bwrap = bwrap or shutil.which("bwrap") or "bwrap"

    @staticmethod
    def _choose(setting: str, bwrap: str | None) -> tuple[str, str]:
        if setting == "off":
            return "off", "TOOL_SANDBOX=off: unapproved commands run unconfined"
        found = bwrap or shutil.which("bwrap")
        if found is None:
            return "none", "bubblewrap (bwrap) is not installed"
        problem = _probe_bwrap(found)
        if problem is not None:
            return "none", problem
        return "bwrap", f"bubblewrap at {found}"

    @property
    def confines(self) -> bool:
        """True when unapproved code runs confined."""
        return self.mode in ("bwrap", "landlock")

    @property
    def can_prestart(self) -> bool:
        """True when ``prestart`` can start a confined process ahead of its job."""
        return self.mode == "bwrap"

    @property
    def needs_approval_for_everything(self) -> bool:
        """No sandbox and the operator did not accept that: every shell command is asked."""
        return self.mode == "none"

    @property
    def hidden(self) -> tuple[Path, ...]:
        """The paths unapproved commands see as empty (those that exist now)."""
        return existing(self._hide)

    def describe(self) -> str:
        """One line for startup and ``hearth doctor``."""
        if self.mode == "bwrap":
            net = "network on" if self.network else "network off"
            return f"sandbox: bwrap ({self.reason}; {net}; {len(self.hidden)} paths hidden)"
        if self.mode == "off":
            return f"sandbox: off ({self.reason}); the risk classifier alone decides"
        return f"sandbox: none ({self.reason}); every shell command needs an approval"

    async def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        max_output: int = DEFAULT_MAX_OUTPUT,
        stdin: bytes | None = None,
        owner: str | None = None,
        writable: Sequence[Path] = (),
    ) -> ProcessResult:
        """Run argv confined (when confines) in cwd; killed with its whole tree on timeout/cancel.

        ``writable`` adds read-write paths to the workspace (which always is).
        """
        if self.mode == "bwrap":
            argv = self._confined(argv, cwd, timeout, writable)
        return await self._start(argv, cwd, env, timeout, max_output, stdin, owner, host=False)

    async def run_host(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        max_output: int = DEFAULT_MAX_OUTPUT,
        stdin: bytes | None = None,
        owner: str | None = None,
    ) -> ProcessResult:
        """Approved commands: on the host, same scrubbed env, own group, timeout, die with task."""
        if self._setpriv:  # the child dies with hearth even after a kill -9 (PR_SET_PDEATHSIG)
            argv = [self._setpriv, "--pdeathsig", "KILL", "--", *argv]
        return await self._start(argv, cwd, env, timeout, max_output, stdin, owner, host=True)

    async def prestart(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        max_output: int = DEFAULT_MAX_OUTPUT,
        owner: str | None = None,
        ready: bytes = b"",
    ) -> WarmProcess:
        """Start ``argv`` confined now, exactly as ``run`` would; its stdin comes later.

        The process waits for ``WarmProcess.run`` (its stdin, then ``timeout`` for its exit)
        and is recorded for ``recover`` meanwhile. ``ready`` is the stdout line it prints once
        its start-up work is done. Only when ``confines``: unconfined work is not started early.
        """
        if not self.can_prestart:
            raise RuntimeError(f"only a confined process is started ahead ({self.describe()})")
        shape = self._shape(cwd, timeout)
        token = secrets.token_hex(8)
        started = await start_process(
            [*self._rlimits(timeout), *self._bwrap_args(cwd, ()), *argv],
            cwd=cwd,
            env={**env, "HEARTH_PROCESS": token},
            max_output=max_output,
            stdin_pipe=True,
            ready=ready,
            on_start=lambda pid: self._reaper.started(pid, token, owner or "", host=False),
            on_end=lambda pid: self._reaper.ended(pid, token),
        )
        return WarmProcess(started, timeout, fresh=lambda: self._shape(cwd, timeout) == shape)

    def _shape(self, cwd: Path, timeout: float) -> tuple[object, ...]:
        """What a confinement started now depends on: a pre-started one must still match it.

        The mounts (a credential folder created since is hidden now), the folders' identity
        (a workspace removed and created again is a new folder) and the limits.
        """
        ids = []
        for path in (cwd, self.workspace):
            try:
                st = path.stat()
            except OSError:
                return ()  # never equal to a shape taken when the folder existed
            ids.append((st.st_dev, st.st_ino))
        return (tuple(self._bwrap_args(cwd, ())), *ids, timeout, self.network)

    async def recover(self) -> int:
        """Kill what a previous run of hearth left behind; the number of processes killed."""
        return await self._reaper.recover()

    async def _start(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        max_output: int,
        stdin: bytes | None,
        owner: str | None,
        *,
        host: bool,
    ) -> ProcessResult:
        token = secrets.token_hex(8)
        # A marker in the environment finds processes that left the group (setsid) later.
        child_env = {**env, "HEARTH_PROCESS": token}
        try:
            return await run_process(
                argv,
                cwd=cwd,
                env=child_env,
                timeout=timeout,
                max_output=max_output,
                stdin=stdin,
                on_start=lambda pid: self._reaper.started(pid, token, owner or "", host=host),
                on_end=lambda pid: self._reaper.ended(pid, token),
            )
        finally:
            if host or not self.confines:  # unconfined: children may have left the group
                self._reaper.kill_marked(token)

    def _confined(
        self, argv: Sequence[str], cwd: Path, timeout: float, writable: Sequence[Path]
    ) -> list[str]:
        return [*self._rlimits(timeout), *self._bwrap_args(cwd, writable), *argv]

    def _bwrap_args(self, cwd: Path, writable: Sequence[Path]) -> list[str]:
        rw = [self.workspace, *(Path(p).resolve() for p in writable)]
        args = [self._bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        args += ["--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/dev/shm"]
        for keep in runtime_under_private_dirs():  # hearth's Python and code, read-only
            args += ["--ro-bind", str(keep), str(keep)]
        args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]
        args += ["--new-session", "--cap-drop", "ALL"]
        if not self.network:
            args.append("--unshare-net")
        if os.path.isdir("/run"):
            args += ["--tmpfs", "/run"]
            for keep in _RUN_KEEP:
                if os.path.isdir(keep):
                    args += ["--ro-bind", keep, keep]
        # A hidden folder that holds the workspace (the data dir does by default) is hidden
        # first and the workspace bound back into it; anything inside the workspace after.
        # Looked up per run: a folder created after startup (~/.ssh, the data dir) is hidden too.
        hidden = existing(self._hide)
        before = [h for h in hidden if any(within(p, h) for p in rw)]
        after = [h for h in hidden if h not in before]
        args += hide_args(before)
        for path in rw:
            args += ["--bind", str(path), str(path)]
        args += hide_args(after)
        # Sealed last: bwrap creates the mount points of the binds inside them first.
        for path in [*before, *after]:
            if path.is_dir():
                args += ["--remount-ro", str(path)]
        args += ["--chdir", str(cwd), "--"]
        return args

    def _rlimits(self, timeout: float) -> list[str]:
        if not self._prlimit:
            return []
        cpu = max(int(timeout) + 1, min(self._limits.cpu_s, int(timeout) + 60))
        nproc = user_tasks(int(time.monotonic() // 10)) + self._limits.processes
        return [
            self._prlimit,
            f"--nproc={nproc}",
            f"--fsize={self._limits.file_size}",
            f"--cpu={cpu}",
            "--",
        ]
