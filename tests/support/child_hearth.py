"""A stand-in for hearth's process: started with secrets in its environment (as a real hearth
is after reading .env), it runs one shell command through the shell tool and prints the output.

    python -m tests.support.child_hearth WAY SETTING WORKSPACE HIDE[,HIDE…] COMMAND
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from core.events import ApprovalOutcome, ChatRef, Decision, User
from core.llm.base import ToolCall
from core.tools.base import ToolContext
from core.tools.builtin import build_tools
from core.tools.environment import scrubbed_env
from core.tools.sandbox import Sandbox
from core.tools.shell import ShellTool


class _Deny:
    async def request(self, **_kwargs: object) -> ApprovalOutcome:
        return ApprovalOutcome(
            decision=Decision.DENY, decided_by=User("t", "judge"), decided_at=datetime.now(UTC)
        )


async def _main(way: str, setting: str, workspace: Path, hide: str, command: str) -> str:
    sandbox = Sandbox(setting, workspace=workspace, hide=[Path(p) for p in hide.split(",") if p])
    if way == "registry":
        registry = build_tools(
            workspace=workspace, broker=_Deny(), secrets=[], shell_timeout=20, sandbox=sandbox
        )
        ctx = ToolContext(
            task_id="t1", chat=ChatRef("t", "c"), requester=User("t", "u"), workspace=workspace
        )
        result = await registry.run(ToolCall("c1", "shell", {"command": command}), ctx)
        return result.output
    tool = ShellTool(
        workspace,
        env=scrubbed_env(None, []),
        timeout=20,
        sandbox=sandbox,
        approved=lambda _c: False,
    )
    return (await tool.shell(command)).text


if __name__ == "__main__":
    way, setting, ws, hide, command = sys.argv[1:6]
    print(asyncio.run(_main(way, setting, Path(ws), hide, command)))
