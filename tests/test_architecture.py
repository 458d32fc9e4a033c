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
    if top == "chromadb" and rel.parts[:2] != ("core", "memory"):
        return "chromadb belongs in core/memory/"
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
    if top in {"httpx", "psutil", "__future__"} or name == "core.skills.api":
        return None
    import sys

    if top in sys.stdlib_module_names:
        return None
    return "skills import only the standard library, httpx, psutil and core.skills.api"


# What runs inside the sandboxed child: the contract and the entry point stay standard-library.
_CHILD_SIDE = {"core/skills/api.py", "core/skills/child.py", "core/skills/__init__.py"}


def _core_skills_rule(rel: Path, name: str) -> str | None:
    import sys

    if rel.as_posix() in _CHILD_SIDE:
        if _top(name) in sys.stdlib_module_names or name == "core.skills.api":
            return None
        return "the skill contract and child entry point import only the standard library"
    if name == "subprocess" or name.startswith("asyncio.subprocess"):
        return "skills start processes only through the sandbox (core/tools/sandbox.py)"
    if name.startswith("core.agent") and name != "core.agent.metered":
        # The factory meters its model calls like the agent does; nothing else of the agent.
        return "the skill library does not depend on the agent (it wraps it as a TaskRunner)"
    return None


def _agent_rule(rel: Path, name: str) -> str | None:
    if name.startswith("core.skills"):
        return "the agent sees runbooks through its Runbooks protocol, not the skill library"
    return None


def _env_rule(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if "os.environ" in text or "os.getenv" in text:
        return [f"{path.relative_to(ROOT)} reads the environment (only bot/config.py may)"]
    return []


@pytest.mark.parametrize(
    ("package", "rule"),
    [
        ("core", _core_rule),
        ("adapters", _adapter_rule),
        ("skills", _skills_rule),
        ("core/skills", _core_skills_rule),
        ("core/agent", _agent_rule),
    ],
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
    assert _skills_rule(Path("skills/x.py"), "core.tools.shell")
    assert _skills_rule(Path("skills/x.py"), "psutil") is None
    assert _core_skills_rule(Path("core/skills/child.py"), "jsonschema")
    assert _core_skills_rule(Path("core/skills/runner.py"), "subprocess")
    assert _agent_rule(Path("core/agent/runner.py"), "core.skills.library")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _package_graph(package: str) -> dict[str, set[str]]:
    """Imports between the modules of one package (``from pkg import mod`` counts as mod)."""
    modules = {_module_name(p): p for p in _modules(package.replace(".", "/"))}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = [f"{node.module}.{a.name}" for a in node.names]
                # `from pkg import mod` loads mod (pkg is already being imported); any other
                # name comes from pkg's face.
                targets = subs if all(t in modules for t in subs) else [node.module, *subs]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle, or [] when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


@pytest.mark.parametrize(
    "package",
    [
        "core.tools.risk",
        "core.approvals",
        "core.tools",
        "core.heartbeat.probes",
        "adapters.discord",
        "adapters.slack",
        "adapters.console",
        "adapters.matrix",
        "bot",
    ],
)
def test_no_import_loops_inside_packages(package: str) -> None:
    """Not even under TYPE_CHECKING: risk.py and risk_special.py once imported each other."""
    assert _cycle(_package_graph(package)) == []


def test_cycle_finder_finds_a_loop() -> None:
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_adapters_take_only_the_neutral_approval_pieces() -> None:
    """Adapters may use the prompt's words and the payload codec, never the broker or stores."""
    allowed = {"prompt", "payload"}
    problems = []
    for path in _modules("adapters"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "core.approvals":
                problems += [a.name for a in node.names if a.name not in allowed]
            elif (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith(("core.approvals.", "core.storage"))
                and node.module not in {"core.approvals.prompt", "core.approvals.payload"}
            ):
                problems.append(f"{path.relative_to(ROOT)}: {node.module}")
    assert problems == []


_SPAWNERS = (
    "create_subprocess_",
    "subprocess.",
    "os.system(",
    "os.fork(",
    "os.exec",
    "os.posix_spawn",
)
_MAY_SPAWN = {
    "core/tools/process.py",
    "core/tools/sandbox.py",
    # A skill runs only inside the sandboxed child (core/skills/runner.py → the sandbox), so
    # the git it starts is confined with it.
    "skills/git_status.py",
}


def test_only_the_sandbox_starts_processes() -> None:
    """Every tool, check and skill process goes through core/tools/sandbox.py."""
    problems = []
    for package in ("core", "adapters", "skills"):
        for path in _modules(package):
            rel = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            if rel not in _MAY_SPAWN and any(s in text for s in _SPAWNERS):
                problems.append(f"{rel} starts a process itself (use core.tools.sandbox)")
    assert problems == []
