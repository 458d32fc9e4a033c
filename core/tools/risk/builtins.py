"""Risk checks for shell builtins: assignments, directory changes, hashing, eval and traps.

Builtins that assign variables, change ``PATH``, hash commands or evaluate array subscripts
are high: they change what later commands run, which no later check can see.
"""

from __future__ import annotations

import posixpath

from core.tools.risk.verdict import Judge
from core.tools.risk.words import NAME_ASSIGN, Word, positionals


def env(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """env: judge its assignments and the command it runs (also ``-S`` strings)."""
    i = 0
    while i < len(args):
        w = args[i]
        t = w.text
        if t in {"-S", "--split-string"} or t.startswith(("-S", "--split-string=")):
            value = (
                args[i + 1]
                if t in {"-S", "--split-string"} and i + 1 < len(args)
                else (Word(t.split("=", 1)[1] if "=" in t else t[2:], w.dynamic))
            )
            rest = " ".join(
                x.text for x in args[i + 2 if t in {"-S", "--split-string"} else i + 1 :]
            )
            j.command_string(Word(f"{value.text} {rest}".strip(), value.dynamic), depth, "env -S")
            return
        if t in {"-u", "--unset"}:
            i += 2
            continue
        if t in {"-C", "--chdir"}:
            if i + 1 < len(args):
                cd(j, "cd", [args[i + 1]], depth)
            i += 2
            continue
        if t.startswith("-") and len(t) > 1:
            i += 1
            continue
        if NAME_ASSIGN.match(t):
            j.assignment(t)
            i += 1
            continue
        break
    if args[i:]:
        j.argv(args[i:], depth + 1)


def eval_command(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """eval: the joined arguments are a command line of their own."""
    if any(w.dynamic for w in args):
        j.flag("high", "eval of a command built at run time")
    else:
        j.script(" ".join(w.text for w in args), depth + 1)


def trap(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """trap: the handler string is a command line of its own."""
    positional = positionals(args, frozenset())
    if positional:
        j.command_string(positional[0], depth, "trap")


def cd(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """cd/pushd: track the directory so relative writes and deletions resolve correctly."""
    positional = positionals(args, frozenset())
    target = positional[0] if positional else Word("~")
    if target.dynamic or target.text in {"-", "~"} or j.outside(target.text):
        j.cwd_moved = True
    if target.dynamic or target.text.startswith(("~", "-")):
        j.cwd = None  # unknown from here on
    elif target.text.startswith("/"):
        j.cwd = posixpath.normpath(target.text)
    elif j.cwd is not None:
        j.cwd = posixpath.normpath(posixpath.join(j.cwd, target.text))


def declare(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """declare/export/local/readonly/typeset: listing is low; assigning anything is high."""
    names = positionals(args, frozenset())
    for w in names:
        if NAME_ASSIGN.match(w.text):
            j.assignment(w.text)
    if names:
        j.flag("high", f"assigns or changes shell variables ({name})")


def export(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """export: assignments, like declare."""
    declare(j, name, args, depth)


def hash_builtin(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """hash NAME or hash -p PATH NAME: later commands of that name run another program."""
    if positionals(args, frozenset()):
        j.flag("high", "hash makes a command name run a program of its choosing (hash)")


def printf_builtin(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """printf -v assigns the output to a variable (and evaluates a subscript in it)."""
    for w in args:
        if w.text == "--" or not w.text.startswith("-"):
            break
        if w.text.startswith("-v"):
            j.flag("high", "printf -v assigns a variable")


def test_builtin(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """test -v and -R evaluate an array subscript, which can run a command substitution."""
    if any(w.text in {"-v", "-R"} for w in args):
        j.flag("high", f"{name} -v evaluates an array subscript, which can run commands")


def unset_builtin(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """unset 'a[$(…)]' evaluates the subscript."""
    if any("[" in w.text for w in args):
        j.flag("high", "unset evaluates an array subscript, which can run commands")
