"""`hearth doctor`: one line per check, OK or FAIL with the fix; exit code 1 on any FAIL."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import Settings
from core.errors import ConfigError, HearthError
from core.llm.ollama import OllamaClient


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report."""

    ok: bool
    name: str
    detail: str
    fix: str = ""
    warn: bool = False  # ok (exit code 0), but worth a look: shown as WARN with the fix

    def line(self) -> str:
        """``OK   name: detail`` or ``FAIL name: detail — fix: …``."""
        status = "OK  " if self.ok else "FAIL"
        if self.ok and self.warn:
            return f"WARN {self.name}: {self.detail}" + (f" — fix: {self.fix}" if self.fix else "")
        fix = f" — fix: {self.fix}" if self.fix and not self.ok else ""
        return f"{status} {self.name}: {self.detail}{fix}"


def _writable(name: str, path: Path) -> Check:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(
            False,
            name,
            f"{path} is not writable ({exc.strerror or exc})",
            f"create it and give the hearth user write access, or set {name.upper()}",
        )
    return Check(True, name, f"{path} is writable")


def _same_model(wanted: str, available: set[str]) -> bool:
    if wanted in available:
        return True
    return ":" not in wanted and f"{wanted}:latest" in available


async def _ollama(settings: Settings, timeout: float = 5) -> list[Check]:
    client = OllamaClient(
        settings.ollama_host, settings.executor_model, num_ctx=2048, timeout=timeout
    )
    try:
        available = set(await client.list_models())
    except HearthError as exc:
        return [
            Check(
                False,
                "ollama",
                str(exc).split(" — ")[0],
                f"start it with `ollama serve`, or set OLLAMA_HOST (now {settings.ollama_host})",
            )
        ]
    finally:
        await client.aclose()
    checks = [
        Check(
            True,
            "ollama",
            f"reachable at {settings.ollama_host}, {len(available)} model(s) pulled",
        )
    ]
    roles = {
        "PLANNER_MODEL": settings.planner_model,
        "EXECUTOR_MODEL": settings.executor_model,
        "EMBED_MODEL": settings.embed_model,
    }
    if settings.escalation_local_model:
        roles["ESCALATION_LOCAL_MODEL"] = settings.escalation_local_model
    for variable, model in roles.items():
        if _same_model(model, available):
            checks.append(Check(True, f"model {model}", f"pulled ({variable})"))
        else:
            checks.append(
                Check(
                    False,
                    f"model {model}",
                    f"not pulled ({variable})",
                    f"run `ollama pull {model}` or change {variable}",
                )
            )
    return checks


async def _hardware(settings: Settings) -> list[Check]:
    """RAM/GPU/VRAM, a suggested preset, and models too big for the VRAM."""
    from bot.hardware import detect, misfits

    client = OllamaClient(settings.ollama_host, settings.executor_model, num_ctx=2048, timeout=5)
    try:
        sizes, loaded = await client.model_sizes(), await client.loaded_sizes()
    except HearthError:
        sizes, loaded = {}, {}  # the ollama line already says it is unreachable
    finally:
        await client.aclose()
    hw = await detect(loaded)
    checks = [Check(True, "hardware", hw.describe())]
    suggested = hw.suggested
    if settings.preset is None:
        checks.append(
            Check(True, "preset", f"none set; this machine suits HEARTH_PRESET={suggested}")
        )
    elif settings.preset not in (suggested, "custom"):
        checks.append(
            Check(
                True,
                "preset",
                f"HEARTH_PRESET={settings.preset}, but this machine suits {suggested}",
                f"set HEARTH_PRESET={suggested} unless you know better",
                warn=True,
            )
        )
    else:
        checks.append(Check(True, "preset", f"HEARTH_PRESET={settings.preset}"))
    models = {
        "PLANNER_MODEL": settings.planner_model,
        "EXECUTOR_MODEL": settings.executor_model,
    }
    if settings.escalation_local_model:
        models["ESCALATION_LOCAL_MODEL"] = settings.escalation_local_model
    for fit in misfits(hw, models, sizes):
        checks.append(
            Check(
                True,
                f"model {fit.model}",
                fit.detail,
                f"choose a smaller model or HEARTH_PRESET={suggested}",
                warn=True,
            )
        )
    return checks


