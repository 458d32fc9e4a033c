"""The dependency rule of ARCHITECTURE.md §1, enforced by scanning imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAT_SDKS = {"slack_bolt", "slack_sdk", "discord", "nio"}
LLM_SDKS = {"ollama", "anthropic"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _top(name: str) -> str:
    return name.split(".")[0]


def _violations(package: str, rule) -> list[str]:
    out = []
    for path in _modules(package):
        rel = path.relative_to(ROOT)
        for name in sorted(_imports(path)):
            problem = rule(rel, name)
            if problem:
                out.append(f"{rel}: imports {name} ({problem})")
    return out


def _core_rule(rel: Path, name: str) -> str | None:
    top = _top(name)
    if top in {"adapters", "bot"}:
        return "core must not import adapters/ or bot/"
    if top in CHAT_SDKS:
        return "core must not import a chat SDK"
    if top in LLM_SDKS and rel.parts[:2] != ("core", "llm"):
        return "LLM SDKs belong in core/llm/"
    if top == "chromadb" and rel.as_posix() != "core/memory.py":
        return "chromadb belongs in core/memory.py"
    if top == "aiosqlite" and rel.parts[:2] != ("core", "storage"):
        return "aiosqlite belongs in core/storage/"
    if top == "apscheduler" and rel.as_posix() != "core/scheduler.py":
        return "apscheduler belongs in core/scheduler.py"
    if top == "PIL" and rel.as_posix() != "core/heartbeat/chart.py":
        return "Pillow belongs in core/heartbeat/chart.py (drawn only for a digest)"
    return None


def _adapter_rule(rel: Path, name: str) -> str | None:
    own = rel.parts[1] if len(rel.parts) > 2 else None
    parts = name.split(".")
    if parts[0] == "bot":
        return "adapters must not import bot/"
    if parts[0] == "adapters" and len(parts) > 1 and parts[1] != own:
        return "adapters never import each other"
    sdk_owner = {
        "slack_bolt": "slack",
        "slack_sdk": "slack",
        "discord": "discord",
        "nio": "matrix",
    }
    if parts[0] in sdk_owner and sdk_owner[parts[0]] != own:
        return f"{parts[0]} belongs in adapters/{sdk_owner[parts[0]]}/"
    if parts[0] in LLM_SDKS | {"aiosqlite", "chromadb", "apscheduler"}:
        return "adapters use core ports, not core's backends"
    if name.startswith(("core.storage", "core.team")):
        return "adapters use core ports, never stores or the access roster"
    return None


def _skills_rule(rel: Path, name: str) -> str | None:
    top = _top(name)
    if top in {"httpx", "__future__"} or name == "core.skills.api":
        return None
    import sys

    if top in sys.stdlib_module_names:
        return None
    return "skills import only the standard library, httpx and core.skills.api"


def _env_rule(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if "os.environ" in text or "os.getenv" in text:
        return [f"{path.relative_to(ROOT)} reads the environment (only bot/config.py may)"]
    return []


@pytest.mark.parametrize(
    ("package", "rule"),
    [("core", _core_rule), ("adapters", _adapter_rule), ("skills", _skills_rule)],
)
def test_dependency_rule(package, rule) -> None:
    assert _violations(package, rule) == []


def test_only_config_reads_environment() -> None:
    problems = []
    for package in ("core", "adapters", "skills", "bot"):
        for path in _modules(package):
            if path.relative_to(ROOT).as_posix() != "bot/config.py":
                problems += _env_rule(path)
    assert problems == []


def test_rule_catches_a_violation() -> None:
    """The scanner itself works: a core module importing an adapter is reported."""
    assert _core_rule(Path("core/x.py"), "adapters.slack.adapter")
    assert _core_rule(Path("core/x.py"), "discord")
    assert _adapter_rule(Path("adapters/slack/adapter.py"), "adapters.discord")
    assert _adapter_rule(Path("adapters/slack/adapter.py"), "slack_bolt") is None
    assert _adapter_rule(Path("adapters/slack/adapter.py"), "core.team.roster")
