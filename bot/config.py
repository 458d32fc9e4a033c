"""Settings: the only reader of the environment and `.env`; errors name the variable."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.env_reader import EnvReader
from bot.platform_settings import (
    DiscordSettings,
    MatrixSettings,
    SlackSettings,
    discord_settings,
    matrix_settings,
    slack_settings,
)
from bot.presets import PRESETS, apply_preset
from core.errors import ConfigError

# Names that may be set but are read only in some configurations (or by other modules); every
# name Settings.from_env reads is known as well (see known_variables).
_CONTRACT = frozenset(
    [
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_API_URL",
        "SLACK_HTTP_ADDR",
        "DISCORD_TOKEN",
        "DISCORD_API_URL",
        "DISCORD_GATEWAY_URL",
        "MATRIX_HOMESERVER",
        "MATRIX_USER_ID",
        "MATRIX_ACCESS_TOKEN",
        "MATRIX_PASSWORD",
        "MATRIX_DEVICE_ID",
        "MATRIX_TRUST",
        "TOOL_SANDBOX",
        "SANDBOX_NETWORK",
        "SANDBOX_HIDE",
        "STREAM_ANSWERS",
        "SKILLS_DIRS",
        "SKILL_MATCH_THRESHOLD",
        "SKILL_SUGGEST_AFTER",
        "SKILL_PROMOTION_THRESHOLD",
        "SKILL_ALLOWED_IMPORTS",
        "SKILL_ALLOW_SUBPROCESS",
        "MEMORY_MAX_ENTRIES",
        "MEMORY_TTL_DAYS",
        "PAIRING",
        "ADMIN_CHANNEL",
        "HEARTH_PRESET",
        "ESCALATION_LOCAL_MODEL",
        "HEARTBEAT_REDECIDE_EVERY",
        "SCHEDULE_TZ",
        "SCHEDULE_APPROVAL_TIMEOUT",
        "SCHEDULE_MISFIRE_GRACE",
        "MAX_JOBS_PER_USER",
    ]
)
# Process-environment names checked for typos (a shell has many unrelated variables).
_OUR_PREFIXES = ("SLACK_", "DISCORD_", "MATRIX_", "HEARTH_", "HEARTBEAT_")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything hearth is configured with, read once at start."""

    data_dir: Path = Path("data")
    workspace: Path = Path("data/workspace")
    ollama_host: str = "http://localhost:11434"
    planner_model: str = "gemma3:4b"
    executor_model: str = "qwen2.5:3b"
    embed_model: str = "nomic-embed-text"
    planner_num_ctx: int = 16384
    executor_num_ctx: int = 16384
    anthropic_api_key: str | None = field(default=None, repr=False)
    anthropic_base_url: str | None = None
    claude_model: str = "claude-opus-4-6"
    escalation_enabled: bool = True
    escalation_threshold: float = 0.6
    escalation_failure_limit: int = 3
    subtask_timeout: float = 120.0
    verification_enabled: bool = True
    context_compress_at: float = 0.7
    daily_budget_usd: float | None = None
    user_daily_budget_usd: float | None = None
    allowed_users: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    approvers: frozenset[str] = frozenset()
    approval_timeout: float = 1800.0
    max_concurrent_tasks: int = 4
    max_tasks_per_user: int = 2
    stream_answers: str = "live"  # live | final
    slack: SlackSettings | None = None
    discord: DiscordSettings | None = None
    matrix: MatrixSettings | None = None
    heartbeat_channel: str | None = None  # "platform:channel"
    heartbeat_interval: float = 600.0
    heartbeat_checks: Path | None = None
    heartbeat_decide: str = "on_change"  # always | on_change | never
    heartbeat_digest_cron: str | None = None
    heartbeat_redecide_every: int = 12  # ticks an unchanged non-healthy decision is reused
    preset: str | None = None  # HEARTH_PRESET: cpu-small | gpu-8gb | gpu-16gb | gpu-24gb | custom
    escalation_local_model: str | None = None  # a bigger local model tried before the cloud
    health_addr: str | None = None  # "host:port"
    log_format: str = "text"  # text | json
    log_level: str = "INFO"
    memory_max_entries: int = 5000  # per scope
    memory_ttl_days: float = 180.0  # for task summaries
    pairing: bool = True  # PAIRING: unknown DM senders get a code an admin approves
    admin_channel: str | None = None  # "platform:channel" where admins are told
    schedule_tz: str = "UTC"  # IANA zone for `every` / `at` (per channel: `settings tz`)
    schedule_approval_timeout: float = 3600.0
    schedule_misfire_grace: float = 3600.0
    max_jobs_per_user: int = 10
    tool_sandbox: str = "auto"  # auto | bwrap | off
    sandbox_network: bool = True
    sandbox_hide: tuple[Path, ...] = ()
    env_files: tuple[Path, ...] = ()  # the .env files read: hidden from sandboxed commands
    home: Path | None = None  # HOME: its credential folders are hidden from sandboxed commands
    skills_dirs: tuple[Path, ...] = ()  # SKILLS_DIRS: more folders of skills
    skill_match_threshold: float = 0.85  # SKILL_MATCH_THRESHOLD: request ↔ example similarity
    skill_suggest_after: int = 3  # SKILL_SUGGEST_AFTER: similar successes before a draft
    skill_promotion_threshold: int = 5  # SKILL_PROMOTION_THRESHOLD: runs TESTING → ACTIVE
    skill_allowed_imports: tuple[str, ...] | None = None  # SKILL_ALLOWED_IMPORTS (None: default)
    skill_allow_subprocess: bool = False  # SKILL_ALLOW_SUBPROCESS
    # The process environment that tool subprocesses start from (scrubbed of secrets there).
    child_env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    # Likely typos in variable names ("did you mean …?"), shown at start and by the doctor.
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def db_path(self) -> Path:
        """The SQLite database file."""
        return self.data_dir / "hearth.db"

    @property
    def memory_dir(self) -> Path:
        """Where the Chroma memory store lives."""
        return self.data_dir / "memory"

    @property
    def platforms(self) -> tuple[str, ...]:
        """Configured chat platforms, in start order."""
        names = ("slack", "discord", "matrix")
        return tuple(n for n in names if getattr(self, n) is not None)

    @property
    def effective_approvers(self) -> frozenset[str]:
        """APPROVERS, falling back to ADMINS when unset."""
        return self.approvers or self.admins

    @property
    def escalation_available(self) -> bool:
        """Cloud escalation is on and has a key."""
        return self.escalation_enabled and bool(self.anthropic_api_key)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for scrubbing child environments and redacting output."""
        values: list[str | None] = [self.anthropic_api_key]
        if self.slack:
            values += [self.slack.bot_token, self.slack.app_token, self.slack.signing_secret]
        if self.discord:
            values.append(self.discord.token)
        if self.matrix:
            values += [self.matrix.access_token, self.matrix.password]
        return tuple(v for v in values if v)

    @classmethod
    def load(
        cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = None
    ) -> Settings:
        """Read `.env` (if present) under the process environment, then parse."""
        from dotenv import dotenv_values

        merged: dict[str, str] = {}
        path = dotenv if dotenv is not None else Path(".env")
        if path.is_file():
            merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
        from_file = list(merged)  # in file order
        process_env = dict(os.environ if environ is None else environ)
        merged.update(process_env)
        settings = cls.from_env(merged)
        ours = {k for k in process_env if k.startswith(_OUR_PREFIXES)}
        warnings = misspelled(from_file, where=str(path)) + misspelled(
            sorted(ours - set(from_file)), where="the environment"
        )
        env_files = (path.resolve(),) if path.is_file() else ()
        return replace(
            settings, child_env=process_env, warnings=tuple(warnings), env_files=env_files
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from a mapping; tests pass a dict instead of patching os.environ."""
        preset = EnvReader(env).choice("HEARTH_PRESET", "", set(PRESETS)) or None
        # Explicit variables win over the preset; without one, read ``env`` itself (so that
        # known_variables() can record every name asked for).
        r = EnvReader(apply_preset(preset, env) if preset else env)
        data_dir = Path(r.str("HEARTH_DATA_DIR", "./data"))
        settings = cls(
            data_dir=data_dir,
            workspace=Path(r.str("HEARTH_WORKSPACE", str(data_dir / "workspace"))),
            ollama_host=r.url("OLLAMA_HOST", "http://localhost:11434"),
            planner_model=r.str("PLANNER_MODEL", "gemma3:4b"),
            executor_model=r.str("EXECUTOR_MODEL", "qwen2.5:3b"),
            embed_model=r.str("EMBED_MODEL", "nomic-embed-text"),
            planner_num_ctx=r.int("PLANNER_NUM_CTX", 16384, minimum=512),
            executor_num_ctx=r.int("EXECUTOR_NUM_CTX", 16384, minimum=512),
            anthropic_api_key=r.optional("ANTHROPIC_API_KEY"),
            anthropic_base_url=r.optional_url("ANTHROPIC_BASE_URL"),
            claude_model=r.str("CLAUDE_MODEL", "claude-opus-4-6"),
            escalation_enabled=r.bool("ESCALATION_ENABLED", True),
            escalation_threshold=r.float("ESCALATION_THRESHOLD", 0.6, minimum=0.0, maximum=1.0),
            escalation_failure_limit=r.int("ESCALATION_FAILURE_LIMIT", 3, minimum=1),
            subtask_timeout=r.float("SUBTASK_TIMEOUT", 120.0, minimum=1.0),
            verification_enabled=r.bool("VERIFICATION_ENABLED", True),
            context_compress_at=r.float("CONTEXT_COMPRESS_AT", 0.7, minimum=0.1, maximum=1.0),
            daily_budget_usd=r.optional_float("DAILY_BUDGET_USD"),
            user_daily_budget_usd=r.optional_float("USER_DAILY_BUDGET_USD"),
            allowed_users=r.users("ALLOWED_USERS"),
            admins=r.users("ADMINS"),
            approvers=r.users("APPROVERS"),
            approval_timeout=r.float("APPROVAL_TIMEOUT", 1800.0, minimum=1.0),
            max_concurrent_tasks=r.int("MAX_CONCURRENT_TASKS", 4, minimum=1),
            max_tasks_per_user=r.int("MAX_TASKS_PER_USER", 2, minimum=1),
            stream_answers=r.choice("STREAM_ANSWERS", "live", {"live", "final"}),
            slack=slack_settings(r),
            discord=discord_settings(r),
            matrix=matrix_settings(r),
            heartbeat_channel=r.channel("HEARTBEAT_CHANNEL"),
            heartbeat_interval=r.float("HEARTBEAT_INTERVAL", 600.0, minimum=1.0),
            heartbeat_checks=_optional_path(r.optional("HEARTBEAT_CHECKS")),
            heartbeat_decide=r.choice(
                "HEARTBEAT_DECIDE", "on_change", {"always", "on_change", "never"}
            ),
            heartbeat_digest_cron=r.cron("HEARTBEAT_DIGEST_CRON"),
            heartbeat_redecide_every=r.int("HEARTBEAT_REDECIDE_EVERY", 12, minimum=1),
            preset=preset,
            escalation_local_model=r.optional("ESCALATION_LOCAL_MODEL"),
            health_addr=r.addr("HEALTH_ADDR"),
            log_format=r.choice("LOG_FORMAT", "text", {"text", "json"}),
            log_level=r.choice(
                "LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}, upper=True
            ),
            memory_max_entries=r.int("MEMORY_MAX_ENTRIES", 5000, minimum=1),
            memory_ttl_days=r.float("MEMORY_TTL_DAYS", 180.0, minimum=1.0),
            pairing=r.bool("PAIRING", True),
            admin_channel=r.channel("ADMIN_CHANNEL"),
            schedule_tz=r.timezone("SCHEDULE_TZ", "UTC"),
            schedule_approval_timeout=r.float("SCHEDULE_APPROVAL_TIMEOUT", 3600.0, minimum=1.0),
            schedule_misfire_grace=r.float("SCHEDULE_MISFIRE_GRACE", 3600.0, minimum=0.0),
            max_jobs_per_user=r.int("MAX_JOBS_PER_USER", 10, minimum=0),
            tool_sandbox=r.choice("TOOL_SANDBOX", "auto", {"auto", "bwrap", "off"}),
            sandbox_network=r.bool("SANDBOX_NETWORK", True),
            sandbox_hide=tuple(
                Path(p.strip()) for p in (r.optional("SANDBOX_HIDE") or "").split(",") if p.strip()
            ),
            home=_optional_path(r.optional("HOME")),
            skills_dirs=tuple(
                Path(p.strip())
                for p in (r.optional("SKILLS_DIRS") or "").replace(os.pathsep, ",").split(",")
                if p.strip()
            ),
            skill_match_threshold=r.float("SKILL_MATCH_THRESHOLD", 0.85, minimum=0.5, maximum=1.0),
            skill_suggest_after=r.int("SKILL_SUGGEST_AFTER", 3, minimum=1),
            skill_promotion_threshold=r.int("SKILL_PROMOTION_THRESHOLD", 5, minimum=1),
            skill_allowed_imports=_modules(r.optional("SKILL_ALLOWED_IMPORTS")),
            skill_allow_subprocess=r.bool("SKILL_ALLOW_SUBPROCESS", False),
        )
        return settings


