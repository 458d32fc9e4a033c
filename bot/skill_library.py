"""The skill library and the skill factory, as hearth builds them from Settings."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import Settings
from core.approvals.broker import ApprovalBroker
from core.budget import Budget
from core.channel_settings import ChannelSettings
from core.llm.base import LLMClient
from core.llm.ollama import OllamaClient
from core.ports import Clock
from core.skills.factory import SkillFactory
from core.skills.learning import Learner
from core.skills.library import SkillLibrary
from core.skills.review import SkillReview
from core.skills.runner import SkillRunner
from core.skills.validate import DEFAULT_ALLOWED
from core.skills.verdicts import Verdicts
from core.storage import Database
from core.storage.skills import SkillStore
from core.storage.traces import TraceStore
from core.tools.environment import scrubbed_env
from core.tools.sandbox import Sandbox
from core.usage import UsageRecorder


def build_skills(
    settings: Settings, db: Database, sandbox: Sandbox | None, clock: Clock | None = None
) -> SkillLibrary:
    """The skill library: built-ins, $HEARTH_DATA_DIR/skills, SKILLS_DIRS; sandboxed runner."""
    runner = None
    if sandbox is not None:
        runner = SkillRunner(
            sandbox,
            workspace=settings.workspace,
            env=scrubbed_env(settings.child_env, settings.secrets),
            defaults={"ollama_host": settings.ollama_host},
        )
    return SkillLibrary(
        SkillStore(db),
        runner=runner,
        data_dir=settings.data_dir / "skills",
        extra_dirs=settings.skills_dirs,
        clock=clock,
        promote_after=settings.skill_promotion_threshold,
        verdicts=Verdicts(settings.data_dir / "cache" / "skills.json"),
    )


def build_learner(
    settings: Settings,
    db: Database,
    skills: SkillLibrary,
    broker: ApprovalBroker,
    cloud: Callable[[], LLMClient] | None,
    recorder: UsageRecorder,
    budget: Budget,
    channels: ChannelSettings,
    clock: Clock,
) -> Learner | None:
    """The skill factory: traces, generation (cloud or local), checks, review."""
    if skills.runner is None:
        return None
    factory = SkillFactory(
        local=OllamaClient(
            settings.ollama_host,
            settings.executor_model,
            num_ctx=settings.executor_num_ctx,
            clock=clock,
        ),
        cloud=cloud,
        escalation_enabled=settings.escalation_enabled,
        recorder=recorder,
        budget=budget,
        runner=skills.runner,
        allowed_imports=settings.skill_allowed_imports or DEFAULT_ALLOWED,
        allow_subprocess=settings.skill_allow_subprocess,
    )
    embedder = OllamaClient(settings.ollama_host, settings.embed_model, num_ctx=2048, timeout=10)
    return Learner(
        factory,
        SkillReview(
            skills,
            SkillStore(db),
            broker,
            promote_after=settings.skill_promotion_threshold,
            clock=clock,
            secrets=settings.secrets,
        ),
        TraceStore(db),
        suggest_after=settings.skill_suggest_after,
        embed=embedder.embed,
        local_only=channels.is_local_only,
        library=skills,
        clock=clock,
    )
