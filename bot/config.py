"""Settings: the only reader of the environment and `.env`; errors name the variable."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from bot.presets import PRESETS, apply_preset
from core.errors import ConfigError

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_PLATFORMS = {"slack", "discord", "matrix", "console"}
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


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """Slack credentials: Socket Mode (app token) or HTTP Events (signing secret)."""

    bot_token: str = field(repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    api_url: str | None = None  # Web API base URL override, ends with "/"
    http_addr: str = "127.0.0.1:3000"  # where HTTP Events mode listens

    @property
    def socket_mode(self) -> bool:
        """Socket Mode is the default whenever an app token is present."""
        return self.app_token is not None


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """Discord bot token, and where its REST API and gateway are (a proxy or a test fake)."""

    token: str = field(repr=False)
    api_url: str | None = None  # REST base, e.g. http://127.0.0.1:8081/api/v10
    gateway_url: str | None = None  # gateway websocket, e.g. ws://127.0.0.1:8081/


@dataclass(frozen=True, slots=True)
class MatrixSettings:
    """Matrix homeserver and bot account."""

    homeserver: str
    user_id: str
    access_token: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    device_id: str | None = None
    trust: str = "allowed"  # MATRIX_TRUST: allowed | all | verified


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
        preset = _Reader(env).choice("HEARTH_PRESET", "", set(PRESETS)) or None
        # Explicit variables win over the preset; without one, read ``env`` itself (so that
        # known_variables() can record every name asked for).
        r = _Reader(apply_preset(preset, env) if preset else env)
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
            slack=_slack(r),
            discord=_discord(r),
            matrix=_matrix(r),
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


def _slack(r: _Reader) -> SlackSettings | None:
    bot = r.optional("SLACK_BOT_TOKEN")
    app = r.optional("SLACK_APP_TOKEN")
    secret = r.optional("SLACK_SIGNING_SECRET")
    if not (bot or app or secret):
        return None
    if not bot:
        raise ConfigError(
            "SLACK_BOT_TOKEN is required when SLACK_APP_TOKEN or "
            "SLACK_SIGNING_SECRET is set (it starts with xoxb-)"
        )
    if not (app or secret):
        raise ConfigError(
            "SLACK_APP_TOKEN (Socket Mode, starts with xapp-) or "
            "SLACK_SIGNING_SECRET (HTTP Events mode) is required with SLACK_BOT_TOKEN"
        )
    if app and not app.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    api_url = r.optional_url("SLACK_API_URL")
    if api_url and not api_url.endswith("/"):
        api_url += "/"  # slack_sdk joins method names onto it
    return SlackSettings(
        bot_token=bot,
        app_token=app,
        signing_secret=secret,
        api_url=api_url,
        http_addr=r.addr("SLACK_HTTP_ADDR") or "127.0.0.1:3000",
    )


def _discord(r: _Reader) -> DiscordSettings | None:
    token = r.optional("DISCORD_TOKEN")
    if not token:
        return None
    return DiscordSettings(
        token=token,
        api_url=r.optional_url("DISCORD_API_URL"),
        gateway_url=_ws_url(r, "DISCORD_GATEWAY_URL"),
    )


def _ws_url(r: _Reader, name: str) -> str | None:
    raw = r.optional(name)
    if raw is not None and not raw.startswith(("ws://", "wss://")):
        raise ConfigError(f"{name}={raw!r} is invalid: expected a ws:// or wss:// URL")
    return raw


def _matrix(r: _Reader) -> MatrixSettings | None:
    hs = r.optional_url("MATRIX_HOMESERVER")
    user = r.optional("MATRIX_USER_ID")
    token = r.optional("MATRIX_ACCESS_TOKEN")
    password = r.optional("MATRIX_PASSWORD")
    if not (hs or user or token or password):
        return None
    if not hs:
        raise ConfigError(
            "MATRIX_HOMESERVER is required for Matrix (e.g. https://matrix.example.org)"
        )
    if not user or not user.startswith("@") or ":" not in user:
        raise ConfigError("MATRIX_USER_ID must be a full Matrix id like @hearth:example.org")
    if not (token or password):
        raise ConfigError("MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD is required for Matrix")
    return MatrixSettings(
        homeserver=hs,
        user_id=user,
        access_token=token,
        password=password,
        device_id=r.optional("MATRIX_DEVICE_ID"),
        trust=r.choice("MATRIX_TRUST", "allowed", {"allowed", "all", "verified"}),
    )


class _Reader:
    """Typed access to a string mapping; every error names the variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def optional(self, name: str) -> str | None:
        value = self._env.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def str(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def _parse(self, name: str, default: T, parse: Callable[[str], T], expected: str) -> T:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except (ValueError, TypeError):
            raise ConfigError(f"{name}={raw!r} is invalid: expected {expected}") from None

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self._parse(name, default, int, "a whole number")
        self._check_min(name, value, minimum)
        return value

    def float(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        value = self._parse(name, default, float, "a number")
        self._check_min(name, value, minimum)
        if maximum is not None and value > maximum:
            raise ConfigError(f"{name}={value} is invalid: expected at most {maximum}")
        return value

    def optional_float(self, name: str) -> float | None:
        value = self._parse(name, None, float, "a number of US dollars, e.g. 5 or 0.50")
        if value is not None and value < 0:
            raise ConfigError(f"{name}={value} is invalid: expected a number >= 0")
        return value

    @staticmethod
    def _check_min(name: str, value: Any, minimum: Any) -> None:
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name}={value} is invalid: expected at least {minimum}")

    def bool(self, name: str, default: bool) -> bool:
        raw = self.optional(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ConfigError(f"{name}={raw!r} is invalid: expected true or false")

    def choice(self, name: str, default: str, options: set[str], *, upper: bool = False) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        value = raw.upper() if upper else raw.lower()
        if value not in options:
            raise ConfigError(
                f"{name}={raw!r} is invalid: expected one of {', '.join(sorted(options))}"
            )
        return value

    def url(self, name: str, default: str) -> str:
        return self.optional_url(name) or default

    def optional_url(self, name: str) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        if not raw.startswith(("http://", "https://")):
            raise ConfigError(f"{name}={raw!r} is invalid: expected an http:// or https:// URL")
        return raw

    def users(self, name: str) -> frozenset[str]:
        raw = self.optional(name)
        if raw is None:
            return frozenset()
        out: set[str] = set()
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            platform, _, uid = item.partition(":")
            if uid and platform.lower() not in _PLATFORMS:
                raise ConfigError(
                    f"{name} entry {item!r} is invalid: unknown platform {platform!r} "
                    f"(expected one of {', '.join(sorted(_PLATFORMS))})"
                )
            if platform.lower() not in _PLATFORMS or not uid:
                raise ConfigError(
                    f"{name} entry {item!r} is invalid: expected platform:id, e.g. "
                    "slack:U123ABC, discord:80351110224678912, matrix:@ana:example.org"
                )
            out.add(f"{platform.lower()}:{uid}")
        return frozenset(out)

    def channel(self, name: str) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        platform, _, channel = raw.partition(":")
        if channel and platform.lower() not in _PLATFORMS:
            raise ConfigError(
                f"{name}={raw!r} is invalid: unknown platform {platform!r} "
                f"(expected one of {', '.join(sorted(_PLATFORMS))})"
            )
        if platform.lower() not in _PLATFORMS or not channel:
            raise ConfigError(
                f"{name}={raw!r} is invalid: expected platform:channel, e.g. "
                "slack:C0123ABC or matrix:!room:example.org"
            )
        return f"{platform.lower()}:{channel}"

    def addr(self, name: str) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        host, sep, port = raw.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(
                f"{name}={raw!r} is invalid: expected host:port, e.g. 127.0.0.1:8080"
            )
        return raw

    def timezone(self, name: str, default: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        raw = self.optional(name) or default
        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{name}={raw!r} is invalid: expected an IANA timezone, e.g. Europe/Berlin or UTC"
            ) from None
        return raw

    def cron(self, name: str) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        if len(raw.split()) != 5:
            raise ConfigError(
                f"{name}={raw!r} is invalid: expected a 5-field cron expression, e.g. '0 9 * * *'"
            )
        return raw
