"""Suggested heartbeat actions: offered to approvers, never run automatically.

Each action in a posted report becomes an approval request (``kind="heartbeat-action"``) in the
report's thread, in a tracked background task so the tick never waits on a human. An approved
action runs once, in the workspace, in its own process group with no secrets in its environment
— unless the risk classifier blocks it outright, which no approval overrides.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from core.events import ApprovalOutcome, MessageRef, User
from core.heartbeat.shell import run_shell
from core.ports import ApprovalRequester, ChatAdapter
from core.tools.sandbox import SandboxRunner

log = logging.getLogger(__name__)

HEARTBEAT_USER = User("hearth", "heartbeat", "heartbeat")


class ActionOffers:
    """Asks approvers about suggested actions and runs the approved ones."""

    def __init__(
        self,
        broker: ApprovalRequester,
        *,
        adapters: Mapping[str, ChatAdapter],
        workspace: Path,
        timeout: float = 120.0,
        classify: Callable[[str], Any] | None = None,
        sandbox: SandboxRunner | None = None,
    ) -> None:
        self._broker = broker
        self._sandbox = sandbox
        self._adapters = adapters
        self._workspace = workspace
        self._timeout = timeout
        self._classify = classify
        self._pending: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def offer(self, tick_id: int, actions: Sequence[str], report: MessageRef) -> None:
        """Request approval for each action in the background (one pending request per action)."""
        for action in actions:
            if action in self._pending:
                continue  # already waiting for a human; do not ask twice
            self._pending.add(action)
            task = asyncio.create_task(
                self._request_action(tick_id, action, report), name=f"heartbeat-action:{tick_id}"
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _request_action(self, tick_id: int, action: str, report: MessageRef) -> None:
        adapter = self._adapters.get(report.chat.platform)
        chat = report.chat
        if adapter is not None and adapter.capabilities.threads:
            chat = report.chat.in_thread(report.message_id)
        try:
            outcome = await self._broker.request(
                chat=chat,
                command=action,
                cwd=str(self._workspace),
                task_id=f"heartbeat-{tick_id}",
                requester=HEARTBEAT_USER,
                tool_name="shell",
                reasons=("suggested by the heartbeat",),
                kind="heartbeat-action",
            )
            if outcome.approved and adapter is not None:
                await adapter.post(chat, await self._run_action(action, outcome))
        except asyncio.CancelledError:
            raise
        except Exception:
            # Task boundary: a failed approval round must not take the heartbeat down.
            log.exception("heartbeat action %r (tick %d) failed", action, tick_id)
        finally:
            self._pending.discard(action)

    async def _run_action(self, action: str, outcome: ApprovalOutcome) -> str:
        who = (
            outcome.decided_by.display_name or outcome.decided_by.id if outcome.decided_by else "?"
        )
        classify = self._classify
        if classify is None:
            from core.tools.risk import classify  # the tools package owns risk
        risk = classify(action)
        if risk.level == "blocked":
            reasons = "; ".join(risk.reasons) or "blocked"
            return (
                f"⛔ `{action}` was approved by {who} but is blocked and was not run ({reasons})."
            )
        result = await run_shell(
            action,
            cwd=self._workspace,
            timeout=self._timeout,
            sandbox=self._sandbox,
            approved=True,
        )
        status = "timed out" if result.timed_out else f"exit {result.exit_code}"
        body = f"\n```\n{result.output}\n```" if result.output and not result.timed_out else ""
        return f"▶️ Ran `{action}` (approved by {who}): {status}{body}"

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for pending requests (tests; graceful shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        """Cancel pending requests (their prompts close as cancelled) and wait for them."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
