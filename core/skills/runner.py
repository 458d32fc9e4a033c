"""SkillRunner: every code skill runs in a sandboxed subprocess; failures become clear errors.

The child is ``python -m core.skills.child`` with the workspace as its working directory, a
scrubbed environment, a timeout, an output cap and a memory cap. The skill's source goes in on
stdin and its result comes back as one JSON line, so a crash, a hang or a memory blow-up is the
child's problem and hearth goes on. Under bubblewrap the child is usually pre-started by the
runner's WarmPool (same sandbox, same limits, one run each); otherwise it starts per run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from core.skills.child import READY_MARKER, RESULT_MARKER
from core.skills.model import CodeSkill
from core.skills.pool import WarmPool

CODE_ROOT = Path(__file__).resolve().parents[2]  # where `core` is importable from


class ProcessOutcome(Protocol):
    """What a finished process left (core.tools.sandbox.ProcessResult fits)."""

    @property
    def exit_code(self) -> int | None: ...
    @property
    def stdout(self) -> str: ...
    @property
    def stderr(self) -> str: ...
    @property
    def timed_out(self) -> bool: ...


class ProcessSandbox(Protocol):
    """Runs one confined process (core.tools.sandbox.Sandbox fits)."""

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
    ) -> ProcessOutcome:
        """Run ``argv`` confined; never raises for the process's own failures."""
        ...


class WarmChild(Protocol):
    """A pre-started child (core.tools.warm.WarmProcess fits)."""

    timeout: float

    @property
    def usable(self) -> bool: ...
    async def ready(self) -> bool: ...
    async def run(self, stdin: bytes) -> ProcessOutcome: ...
    async def close(self) -> None: ...


class PrestartingSandbox(ProcessSandbox, Protocol):
    """A sandbox that can start a confined child ahead of its stdin (Sandbox fits)."""

    @property
    def can_prestart(self) -> bool: ...

    async def prestart(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        max_output: int = 16_000,
        owner: str | None = None,
        ready: bytes = b"",
    ) -> WarmChild: ...


@dataclass(frozen=True, slots=True)
class SkillOutcome:
    """One skill run as the caller sees it."""

    ok: bool
    text: str  # the answer, or the error explained for a person
    error: str = ""  # "" when the skill ran; else timeout|crash|memory|exception|params|...
    duration_s: float = 0.0
    lifecycle: str = ""  # a promotion or demotion this run caused, to tell the thread


