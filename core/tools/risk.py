"""Shell command risk: parse with bashlex and judge every simple command inside it.

Never substring matching on the raw text: the command is parsed, and each simple command found
in pipes, lists, subshells, ``$(…)``, functions, ``sh -c`` strings, ``xargs``/``sudo``/``env``
wrappers and ``find -exec`` is judged against the tables in ``risk_rules``. Anything that cannot
be parsed or understood is high risk (deny by default).
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import bashlex
import bashlex.errors

from core.tools import risk_rules as rules
from core.tools import risk_special
from core.tools.risk_words import (
    Word,
    after_options,
    option_value,
    positionals,
    short_flags,
    word_of,
)

log = logging.getLogger(__name__)

Level = Literal["low", "high", "blocked"]
_RANK: dict[str, int] = {"low": 0, "high": 1, "blocked": 2}
MAX_DEPTH = 6
MAX_CHARS = 20_000
_TRUSTED_BIN_DIRS = frozenset(
    ["/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin"]
)
_WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
_READ_REDIRECTS = frozenset({"<", "<&", "<<<"})
_PARSE_ERRORS = (
    bashlex.errors.ParsingError,
    NotImplementedError,
    ValueError,
    IndexError,
    AttributeError,
    TypeError,
    AssertionError,
    RecursionError,
)


@dataclass(frozen=True, slots=True)
class Risk:
    """How risky a command is: ``low`` runs, ``high`` asks an approver, ``blocked`` never runs."""

    level: Level
    reasons: tuple[str, ...] = ()

    @property
    def needs_approval(self) -> bool:
        """True when an approver must decide before it runs."""
        return self.level == "high"

    @property
    def blocked(self) -> bool:
        """True when the command is refused outright."""
        return self.level == "blocked"


def classify(command: str, *, workspace: Path | str | None = None) -> Risk:
    """Judge ``command``; with ``workspace``, writes are checked against that directory."""
    judge = Judge(Path(workspace) if workspace is not None else None)
    try:
        judge.script(command, 0)
    except Exception:  # a walker bug must deny (ask a human), never wave a command through
        log.exception("risk check failed for %.200r", command)
        judge.flag("high", "could not be checked")
    return judge.result()


class Judge:
    """Walks the parse trees of one command and accumulates the worst level seen."""

    def __init__(self, workspace: Path | None) -> None:
        self.ws = workspace.resolve() if workspace is not None else None
        self.level: Level = "low"
        self.reasons: list[str] = []
        self.cwd_moved = False  # a `cd` left the workspace: relative writes are not inside
        self.cwd: str | None = str(self.ws) if self.ws is not None else None  # after `cd`s
        self.functions: set[str] = set()

    def result(self) -> Risk:
        """The verdict so far."""
        return Risk(self.level, tuple(self.reasons) if self.level != "low" else ())

    def flag(self, level: Level, reason: str) -> None:
        """Raise the level to at least ``level`` and remember why."""
        if _RANK[level] > _RANK[self.level]:
            self.level = level
        if reason not in self.reasons:
            self.reasons.append(reason)

    # ---- parse tree walk -------------------------------------------------------------------

    def script(self, text: str, depth: int) -> None:
        """Parse and judge a whole command line (also ``sh -c`` strings, eval, traps)."""
        if depth > MAX_DEPTH:
            self.flag("high", "nested too deeply to check")
            return
        if not text.strip():
            return
        if "\x00" in text:
            self.flag("high", "contains a NUL byte")
            return
        if len(text) > MAX_CHARS:
            self.flag("high", f"longer than {MAX_CHARS} characters, too long to check")
            return
        try:
            trees = bashlex.parse(text)
        except _PARSE_ERRORS as exc:
            detail = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
            self.flag("high", f"could not be parsed, so it cannot be checked ({detail})")
            return
        for tree in trees:
            self.node(tree, depth)

    @staticmethod
    def _children(node: Any) -> list[Any]:
        out: list[Any] = []
        for attr in ("parts", "list", "redirects"):
            value = getattr(node, attr, None)
            if isinstance(value, list):
                out.extend(value)
        for attr in ("command", "output"):
            value = getattr(node, attr, None)
            if value is not None and hasattr(value, "kind"):
                out.append(value)
        return out

    def node(self, node: Any, depth: int) -> None:
        """Judge one parse-tree node and everything below it."""
        kind = node.kind
        if kind == "command":
            self.simple(node, depth)
            return
        if kind == "redirect":
            self.redirect(node, depth)
            return
        if kind == "function":
            self.function(node)
        elif kind == "pipeline":
            self.pipeline(node, depth)
        elif kind == "parameter" and ("$(" in node.value or "`" in node.value):
            self.flag("high", "command substitution inside ${…} cannot be checked")
        for child in self._children(node):
            self.node(child, depth)

    def simple(self, node: Any, depth: int) -> None:
        """A simple command: its words, assignments, redirections and substitutions."""
        words: list[Word] = []
        for part in node.parts:
            if part.kind == "word":
                words.append(word_of(part))
                for child in self._children(part):
                    self.node(child, depth)
            elif part.kind == "assignment":
                self.assignment(part.word)
                for child in self._children(part):
                    self.node(child, depth)
            else:
                self.node(part, depth)
        if words:
            self.argv(words, depth)

    def redirect(self, node: Any, depth: int) -> None:
        """Writes must stay in the workspace; reads must not touch secrets."""
        target = node.output
        if target is None or isinstance(target, int) or node.type in {"<<", "<<-"}:
            return
        for child in self._children(target):
            self.node(child, depth)
        word = word_of(target)
        if node.type in _WRITE_REDIRECTS:
            self.write_target(word, "redirect")
        elif node.type in _READ_REDIRECTS:
            self.sensitive([word])

    def function(self, node: Any) -> None:
        """Function definitions are high; one that spawns copies of itself is a fork bomb."""
        name = node.parts[0].word
        self.functions.add(name)  # calls after the definition run the function, not a command
        names: list[str] = []
        spawns = False

        def walk(n: Any) -> None:
            nonlocal spawns
            if n.kind == "command" and n.parts and n.parts[0].kind == "word":
                names.append(n.parts[0].word)
            if n.kind == "pipeline" or (n.kind == "operator" and n.op == "&"):
                spawns = True
            for child in self._children(n):
                walk(child)

        walk(node.parts[-1])
        if name in names and spawns:
            self.flag("blocked", f"fork bomb: function {name} spawns copies of itself")
        else:
            self.flag("high", f"defines a shell function ({name})")

    def pipeline(self, node: Any, depth: int) -> None:
        """Downloads piped into a shell, and static text piped into one."""
        commands = [p for p in node.parts if p.kind == "command"]
        seen: list[tuple[str, list[Word]]] = []
        for cmd in commands:
            words = [word_of(p) for p in cmd.parts if p.kind == "word"]
            name = posixpath.basename(words[0].text) if words else ""
            reads_stdin = name in rules.SHELLS and not any(
                w.text.startswith("-") and "c" in w.text[1:] for w in words[1:]
            )
            if seen and (reads_stdin or (name in rules.HIGH and "arbitrary" in rules.HIGH[name])):
                if any(prev in rules.DOWNLOADERS for prev, _ in seen):
                    self.flag("high", f"pipes a download into {name} (curl | sh)")
                for prev, prev_words in seen:
                    static = all(not w.dynamic for w in prev_words[1:])
                    if prev in {"echo", "printf"} and static and reads_stdin:
                        self.script(" ".join(w.text for w in prev_words[1:]), depth + 1)
            seen.append((name, words))

    # ---- simple commands ---------------------------------------------------------------------

    def assignment(self, text: str) -> None:
        """Assignments that change what later commands run or load."""
        name = text.split("=", 1)[0].rstrip("+")
        if name in rules.DANGEROUS_VARS or name.startswith(rules.DANGEROUS_VAR_PREFIXES):
            self.flag("high", f"sets {name}, which changes what commands run")

    def argv(self, words: Sequence[Word], depth: int) -> None:
        """Judge one command by its name, through the tables in risk_rules."""
        if depth > MAX_DEPTH:
            self.flag("high", "nested too deeply to check")
            return
        head, args = words[0], list(words[1:])
        if head.dynamic:
            self.flag("high", f"the command name is computed at run time ({head.text})")
            return
        text = head.text
        name = posixpath.basename(text) if "/" in text else text
        if "/" in text and posixpath.dirname(text) not in _TRUSTED_BIN_DIRS:
            self.flag("high", f"runs a program by path ({text})")
            return
        self.sensitive(args)
        if name in self.functions:
            return
        special = risk_special.SPECIAL.get(name)
        if special is not None:
            special(self, name, args, depth)
        elif name in rules.WRAPPERS:
            self.wrapper(name, args, depth)
        elif name in rules.SHELLS:
            self.shell(name, args, depth)
        elif name in rules.SUBCOMMANDS:
            self.subcommand(name, args)
        elif name in rules.OPTION_READ_ONLY:
            allowed, reason = rules.OPTION_READ_ONLY[name]
            if not any(w.text in allowed for w in args):
                self.flag("high", f"{reason} ({name})")
        elif name in rules.HIGH:
            self.high_command(name, args)
        elif name in rules.WORKSPACE_WRITERS:
            risk_special.writer(self, name, args)
        elif name.startswith("mkfs."):
            self.high_command("mkfs", args)
        elif name not in rules.READ_ONLY:
            self.flag("high", f"{name} is not a known read-only command")

    def sensitive(self, args: Sequence[Word]) -> None:
        """Arguments naming files that hold secrets."""
        for w in args:
            value = w.text.split("=", 1)[1] if w.text.startswith("-") and "=" in w.text else w.text
            if rules.SENSITIVE_READ.search(value):
                self.flag("high", f"touches a sensitive file ({value})")

    def high_command(self, name: str, args: list[Word]) -> None:
        """A command that is always risky, and the arguments that make it blocked."""
        self.flag("high", f"{rules.HIGH.get(name, 'formats disks')} ({name})")
        flags = short_flags(args)
        positional = positionals(args, frozenset())
        recursive = bool(flags & {"r", "R"}) or any(w.text == "--recursive" for w in args)
        if any(w.text == "--no-preserve-root" for w in args):
            self.flag("blocked", f"{name} --no-preserve-root")
        if name in {"rm", "chmod", "chown", "chgrp", "shred", "srm"} and recursive:
            for w in positional:
                if self.rootish(w):
                    self.flag("blocked", f"{name} -r on {w.text} would wreck the system")
        if name == "mv":
            for w in positional:
                if self.rootish(w):
                    self.flag("blocked", f"moves a system directory ({w.text})")
        if name == "dd":
            for w in args:
                if w.text.startswith("of="):
                    self.write_target(Word(w.text[3:], w.dynamic), "dd")
        if name in rules.DISK_TOOLS or name == "mkfs":
            for w in positional:
                if rules.DISK_DEVICE.match(w.text):
                    self.flag("blocked", f"formats or overwrites a disk ({name} {w.text})")

    def wrapper(self, name: str, args: list[Word], depth: int) -> None:
        """sudo, env-like wrappers, xargs, nohup…: judge the command they run."""
        with_value, skip, reason = rules.WRAPPERS[name]
        if reason:
            self.flag("high", reason)
        if name == "command" and any(w.text in {"-v", "-V"} for w in args):
            return
        if name == "flock":
            for value in option_value(args, frozenset({"-c", "--command"})):
                self.command_string(value, depth, name)
        rest = after_options(args, with_value)
        rest = rest[skip:]
        if rest:
            self.argv(rest, depth + 1)

    def shell(self, name: str, args: list[Word], depth: int) -> None:
        """A shell: ``-c`` strings are parsed; scripts and stdin are high."""
        i = 0
        while i < len(args):
            t = args[i].text
            if t in {"--version", "--help"}:
                return
            if t in {"-o", "+o", "-O", "+O"}:
                i += 2
                continue
            if t.startswith("-") and not t.startswith("--") and "c" in t[1:]:
                if i + 1 >= len(args):
                    self.flag("high", f"{name} -c without a command")
                else:
                    self.command_string(args[i + 1], depth, name)
                return
            if t.startswith(("-", "+")):
                i += 1
                continue
            self.flag("high", f"runs a script file ({name} {t})")
            return
        self.flag("high", f"runs commands read from standard input ({name})")

    def command_string(self, word: Word, depth: int, via: str) -> None:
        """A string that will run as a command line: judged unless built at run time."""
        if word.dynamic:
            self.flag("high", f"{via} runs a command string built at run time")
        else:
            self.script(word.text, depth + 1)

    def subcommand(self, name: str, args: list[Word]) -> None:
        """Tools with subcommands (git, docker, systemctl, package managers…)."""
        with_value, read_only, reason = rules.SUBCOMMANDS[name]
        if name == "git":
            self.git_globals(args)
        positional = positionals(args, with_value)
        if not positional:
            if name == "service":
                if any(w.text == "--status-all" for w in args):
                    return
            elif name == "systemctl" or any(
                w.text in {"--version", "-v", "-V", "--help", "help"} for w in args
            ):
                return
            self.flag("high", f"{reason} ({name})")
            return
        sub = positional[0].text
        if name == "service":
            # service NAME ACTION: only status is read-only.
            action = positional[1].text if len(positional) > 1 else ""
            if action != "status":
                self.flag("high", f"{reason} (service {sub} {action})".rstrip())
            return
        key = sub
        if sub in rules.SUBCOMMAND_GROUPS and name != "git" and len(positional) > 1:
            key = f"{sub}_{positional[1].text}"
        if key not in read_only or positional[0].dynamic:
            self.flag("high", f"{reason} ({name} {key.replace('_', ' ')})")
            return
        if name == "git":
            self.git_details(sub, args[args.index(positional[0]) + 1 :])

    def git_globals(self, args: list[Word]) -> None:
        """git options before the subcommand that run arbitrary programs."""
        for w in args:
            if w.text in {"-c", "--config-env", "--exec-path"} or w.text.startswith(
                ("--exec-path=", "--config-env=")
            ):
                self.flag("high", "git -c/--exec-path can make git run any command")
            if not w.text.startswith("-"):
                break

    def git_details(self, sub: str, rest: list[Word]) -> None:
        """Read-only git subcommands that become writes with certain arguments."""
        texts = {w.text for w in rest}
        positional = [w.text for w in rest if not w.text.startswith("-")]
        destructive = {
            "branch": {"-d", "-D", "--delete", "-m", "-M", "--move", "-f", "--force", "-c", "-C"},
            "tag": {"-d", "--delete", "-f", "--force"},
        }
        if texts & destructive.get(sub, set()):
            self.flag("high", f"changes the repository (git {sub} {sorted(texts)[0]})")
        writes_sub = {
            "remote": {"add", "remove", "rm", "rename", "set-url", "prune", "set-head"},
            "stash": {"push", "pop", "drop", "clear", "apply", "save", "branch"},
            "worktree": {"add", "remove", "prune", "move"},
            "reflog": {"expire", "delete"},
        }
        if positional and positional[0] in writes_sub.get(sub, set()):
            self.flag("high", f"changes the repository (git {sub} {positional[0]})")
        if sub == "stash" and not positional:
            self.flag("high", "changes the working tree (git stash)")
        if sub == "config" and not texts & {"--get", "--get-all", "--get-regexp", "--list", "-l"}:
            self.flag("high", "changes git configuration (git config)")
        for value in option_value(rest, frozenset({"--output", "-o"})):
            if sub in {"diff", "log", "show", "format-patch"}:
                self.write_target(value, f"git {sub}")

    # ---- files -------------------------------------------------------------------------------

    def outside(self, text: str) -> bool:
        """True when a path written relative to the current directory leaves the workspace."""
        if self.cwd_moved or text.startswith("~"):
            return True
        if self.ws is None:
            return text.startswith("/") or ".." in PurePosixPath(text).parts
        target = (self.ws / text).resolve(strict=False)
        return not target.is_relative_to(self.ws)

    def rootish(self, w: Word) -> bool:
        """True for /, home and top-level system directories (also via globs and ..)."""
        t = w.text
        home = {"~", "~/", "~/*", "$HOME", "${HOME}", "$HOME/", "${HOME}/", "$HOME/*", "${HOME}/*"}
        if t in home:
            return True
        if w.dynamic:
            return False
        base = "." if t in {"*", ".*"} else t[:-1] if t.endswith("/*") else t
        base = base or "/"
        if base.startswith("/"):
            norm = posixpath.normpath(base)
        elif self.cwd is not None:
            norm = posixpath.normpath(posixpath.join(self.cwd, base))
        else:
            return False
        norm = "/" if norm.startswith("//") and not norm.strip("/") else norm
        return norm in rules.SYSTEM_DIRS

    def write_target(self, w: Word, via: str) -> None:
        """Judge a path something writes to."""
        t = w.text
        if t == "-" or (not w.dynamic and t in rules.HARMLESS_DEVICES):
            return
        if re.fullmatch(r"/dev/fd/\d+|/proc/self/fd/\d+", t):
            return
        if w.dynamic:
            self.flag("high", f"writes to a path computed at run time ({via} {t})")
        elif rules.DISK_DEVICE.match(t):
            self.flag("blocked", f"overwrites a disk device ({via} {t})")
        elif t.startswith("/dev/"):
            self.flag("high", f"writes to a device ({via} {t})")
        elif self.outside(t):
            self.flag("high", f"writes outside the workspace ({via} {t})")
        elif ".git" in PurePosixPath(t).parts:
            self.flag("high", f"writes into .git/, where hooks and config run commands ({t})")