async def ollama_warning(settings: Settings) -> str | None:
    """One line with the fix when Ollama cannot be reached (said once at start), else None.

    A connection, not an API call: the Ollama SDK is a heavy import that the terminal's prompt
    should not wait for (the first task loads it, and says what is wrong with the models).
    """
    url = urlsplit(settings.ollama_host)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(url.hostname, port), 3)
    except (OSError, TimeoutError):
        return (
            f"Ollama is not reachable at {settings.ollama_host} — start it with `ollama serve`, "
            f"or set OLLAMA_HOST (now {settings.ollama_host})"
        )
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return None


def _platforms(settings: Settings) -> list[Check]:
    checks: list[Check] = []
    if settings.slack:
        mode = (
            "Socket Mode"
            if settings.slack.socket_mode
            else f"HTTP Events on {settings.slack.http_addr}"
        )
        checks.append(Check(True, "slack", f"bot token present, {mode}"))
    if settings.discord:
        checks.append(
            Check(True, "discord", "bot token present (enable the Message Content intent)")
        )
    if settings.matrix:
        how = (
            "access token" if settings.matrix.access_token else "password (token kept after login)"
        )
        checks.append(
            Check(
                True,
                "matrix",
                f"{settings.matrix.user_id} on {settings.matrix.homeserver} with {how}",
            )
        )
        from adapters.matrix.crypto import describe_encryption

        ok, text = describe_encryption(settings.data_dir / "matrix", settings.matrix.trust)
        checks.append(Check(ok, "matrix encryption", text))
    if not checks:
        checks.append(
            Check(
                True,
                "platforms",
                "none configured: `hearth run` opens the terminal "
                "chat (set SLACK_*, DISCORD_TOKEN or MATRIX_* to connect one)",
            )
        )
    return checks


def _access(settings: Settings) -> list[Check]:
    users = settings.allowed_users | settings.admins
    if settings.platforms and not any(u.split(":")[0] in settings.platforms for u in users):
        named = sorted({u.split(":")[0] for u in users})
        detail = f" (ADMINS and ALLOWED_USERS name only {', '.join(named)})" if named else ""
        example = settings.platforms[0]
        return [
            Check(
                False,
                "access",
                f"nobody may use hearth on {', '.join(settings.platforms)}{detail}",
                f"set ADMINS (and ALLOWED_USERS), e.g. ADMINS={example}:YOUR_USER_ID",
            )
        ]
    approvers = settings.effective_approvers
    detail = f"{len(settings.allowed_users)} allowed user(s), {len(settings.admins)} admin(s), "
    detail += f"{len(approvers)} approver(s)"
    if settings.platforms and not approvers:
        return [
            Check(
                False,
                "access",
                detail + ": risky commands can never be approved",
                "set APPROVERS or ADMINS",
            )
        ]
    return [Check(True, "access", detail)]


def _cloud(settings: Settings) -> Check:
    if not settings.anthropic_api_key:
        return Check(
            True, "escalation", "local only (no ANTHROPIC_API_KEY): the cloud is never called"
        )
    if not settings.escalation_enabled:
        return Check(True, "escalation", "disabled by ESCALATION_ENABLED=false")
    cap = (
        f"${settings.daily_budget_usd:.2f}/day"
        if settings.daily_budget_usd is not None
        else "no daily cap"
    )
    return Check(
        True, "escalation", f"to {settings.claude_model} when local cannot finish ({cap})"
    )