class SkillRunner:
    """Runs code skills through a sandbox with limits."""

    def __init__(
        self,
        sandbox: ProcessSandbox,
        *,
        workspace: Path,
        env: Mapping[str, str],
        timeout: float = 30.0,
        max_memory_mb: int = 512,
        max_output: int = 64_000,
        python: str = sys.executable,
        code_root: Path = CODE_ROOT,
        defaults: Mapping[str, Any] | None = None,
        warm: int = 1,
        preload: Sequence[str] = ("psutil",),
    ) -> None:
        """``warm`` children are kept pre-started (0: each run starts its own); they import
        ``preload`` (what the built-in skills use) before their request comes."""
        self._sandbox = sandbox
        # Values hearth knows (e.g. ollama_host) for skills that declare a param of that name.
        self._defaults = dict(defaults or {})
        self._workspace = workspace
        # -S skips site's start-up work (a third of a bare start); the packages skills may
        # use (httpx, psutil) are found through the parent's site-packages on PYTHONPATH.
        paths = [str(code_root), *(p for p in sys.path if p.endswith("-packages"))]
        self._env = {
            **env,
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
        }
        self.timeout = timeout
        self._max_memory_mb = max_memory_mb
        self._max_output = max_output
        # -P: the workspace (cwd) never shadows hearth's modules; -B: no bytecode writes.
        self._argv = [python, "-S", "-P", "-B", "-m", "core.skills.child"]
        self._preload = tuple(preload)
        # Only confined children are started ahead; unconfined ones start per run, as ever.
        prestarts = getattr(sandbox, "can_prestart", False)
        self.pool = WarmPool(self._prestart, warm) if prestarts and warm > 0 else None

    async def _prestart(self) -> WarmChild:
        self._workspace.mkdir(parents=True, exist_ok=True)
        sandbox: PrestartingSandbox = self._sandbox  # type: ignore[assignment]
        return await sandbox.prestart(
            [*self._argv, "--warm", *self._preload],
            cwd=self._workspace,
            env=self._env,
            timeout=self.timeout,
            max_output=self._max_output,
            owner="skill:warm",
            ready=READY_MARKER.encode(),
        )

    async def ready(self) -> None:
        """Wait until the pre-started children are ready (benchmarks measure a request then)."""
        if self.pool is not None:
            await self.pool.ready()

    async def close(self) -> None:
        """Kill the pre-started children."""
        if self.pool is not None:
            await self.pool.close()

    async def run(
        self, skill: CodeSkill, params: Mapping[str, Any], *, owner: str | None = None
    ) -> SkillOutcome:
        """Validate ``params`` against the skill's schema, then run it in the sandbox."""
        declared = skill.params.get("properties", {})
        params = {
            **{k: v for k, v in self._defaults.items() if k in declared},
            **params,
        }
        problem = params_problem(skill, params)
        if problem:
            return SkillOutcome(False, f"bad parameters for `{skill.name}`: {problem}", "params")
        request = {
            "source": skill.source,
            "filename": str(skill.path),
            "params": dict(params),
            "max_memory_mb": self._max_memory_mb,
        }
        self._workspace.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        stdin = json.dumps(request).encode()
        child = await self._warm_child()
        try:
            if child is not None:
                result = await child.run(stdin)
            else:
                result = await self._sandbox.run(
                    self._argv,
                    cwd=self._workspace,
                    env=self._env,
                    timeout=self.timeout,
                    max_output=self._max_output,
                    stdin=stdin,
                    owner=owner,
                )
        finally:
            if self.pool is not None:
                self.pool.refill()  # after the run: the start-up does not compete with it
        return self._outcome(skill, result, time.monotonic() - started)

    async def _warm_child(self) -> WarmChild | None:
        if self.pool is None:
            return None
        child: WarmChild | None = await self.pool.take()  # type: ignore[assignment]
        if child is not None and child.timeout != self.timeout:  # the timeout was changed
            await child.close()
            return None
        return child

    def _outcome(self, skill: CodeSkill, result: ProcessOutcome, took: float) -> SkillOutcome:
        name = skill.name
        if result.timed_out:
            return SkillOutcome(
                False,
                f"`{name}` did not finish within {self.timeout:g}s and was stopped.",
                "timeout",
                took,
            )
        reply = _reply(result.stdout)
        if reply is None:
            last = _last_line(result.stderr)
            code = result.exit_code
            if code is not None and (code < 0 or 128 < code < 160):
                # Negative: the signal itself; 128+N: a sandbox's init reporting signal N.
                why = f"killed by signal {-code if code < 0 else code - 128}"
            else:
                why = f"exit code {result.exit_code}"
            if "MemoryError" in result.stderr:
                why += ", out of memory"
            detail = f": {last}" if last else ""
            return SkillOutcome(False, f"`{name}` crashed ({why}){detail}", "crash", took)
        text = str(reply.get("text", ""))
        error = str(reply.get("error", ""))
        if error == "memory":
            text = f"`{name}` ran out of memory (the limit is {self._max_memory_mb} MB)."
        elif error == "exception":
            text = f"`{name}` failed: {text}"
        return SkillOutcome(bool(reply.get("ok")), text, error, took)


def params_problem(skill: CodeSkill, params: Mapping[str, Any]) -> str:
    """'' when ``params`` satisfy the skill's PARAMS schema, else the first problem."""
    import jsonschema  # here: `hearth chat` draws its prompt without it

    try:
        jsonschema.validate(dict(params), skill.params)
    except jsonschema.ValidationError as exc:
        where = ".".join(str(p) for p in exc.absolute_path)
        return f"{where}: {exc.message}" if where else exc.message
    return ""


def _reply(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.split("\n")):  # not splitlines(): it splits on \x1e
        if line.startswith(RESULT_MARKER):
            try:
                data = json.loads(line[len(RESULT_MARKER) :])
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
