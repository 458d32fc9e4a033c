"""The tools each task gets: the built-ins built once, the offered skills added, the calls
recorded for the skill learner."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from bot.config import Settings
from core.approvals.broker import ApprovalBroker
from core.schedule.approvals import TimedApprovals
from core.skills.library import SkillLibrary
from core.skills.tools import SkillTools
from core.tasks import TaskContext
from core.tools.builtin import build_tools
from core.tools.netrisk import Resolver
from core.tools.registry import ToolRegistry
from core.tools.sandbox import Sandbox

if TYPE_CHECKING:
    import httpx

    from core.skills.learning import Learner
    from core.tools.base import ToolRunner


class Toolbox:
    """Hands each task its tools; the per-task state comes with each call, not in a rebuild."""

    def __init__(
        self,
        settings: Settings,
        *,
        broker: ApprovalBroker,
        sandbox: Sandbox,
        skills: SkillLibrary,
        http_transport: httpx.AsyncBaseTransport | None,
        resolve: Resolver,
    ) -> None:
        self._settings = settings
        self._broker = broker
        self._sandbox = sandbox
        self._http_transport = http_transport
        self._resolve = resolve
        self._offered = SkillTools(skills)
        self._with_skills: dict[tuple[int, ...], ToolRegistry] = {}
        # Set once built: the learner needs the runner, which needs this toolbox first.
        self.learner: Learner | None = None

    # Built once, for the first task (pydantic models and JSON schemas are costly, and the
    # prompt need not wait for them); the task comes with each call.
    @functools.cache  # noqa: B019 - one toolbox per process, kept as long as the process
    def builtin(self) -> ToolRegistry:
        """The built-in tools (shell, files, HTTP, …), built on first use."""
        s = self._settings
        return build_tools(
            workspace=s.workspace,
            broker=self._broker,
            secrets=s.secrets,
            base_env=s.child_env,
            shell_timeout=s.subtask_timeout,
            http_transport=self._http_transport,
            resolve=self._resolve,
            sandbox=self._sandbox,
            # A scheduled run's approvals wait SCHEDULE_APPROVAL_TIMEOUT (nobody may be watching).
            unattended_broker=TimedApprovals(self._broker, s.schedule_approval_timeout),
        )

    def for_task(self, task: TaskContext) -> ToolRunner:
        """The built-ins and the skills offered now; recorded for the learner if there is one."""
        extra = self._offered.current()
        key = tuple(map(id, extra))  # SkillTools keeps each tool alive while it is offered
        registry = self._with_skills.get(key)
        if registry is None:  # a skill never shadows a built-in tool
            self._with_skills.clear()
            registry = self._with_skills[key] = self.builtin().extended(extra)
        if self.learner is None:
            return registry
        return self.learner.recording(task.task_id, registry)