def _heartbeat(settings: Settings) -> list[Check]:
    if settings.heartbeat_checks is None:
        return []
    from core.heartbeat import load_checks

    try:
        checks = load_checks(
            settings.heartbeat_checks,
            ollama_host=settings.ollama_host,
            models=(settings.planner_model, settings.executor_model),
        )
    except (OSError, ValueError, HearthError) as exc:
        return [
            Check(False, "heartbeat checks", str(exc), "fix the file named by HEARTBEAT_CHECKS")
        ]
    return [Check(True, "heartbeat checks", f"{settings.heartbeat_checks} ({len(checks)} checks)")]


async def _memory(settings: Settings) -> Check:
    from bot.memory_store import memory_store_for
    from core.clock import utc
    from core.memory import MemoryUnavailable, read_state

    store = memory_store_for(settings)
    try:
        entries = await store.count()
    except MemoryUnavailable as exc:
        return Check(
            False,
            "memory",
            f"the store at {settings.memory_dir} cannot be opened ({exc})",
            "make it writable, or move it aside to start an empty memory",
        )
    finally:
        await store.close()
    state = read_state(settings.memory_dir)
    detail = f"{entries} entries at {settings.memory_dir}"
    if state.get("last_error"):
        when = utc(float(state.get("error_at", 0))).strftime("%Y-%m-%d %H:%M UTC")
        if state.get("state") == "down":
            return Check(
                False,
                "memory",
                f"{detail}; unavailable (last error {when}): {state['last_error']}",
                f"check that Ollama serves EMBED_MODEL ({settings.embed_model})",
            )
        detail += f"; last error ({when}, recovered): {state['last_error']}"
    return Check(True, "memory", detail)


def _skills(settings: Settings) -> list[Check]:
    from core.skills.library import BUILTIN_DIR
    from core.skills.loader import scan

    folders = [(BUILTIN_DIR, "builtin"), (settings.data_dir / "skills", "data")]
    folders += [(d, "dir") for d in settings.skills_dirs]
    loaded = 0
    checks: list[Check] = []
    for folder, origin in folders:
        if origin == "dir" and not folder.is_dir():
            checks.append(Check(False, "skills", f"{folder} is not a folder", "fix SKILLS_DIRS"))
            continue
        skills, problems = scan(folder, origin)
        loaded += len(skills)
        checks += [
            Check(False, "skill", p.line(), "fix the file or remove it; it is skipped")
            for p in problems
        ]
    return [Check(True, "skills", f"{loaded} loaded"), *checks]


async def run_doctor(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = None
) -> list[Check]:
    """Every check, in order; a config error stops after the first line."""
    try:
        settings = Settings.load(environ, dotenv)
    except ConfigError as exc:
        return [
            Check(False, "config", str(exc), "edit .env or the environment (see .env.example)")
        ]
    checks = [Check(True, "config", "valid")]
    checks += [
        Check(False, "config", warning, "rename or remove it") for warning in settings.warnings
    ]
    checks.append(_writable("hearth_data_dir", settings.data_dir))
    checks.append(_writable("hearth_workspace", settings.workspace))
    checks += await _ollama(settings)
    checks += await _hardware(settings)
    checks += _platforms(settings)
    checks += _access(settings)
    checks.append(_cloud(settings))
    checks += _heartbeat(settings)
    checks.append(await _memory(settings))
    checks.append(_sandbox(settings))
    checks += _skills(settings)
    return checks


def _sandbox(settings: Settings) -> Check:
    from bot.sandboxing import build_sandbox

    sandbox = build_sandbox(settings)
    if sandbox.confines:
        return Check(True, "sandbox", sandbox.describe().removeprefix("sandbox: "))
    if sandbox.mode == "off":
        return Check(
            True,
            "sandbox",
            "TOOL_SANDBOX=off: low-risk commands run unconfined, the classifier alone decides",
            warn=True,
        )
    return Check(
        False,
        "sandbox",
        f"no OS sandbox ({sandbox.reason}): every shell command will need an approval",
        "install bubblewrap (apt-get install bubblewrap); in Docker keep the compose file's "
        "security_opt (seccomp and apparmor unconfined) so bwrap can start; or set "
        "TOOL_SANDBOX=off to accept classifier-only protection",
    )
