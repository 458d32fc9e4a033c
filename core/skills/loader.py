"""Loading skills from folders without running their code.

Code skills are read with ``ast``: the contract's names must be plain literals, so a skill's
metadata is known without executing the module in hearth's own process (it only ever runs in
the sandbox). Runbook skills are ``SKILL.md`` folders with YAML front matter. With ``verdicts``,
a text checked at an earlier start is not checked again (nor jsonschema and yaml imported).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from core.skills.api import NAME_PATTERN
from core.skills.model import CodeSkill, LoadProblem, RunbookSkill, Skill
from core.skills.verdicts import Verdicts

MAX_SOURCE = 200_000  # bytes; a skill is a small module
MAX_DESCRIPTION = 1024


class SkillLoadError(Exception):
    """A skill file that does not follow the contract."""


def scan(
    folder: Path, origin: str, verdicts: Verdicts | None = None
) -> tuple[list[Skill], list[LoadProblem]]:
    """Every skill directly in ``folder``: ``*.py`` modules and ``*/SKILL.md`` folders."""
    skills: list[Skill] = []
    problems: list[LoadProblem] = []
    if not folder.is_dir():
        return skills, problems
    for path in sorted(folder.iterdir()):
        try:
            if path.is_file() and path.suffix == ".py" and not path.name.startswith("_"):
                skills.append(load_code_skill(path, origin, verdicts))
            elif path.is_dir() and (path / "SKILL.md").is_file():
                skills.append(load_runbook(path, origin, verdicts))
        except (SkillLoadError, OSError, UnicodeDecodeError) as exc:
            problems.append(LoadProblem(path, str(exc)))
    return skills, problems


def load_code_skill(path: Path, origin: str, verdicts: Verdicts | None = None) -> CodeSkill:
    """Parse ``path`` and check the contract; raises SkillLoadError naming the problem."""
    if path.stat().st_size > MAX_SOURCE:
        raise SkillLoadError(f"too large (over {MAX_SOURCE} bytes)")
    source = path.read_text(encoding="utf-8")
    meta = parse_code_skill(source, str(path), verdicts)
    return CodeSkill(source=source, path=path, origin=origin, **meta)


def parse_code_skill(
    source: str, filename: str = "<skill>", verdicts: Verdicts | None = None
) -> dict[str, Any]:
    """name, description, params and examples of a skill module's source."""
    kept = verdicts.get("code", source) if verdicts is not None else None
    if kept is not None:
        verdict, value = kept
        if verdict == "error":
            raise SkillLoadError(value)
        return {**value, "examples": tuple(value["examples"])}
    try:
        meta = _parse_code_skill(source, filename)
    except SkillLoadError as exc:
        if verdicts is not None:
            verdicts.put("code", source, "error", str(exc))
        raise
    if verdicts is not None:
        verdicts.put("code", source, "ok", {**meta, "examples": list(meta["examples"])})
    return meta


def _parse_code_skill(source: str, filename: str) -> dict[str, Any]:
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise SkillLoadError(f"syntax error on line {exc.lineno}: {exc.msg}") from None
    values: dict[str, Any] = {}
    has_run = False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "run":
            has_run = True
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        for name in targets:
            if name in {"NAME", "DESCRIPTION", "PARAMS", "EXAMPLES"}:
                try:
                    values[name] = ast.literal_eval(node.value)  # type: ignore[arg-type]
                except ValueError:
                    raise SkillLoadError(f"{name} must be a plain literal") from None
    missing = [n for n in ("NAME", "DESCRIPTION", "PARAMS", "EXAMPLES") if n not in values]
    if missing:
        raise SkillLoadError(f"missing {', '.join(missing)}")
    if not has_run:
        raise SkillLoadError("missing a top-level def run(params)")
    name, description = values["NAME"], values["DESCRIPTION"]
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise SkillLoadError(f"NAME {name!r} must be lowercase letters, digits, _ or -")
    if not isinstance(description, str) or not description.strip():
        raise SkillLoadError("DESCRIPTION must be a non-empty string")
    params = values["PARAMS"]
    if not isinstance(params, dict) or params.get("type") != "object":
        raise SkillLoadError('PARAMS must be a JSON schema with "type": "object"')
    import jsonschema  # here: a kept verdict needs none of it

    try:
        jsonschema.Draft202012Validator.check_schema(params)
    except jsonschema.SchemaError as exc:
        raise SkillLoadError(f"PARAMS is not a valid JSON schema: {exc.message}") from None
    examples = values["EXAMPLES"]
    if not isinstance(examples, list | tuple) or not all(isinstance(e, str) for e in examples):
        raise SkillLoadError("EXAMPLES must be a list of strings")
    props = set(params.get("properties", {}))
    for example in examples:
        unknown = set(_placeholders(example)) - props
        if unknown:
            raise SkillLoadError(f"example {example!r} names unknown params {sorted(unknown)}")
    return {
        "name": name,
        "description": " ".join(description.split())[:MAX_DESCRIPTION],
        "params": params,
        "examples": tuple(examples),
    }


def _placeholders(example: str) -> list[str]:
    return re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", example)


def load_runbook(folder: Path, origin: str, verdicts: Verdicts | None = None) -> RunbookSkill:
    """A ``SKILL.md`` folder: front matter with name and description, then instructions."""
    text = (folder / "SKILL.md").read_text(encoding="utf-8")
    meta, body = split_front_matter(text, verdicts)
    name, description = meta.get("name"), meta.get("description")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise SkillLoadError(f"SKILL.md: name {name!r} must be lowercase letters, digits, _ or -")
    if not isinstance(description, str) or not description.strip():
        raise SkillLoadError("SKILL.md: front matter needs a description")
    if not body.strip():
        raise SkillLoadError("SKILL.md: no instructions after the front matter")
    scripts_dir = folder / "scripts"
    scripts = (
        tuple(
            p.relative_to(folder).as_posix() for p in sorted(scripts_dir.rglob("*")) if p.is_file()
        )
        if scripts_dir.is_dir()
        else ()
    )
    return RunbookSkill(
        name=name,
        description=" ".join(description.split())[:MAX_DESCRIPTION],
        body=body.strip(),
        path=folder,
        origin=origin,
        scripts=scripts,
    )


def split_front_matter(
    text: str, verdicts: Verdicts | None = None
) -> tuple[dict[str, Any], str]:
    """(YAML front matter, body) of a SKILL.md; raises SkillLoadError when malformed."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise SkillLoadError("SKILL.md: must start with a --- front matter block")
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            front = "".join(lines[1:i])
            kept = verdicts.get("front", front) if verdicts is not None else None
            if kept is None:
                try:
                    kept = ("ok", _front_matter(front))
                except SkillLoadError as exc:
                    kept = ("error", str(exc))
                if verdicts is not None:
                    verdicts.put("front", front, *kept)
            verdict, meta = kept
            if verdict == "error":
                raise SkillLoadError(meta)
            return meta, "".join(lines[i + 1 :])
    raise SkillLoadError("SKILL.md: front matter is not closed with ---")


def _front_matter(front: str) -> dict[str, Any]:
    import yaml  # here: a kept verdict needs none of it

    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as exc:
        raise SkillLoadError(f"SKILL.md: bad front matter: {_first_line(exc)}") from None
    if not isinstance(meta, dict):
        raise SkillLoadError("SKILL.md: front matter must be a mapping")
    return meta


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
