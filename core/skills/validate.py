"""Checks a generated code skill must pass before a human sees it.

Static: the module parses and defines the contract; it imports only allowed modules
(SKILL_ALLOWED_IMPORTS; ``subprocess`` only with SKILL_ALLOW_SUBPROCESS) and calls none of the
process-starting or code-loading functions; its top level holds only definitions and
constants. Dynamic: each example, filled with the params' sample values, is matched back to
the skill and run in the sandbox without a crash, an exception or a timeout.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.skills.loader import SkillLoadError, parse_code_skill
from core.skills.matching import match_example
from core.skills.model import CodeSkill
from core.skills.runner import SkillRunner

# The standard library's modules a skill may use: no process control, no code loading, no
# low-level memory or interpreter access.
SAFE_STDLIB = (
    *("__future__", "base64", "bisect", "calendar", "collections", "csv", "dataclasses"),
    *("datetime", "decimal", "difflib", "enum", "fnmatch", "fractions", "functools", "glob"),
    *("hashlib", "heapq", "hmac", "html", "http", "ipaddress", "itertools", "json", "math"),
    *("operator", "os", "pathlib", "platform", "random", "re", "secrets", "shlex", "socket"),
    *("ssl", "statistics", "string", "struct", "textwrap", "time", "typing", "unicodedata"),
    *("urllib", "uuid", "zoneinfo"),
)
DEFAULT_ALLOWED = (*SAFE_STDLIB, "httpx", "psutil", "core.skills.api")
# Functions that start processes or load code, whatever module they come through.
_FORBIDDEN_ATTRS = {
    "os": {
        "system",
        "popen",
        "fork",
        "forkpty",
        "kill",
        "killpg",
        "execv",
        "execve",
        "execl",
        "execle",
        "execlp",
        "execlpe",
        "execvp",
        "execvpe",
        "spawnl",
        "spawnle",
        "spawnlp",
        "spawnlpe",
        "spawnv",
        "spawnve",
        "spawnvp",
        "spawnvpe",
        "posix_spawn",
        "posix_spawnp",
        "setuid",
        "setgid",
        "chroot",
    },
}
_FORBIDDEN_NAMES = {"eval", "exec", "compile", "__import__", "breakpoint", "globals", "vars"}
_PURE_CALLS = {"frozenset", "set", "tuple", "list", "dict", "re.compile", "int", "float", "str"}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of the checks: problems (empty = passed), warnings, and the dry runs."""

    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    dry_runs: tuple[str, ...] = field(default=())  # "example → result" lines for the review

    @property
    def passed(self) -> bool:
        """True when nothing blocks the review."""
        return not self.problems


def static_problems(
    source: str, *, allowed: Iterable[str] = DEFAULT_ALLOWED, allow_subprocess: bool = False
) -> list[str]:
    """Everything wrong with ``source`` that can be seen without running it."""
    try:
        parse_code_skill(source)
    except SkillLoadError as exc:
        return [str(exc)]
    tree = ast.parse(source)
    allow = set(allowed) | ({"subprocess"} if allow_subprocess else set())
    problems: list[str] = []
    for node in ast.walk(tree):
        for module, line in _imported(node):
            if not _allowed(module, allow):
                why = " (set SKILL_ALLOW_SUBPROCESS=true)" if module == "subprocess" else ""
                problems.append(f"line {line}: imports {module}, which is not allowed{why}")
        if isinstance(node, ast.ImportFrom) and node.module in _FORBIDDEN_ATTRS:
            for alias in node.names:
                if alias.name in _FORBIDDEN_ATTRS[node.module]:
                    problems.append(f"line {node.lineno}: imports {node.module}.{alias.name}")
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.attr in _FORBIDDEN_ATTRS.get(node.value.id, ())
        ):
            problems.append(f"line {node.lineno}: uses {node.value.id}.{node.attr}")
        if isinstance(node, ast.Name) and node.id in _FORBIDDEN_NAMES:
            problems.append(f"line {node.lineno}: uses {node.id}")
    problems += _top_level_problems(tree)
    return list(dict.fromkeys(problems))


def _imported(node: ast.AST) -> list[tuple[str, int]]:
    if isinstance(node, ast.Import):
        return [(alias.name, node.lineno) for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return [("." * node.level + (node.module or ""), node.lineno)]
        return [(node.module or "", node.lineno)]
    return []


def _allowed(module: str, allow: set[str]) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:i]) in allow for i in range(1, len(parts) + 1))


def _top_level_problems(tree: ast.Module) -> list[str]:
    """Only docstrings, imports, definitions and constants may sit at module level."""
    problems = []
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(
            node,
            ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        ):
            continue
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if value is not None and _constant(value):
            continue
        problems.append(
            f"line {node.lineno}: top-level code ({type(node).__name__}); only definitions and "
            "constants may sit at module level"
        )
    return problems


def _constant(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            name = ast.unparse(sub.func)
            if name not in _PURE_CALLS:
                return False
        elif isinstance(sub, ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield):
            return False
    return True


def sample_params(skill: CodeSkill) -> dict[str, Any]:
    """A value for each param: its schema's first ``examples`` entry, else its default."""
    out: dict[str, Any] = {}
    for name, spec in skill.params.get("properties", {}).items():
        if isinstance(spec.get("examples"), list) and spec["examples"]:
            out[name] = spec["examples"][0]
        elif "default" in spec:
            out[name] = spec["default"]
    return out


async def dry_run(skill: CodeSkill, runner: SkillRunner) -> Verdict:
    """Fill each example with sample values, match it back, run it; errors are problems."""
    samples = sample_params(skill)
    problems: list[str] = []
    warnings: list[str] = []
    lines: list[str] = []
    for example in skill.examples:
        request = example
        for name, value in samples.items():
            request = request.replace("{" + name + "}", str(value))
        if "{" in request and "}" in request:
            problems.append(f"example {example!r}: a param has no sample value (add examples)")
            continue
        score, params = match_example(request, example, skill)
        if score < 1.0:
            problems.append(f"example {example!r} does not match its own sample {request!r}")
            continue
        outcome = await runner.run(skill, params)
        first = outcome.text.strip().splitlines()[0][:160] if outcome.text.strip() else ""
        lines.append(f"{request} → {'ok' if outcome.ok else 'not ok'}: {first}")
        if outcome.error:
            problems.append(f"example {request!r}: {outcome.text}")
        elif not outcome.ok:
            warnings.append(f"example {request!r} answered not-ok: {first}")
    return Verdict(tuple(problems), tuple(warnings), tuple(lines))


async def validate(
    source: str,
    runner: SkillRunner,
    *,
    allowed: Iterable[str] = DEFAULT_ALLOWED,
    allow_subprocess: bool = False,
) -> tuple[CodeSkill | None, Verdict]:
    """Every check in order; the skill (for the review) when the static checks pass."""
    problems = static_problems(source, allowed=allowed, allow_subprocess=allow_subprocess)
    if problems:
        return None, Verdict(tuple(problems))
    meta = parse_code_skill(source)
    if not 2 <= len(meta["examples"]) <= 5:
        return None, Verdict((f"EXAMPLES has {len(meta['examples'])} entries; give 2 to 5",))
    skill = CodeSkill(
        source=source, path=Path(f"<generated {meta['name']}>"), origin="generated", **meta
    )
    return skill, await dry_run(skill, runner)
