"""Tools judged by subcommand (git, docker, kubectl, systemctl, package managers…)."""

from __future__ import annotations

from core.tools.risk import checks, rules
from core.tools.risk.git_options import GIT, GIT_GLOBAL
from core.tools.risk.options import NO_OPTIONS, option_problems
from core.tools.risk.tool_options import TOOLS
from core.tools.risk.verdict import Judge
from core.tools.risk.words import Word, positionals


def subcommand(j: Judge, name: str, args: list[Word]) -> None:
    """Tools with subcommands (git, docker, systemctl, package managers…)."""
    with_value, read_only, reason = rules.SUBCOMMANDS[name]
    for w in args:
        key = w.text.split("=", 1)[0]
        if key in rules.CONFIG_OPTIONS.get(name, ()):
            j.flag("high", f"{name} {key} loads a config that can run programs")
    positional = positionals(args, with_value)
    tool = TOOLS.get(name)
    if name == "git":
        git_globals(j, args[: args.index(positional[0])] if positional else args)
    elif tool is not None:
        before = args[: _index(args, positional[0])] if positional else args
        for problem in option_problems(name, _pairs(before), tool.before):
            j.flag("high", problem)
    if not positional:
        if name == "service":
            if any(w.text == "--status-all" for w in args):
                return
        elif name == "systemctl" or any(
            w.text in {"--version", "-v", "-V", "--help", "help"} for w in args
        ):
            return
        j.flag("high", f"{reason} ({name})")
        return
    sub = positional[0].text
    if name == "service":
        # service NAME ACTION: only status is read-only.
        action = positional[1].text if len(positional) > 1 else ""
        if action != "status":
            j.flag("high", f"{reason} (service {sub} {action})".rstrip())
        return
    key = sub
    if sub in rules.SUBCOMMAND_GROUPS and name != "git" and len(positional) > 1:
        key = f"{sub}_{positional[1].text}"
    if key not in read_only or positional[0].dynamic:
        j.flag("high", f"{reason} ({name} {key.replace('_', ' ')})")
        return
    if tool is not None:
        # Everything after the (first) subcommand word: for groups (`docker compose -f x ps`)
        # the group's own options and the subcommand's, which that key's list holds.
        rest = args[_index(args, positional[0]) + 1 :]
        spec = tool.after.get(key, NO_OPTIONS)
        for problem in option_problems(f"{name} {key.replace('_', ' ')}", _pairs(rest), spec):
            j.flag("high", problem)
    if name == "git":
        rest = args[args.index(positional[0]) + 1 :]
        spec = GIT.get(sub, NO_OPTIONS)
        for problem in option_problems(f"git {sub}", [(w.text, w.dynamic) for w in rest], spec):
            j.flag("high", problem)
        checks.git_details(j, sub, rest)


def git_globals(j: Judge, args: list[Word]) -> None:
    """git options before the subcommand: only known-safe ones; some run any program."""
    for w in args:
        key = w.text.split("=", 1)[0]
        if key in {"-c", "--config-env", "--exec-path"}:
            j.flag("high", "git -c/--config-env/--exec-path can make git run any command")
        elif key in {"--git-dir", "--work-tree"}:
            j.flag(
                "high",
                f"git {key} points at a repository whose config and hooks can run commands",
            )
    for problem in option_problems("git", [(w.text, w.dynamic) for w in args], GIT_GLOBAL):
        j.flag("high", problem)


def _index(args: list[Word], word: Word) -> int:
    """Where ``word`` (one of ``args``, not merely an equal one) sits in ``args``."""
    return next(i for i, w in enumerate(args) if w is word)


def _pairs(args: list[Word]) -> list[tuple[str, bool]]:
    return [(w.text, w.dynamic) for w in args]
