"""The workspace's git status."""

from __future__ import annotations

import subprocess
from pathlib import Path

from core.skills.api import SkillResult, fail, ok

NAME = "git_status"
DESCRIPTION = "Git status of the workspace (or a repository in it): branch, ahead/behind, changes."
PARAMS = {
    "type": "object",
    "properties": {
        "path": {
            "type": "string",
            "description": "repository path, relative to the workspace",
            "pattern": r"^[\w./~-]+$",
        },
    },
}
EXAMPLES = [
    "git status",
    "what changed in the repo",
    "show the git status of the workspace",
    "are there uncommitted changes",
    "git status of {path}",
]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"git {args[0]} failed")
    return done.stdout


def run(params: dict) -> SkillResult:
    repo = Path(params.get("path") or ".")
    try:
        top = _git(repo, "rev-parse", "--show-toplevel").strip()
        status = _git(repo, "status", "--porcelain=v2", "--branch")
    except FileNotFoundError:
        return fail("git is not installed")
    except RuntimeError as exc:
        return fail(f"{repo} is not a git repository ({exc})")
    branch, upstream, ab = "(detached)", "", ""
    staged, changed, untracked, conflicts = [], [], [], []
    for line in status.splitlines():
        if line.startswith("# branch.head "):
            branch = line.split(" ", 2)[2]
        elif line.startswith("# branch.upstream "):
            upstream = line.split(" ", 2)[2]
        elif line.startswith("# branch.ab "):
            ahead, behind = line.split(" ")[2:4]
            ab = f"ahead {ahead.lstrip('+')}, behind {behind.lstrip('-')}"
        elif line.startswith(("1 ", "2 ")):
            fields = line.split(" ")
            xy, path = fields[1], line.split(" ", 8 if line[0] == "1" else 9)[-1]
            if xy[0] != ".":
                staged.append(path.split("\t")[0])
            if xy[1] != ".":
                changed.append(path.split("\t")[0])
        elif line.startswith("u "):
            conflicts.append(line.split(" ")[-1])
        elif line.startswith("? "):
            untracked.append(line[2:])
    try:
        last = _git(repo, "log", "-1", "--format=%h %s (%cr, %an)").strip()
    except RuntimeError:
        last = "no commits yet"
    lines = [f"📁 {top} on `{branch}`" + (f" → {upstream} ({ab})" if upstream else "")]
    lines.append(f"last commit: {last}")
    if not (staged or changed or untracked or conflicts):
        lines.append("✅ working tree clean")
    for label, files in (
        ("conflicts", conflicts),
        ("staged", staged),
        ("modified", changed),
        ("untracked", untracked),
    ):
        if files:
            shown = ", ".join(files[:10]) + (f" … (+{len(files) - 10})" if len(files) > 10 else "")
            lines.append(f"{label} ({len(files)}): {shown}")
    return ok("\n".join(lines))
