"""The built-in tools (shell, read_file, write_file, list_dir, http_request) in one registry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.ports import ApprovalRequester
from core.tools.environment import scrubbed_env
from core.tools.files import FileTools
from core.tools.http import HttpTool
from core.tools.netrisk import Resolver, system_resolve
from core.tools.registry import ToolRegistry, tool
from core.tools.risk import Risk, classify
from core.tools.sandbox import Sandbox, SandboxRunner
from core.tools.shell import ShellTool

if TYPE_CHECKING:
    import httpx

_STALE_VARS = ("PWD", "OLDPWD", "SHLVL", "_")


def build_tools(
    *,
    workspace: Path,
    broker: ApprovalRequester | None,
    secrets: Sequence[str],
    base_env: Mapping[str, str] | None = None,
    shell_timeout: float = 120.0,
    http_timeout: float = 20.0,
    http_transport: httpx.AsyncBaseTransport | None = None,
    resolve: Resolver = system_resolve,
    sandbox: SandboxRunner | None = None,
    owner: str | None = None,
    unattended_broker: ApprovalRequester | None = None,
) -> ToolRegistry:
    """A registry with the built-in tools bound to ``workspace``.

    ``base_env`` is the environment shell commands start from (bot/config.py reads it; None
    gives a minimal PATH/LANG environment); every secret name and value is removed from it.
    High-risk shell commands and HTTP requests go to ``broker`` for approval (scheduled runs to
    ``unattended_broker`` when given); without a broker they are refused. ``http_transport``
    and ``resolve`` keep tests off the network.
    Low-risk shell commands run confined by ``sandbox`` (probed here when not given); when no
    sandbox can confine them and the operator did not turn it off, every command is asked.
    """
    root = workspace.resolve()
    root.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in scrubbed_env(base_env, secrets).items() if k not in _STALE_VARS}
    if sandbox is None:
        sandbox = Sandbox("auto", workspace=root)
    unconfined = _asks_for_everything(sandbox)

    def shell_risk(args: Mapping[str, Any]) -> Risk:
        risk = classify(str(args["command"]), workspace=root)
        if unconfined and risk.level == "low":
            return Risk("high", ("no OS sandbox: every shell command needs an approval",))
        return risk

    shell = ShellTool(
        root,
        env=env,
        timeout=shell_timeout,
        sandbox=sandbox,
        approved=lambda command: shell_risk({"command": command}).needs_approval,
        owner=owner,
    )
    files = FileTools(root)
    http = HttpTool(timeout=http_timeout, transport=http_transport, resolve=resolve)

    return ToolRegistry(
        [
            tool(shell.shell, name="shell", risk=shell_risk, cwd=str(root)),
            tool(files.read_file, read_only=True),
            tool(files.write_file),
            tool(files.list_dir, read_only=True),
            tool(http.http_request, read_only=True, risk=http.risk, describe=http.describe),
        ],
        broker=broker,
        secrets=secrets,
        unattended_broker=unattended_broker,
    )


def _asks_for_everything(sandbox: SandboxRunner) -> bool:
    """True when nothing confines unapproved commands and TOOL_SANDBOX is not ``off``."""
    return not sandbox.confines and sandbox.mode != "off"
