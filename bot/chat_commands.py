"""The text commands every chat answers directly (help comes with the dispatcher), as hearth
binds them to its stores and services."""

from __future__ import annotations

from bot.config import Settings
from core.agent_commands import agent_commands
from core.approvals.broker import ApprovalBroker
from core.approvals.commands import approval_commands
from core.channel_settings import ChannelPolicy, ChannelSettings
from core.commands import Command
from core.events import ChatRef
from core.heartbeat import Heartbeat
from core.heartbeat_commands import heartbeat_command
from core.memory import MemoryStore
from core.memory.commands import memory_commands
from core.ports import Clock
from core.schedule.commands import job_commands
from core.schedule.service import JobService
from core.skills.commands import skill_commands
from core.skills.library import SkillLibrary
from core.storage import Database
from core.storage.approval_history import ApprovalHistory
from core.team.approvals_view import approvals_command
from core.team.commands import access_commands, settings_command
from core.team.gate import Gate
from core.team.pairing import Pairing
from core.team.roster import Roster
from core.usage import UsageReporter


def chat_commands(
    settings: Settings,
    db: Database,
    *,
    broker: ApprovalBroker,
    reporter: UsageReporter,
    channels: ChannelSettings,
    policy: ChannelPolicy,
    heartbeat: Heartbeat,
    memory: MemoryStore,
    roster: Roster,
    pairing: Pairing | None,
    jobs: JobService,
    gate: Gate,
    skills: SkillLibrary,
    clock: Clock,
) -> list[Command]:
    """approve/deny, usage, heartbeat, memory, access, settings, jobs, approvals, skills."""

    async def timezone_of(chat: ChatRef) -> str:
        return await policy.timezone(chat, settings.schedule_tz)

    return [
        *approval_commands(broker),
        *agent_commands(reporter, channels),
        heartbeat_command(heartbeat),
        *memory_commands(memory),
        *access_commands(roster, pairing),
        settings_command(
            channels,
            policy,
            daily_budget_usd=settings.daily_budget_usd,
            default_tz=settings.schedule_tz,
        ),
        *job_commands(jobs, timezone_of, may_start=gate.may_start, clock=clock),
        approvals_command(ApprovalHistory(db), clock=clock),
        *skill_commands(skills),
    ]
