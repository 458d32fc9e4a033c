"""The shell tool: bash in the workspace through the sandbox; approved commands on the host."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from core.tools.base import ToolContext
from core.tools.process import DEFAULT_MAX_OUTPUT, ProcessResult
from core.tools.registry import ToolOutput
from core.tools.sandbox import Sandbox, SandboxRunner

ShellResult = ProcessResult  # what one command did

__all__ = ["DEFAULT_MAX_OUTPUT", "ShellResult", "ShellTool", "run_shell"]


async def run_shell(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    max_output: int = DEFAULT_MAX_OUTPUT,
    sandbox: SandboxRunner | None = None,
    approved: bool = False,
    owner: str | None = None,
) -> ShellResult:
    """Run ``command`` with ``/bin/bash -c`` in ``cwd``; never leaves processes behind.

    Unapproved commands run confined by ``sandbox``; approved ones on the host. Without a
    sandbox the command runs unconfined (its own group, the timeout, killed with its task).
    """
    runner = sandbox if sandbox is not None else Sandbox("off", workspace=cwd)
    start = runner.run_host if approved else runner.run
    return await start(
        ["/bin/bash", "-c", command],
        cwd=cwd,
        env=env,
        timeout=timeout,
        max_output=max_output,
        owner=owner,
    )


class ShellTool:
    """The ``shell`` tool bound to a workspace, an environment, a sandbox and a timeout."""

    def __init__(
        self,
        workspace: Path,
        *,
        env: Mapping[str, str],
        timeout: float = 120.0,
        max_output: int = DEFAULT_MAX_OUTPUT,
        sandbox: SandboxRunner | None = None,
        approved: Callable[[str], bool] | None = None,
        owner: str | None = None,
    ) -> None:
        self.workspace = workspace
        self._env = dict(env)
        self._timeout = timeout
        self._max_output = max_output
        self._sandbox = sandbox
        # The registry runs a command that needs an approval only once a human gave it, so
        # "needs approval" here means "was approved": it runs as the approver saw it.
        self._approved = approved or (lambda _command: False)
        self._owner = owner

    async def shell(self, command: str, ctx: ToolContext | None = None) -> ToolOutput:
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
            sandbox=self._sandbox,
            approved=self._approved(command),
            owner=ctx.task_id if ctx is not None else self._owner,  # the task's processes
        )
        return ToolOutput(result.render(self._timeout), is_error=not result.ok)

    @property
    def timeout(self) -> float:
        """Seconds before the command's process group is killed."""
        return self._timeout
