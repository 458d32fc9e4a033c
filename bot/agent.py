"""The agent runner and the cloud model, as hearth builds them from Settings."""

from __future__ import annotations

import functools
from collections.abc import Callable

from bot.config import Settings
from core.agent.config import AgentConfig
from core.agent.recollect import TaskMemory
from core.agent.runner import AgentRunner, ToolsFactory
from core.budget import Budget
from core.channel_settings import ChannelPolicy, ChannelSettings, budget_cap_usd
from core.events import ChatRef
from core.llm.base import LLMClient
from core.llm.ollama import OllamaClient
from core.metrics import Metrics
from core.ports import Clock
from core.skills.library import SkillLibrary
from core.skills.runbooks import RunbookShelf
from core.storage.usage import UsageStore
from core.tools.base import ToolRunner
from core.usage import UsageRecorder


def cloud_factory(settings: Settings) -> Callable[[], LLMClient] | None:
    """The Claude client, built on first use; None without ANTHROPIC_API_KEY."""
    cloud: Callable[[], LLMClient] | None = None
    if settings.anthropic_api_key:
        key, model, url = (
            settings.anthropic_api_key,
            settings.claude_model,
            settings.anthropic_base_url,
        )

        @functools.cache
        def cloud() -> LLMClient:
            # Built on the first escalation: the SDK is a heavy import most runs never need.
            from core.llm.anthropic import AnthropicClient

            return AnthropicClient(key, model, base_url=url)

    return cloud


def build_runner(
    settings: Settings,
    *,
    cloud: Callable[[], LLMClient] | None,
    tools: ToolRunner | ToolsFactory,
    recorder: UsageRecorder,
    budget: Budget,
    channels: ChannelSettings,
    clock: Clock,
    metrics: Metrics,
    memory: TaskMemory,
    skills: SkillLibrary,
) -> AgentRunner:
    """The planner/executor agent on Ollama, escalating to ``cloud``."""
    return AgentRunner(
        OllamaClient(
            settings.ollama_host,
            settings.planner_model,
            num_ctx=settings.planner_num_ctx,
            clock=clock,
        ),
        OllamaClient(
            settings.ollama_host,
            settings.executor_model,
            num_ctx=settings.executor_num_ctx,
            clock=clock,
        ),
        cloud=cloud,
        tools=tools,
        recorder=recorder,
        budget=budget,
        channels=channels,
        config=AgentConfig(
            workspace=settings.workspace,
            escalation_enabled=settings.escalation_enabled,
            escalation_threshold=settings.escalation_threshold,
            failure_limit=settings.escalation_failure_limit,
            subtask_timeout=settings.subtask_timeout,
            verification=settings.verification_enabled,
            compress_at=settings.context_compress_at,
        ),
        clock=clock,
        metrics=metrics,
        local_escalation=(
            OllamaClient(
                settings.ollama_host,
                settings.escalation_local_model,
                num_ctx=settings.executor_num_ctx,
                clock=clock,
            )
            if settings.escalation_local_model
            else None
        ),
        recall=memory.recall,
        remember=memory.remember,
        runbooks=RunbookShelf(skills, settings.workspace),
    )


def build_budget(
    settings: Settings, usage: UsageStore, policy: ChannelPolicy, clock: Clock
) -> Budget:
    """DAILY_BUDGET_USD and USER_DAILY_BUDGET_USD, and each channel's share of the first."""

    async def channel_cap(chat: ChatRef) -> float | None:
        return budget_cap_usd(await policy.budget_share(chat), settings.daily_budget_usd)

    return Budget(
        usage,
        daily_usd=settings.daily_budget_usd,
        user_daily_usd=settings.user_daily_budget_usd,
        clock=clock,
        channel_cap=channel_cap,
    )