class _Recorder(dict[str, str]):
    """An empty environment that remembers which names were asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)


def known_variables() -> frozenset[str]:
    """Every variable name hearth reads."""
    recorder = _Recorder()
    Settings.from_env(recorder)
    return _CONTRACT | recorder.asked


def misspelled(names: list[str], *, where: str) -> list[str]:
    """A warning for each unknown name that looks like a known one (difflib)."""
    known = known_variables()
    out: list[str] = []
    for name in names:
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        if close:
            out.append(f"{name} (in {where}) is not a hearth variable; did you mean {close[0]}?")
    return out


def ensure_data_dir(settings: Settings) -> None:
    """Create the data directory; a failure names HEARTH_DATA_DIR."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.data_dir / ".hearth-write-test"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"HEARTH_DATA_DIR={str(settings.data_dir)!r} is not a writable directory "
            f"({exc.strerror or exc}): create it, or point HEARTH_DATA_DIR elsewhere"
        ) from None


def _modules(value: str | None) -> tuple[str, ...] | None:
    if not value:
        return None
    names = tuple(m.strip() for m in value.split(",") if m.strip())
    for name in names:
        if not all(part.isidentifier() for part in name.split(".")):
            raise ConfigError(
                f"SKILL_ALLOWED_IMPORTS entry {name!r} is invalid: expected module names, "
                "e.g. json,re,httpx"
            )
    return names


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None
