"""The walker: parse a command line with bashlex and judge every simple command inside it.

Never substring matching on the raw text: the command is parsed, and each simple command found
in pipes, lists, subshells, ``$(…)``, functions, ``sh -c`` strings, ``xargs``/``sudo``/``env``
wrappers and ``find -exec`` is judged against the tables in ``rules`` and the option
allow-lists in ``options``. Anything that cannot be parsed or understood is high risk.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import bracex

from core.tools.risk import bashparse, checks, plain, rules, subcommands
from core.tools.risk.endless import never_ending
from core.tools.risk.options import NO_OPTIONS, option_problems
from core.tools.risk.safe_options import OPTIONS
from core.tools.risk.verdict import Verdict
from core.tools.risk.words import Word, after_options, option_value, unquoted_brace, word_of

MAX_DEPTH = 6
MAX_CHARS = 20_000
MAX_BRACE_WORDS = 64
_TRUSTED_BIN_DIRS = frozenset(
    ["/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin", "/usr/local/sbin"]
)
_WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
_READ_REDIRECTS = frozenset({"<", "<&", "<<<"})
PARSE_ERRORS = (
    bashparse.ParseError,
    NotImplementedError,
    ValueError,
    IndexError,
    AttributeError,
    TypeError,
    AssertionError,
    RecursionError,
)


class Walker(Verdict):
    """Walks the parse trees of one command and accumulates the worst level seen."""

    def __init__(self, workspace: Path | None, *, fast: bool = True) -> None:
        super().__init__()
        self.fast = fast  # plain lines skip bashlex (plain.parse builds the same trees)
        self.ws = workspace.resolve() if workspace is not None else None
        self.cwd_moved = False  # a `cd` left the workspace: relative writes are not inside
        self.cwd: str | None = str(self.ws) if self.ws is not None else None  # after `cd`s
        self.links_made = False  # a step may have made symlinks that later writes go through
        self.functions: set[str] = set()
        self._source = ""

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
            trees = (plain.parse(text) if self.fast else None) or bashparse.parse(text)
        except PARSE_ERRORS as exc:
            detail = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
            self.flag("high", f"could not be parsed, so it cannot be checked ({detail})")
            return
        outer, self._source = self._source, text
        try:
            for tree in trees:
                self.node(tree, depth)
        finally:
            self._source = outer

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

    def words_of(self, part: Any) -> list[Word]:
        """The words one word node becomes: brace expansions are expanded, each judged."""
        word = word_of(part)
        start, end = getattr(part, "pos", (0, 0))
        raw = self._source[start:end] if end > start else part.word
        if not unquoted_brace(raw):
            return [word]
        if word.dynamic:
            self.flag("high", f"a brace expansion of a value known only at run time ({raw})")
            return [word]
        try:
            expanded = bracex.expand(word.text, limit=MAX_BRACE_WORDS)
        except Exception:  # over the limit, or a form bracex does not take: cannot be known
            self.flag("high", f"a brace expansion too large to check ({raw[:60]})")
            return [word]
        return [Word(text) for text in expanded]

    def simple(self, node: Any, depth: int) -> None:
        """A simple command: its words, assignments, redirections and substitutions."""
        words: list[Word] = []
        for part in node.parts:
            if part.kind == "word":
                words.extend(self.words_of(part))
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
        if "[" in name:
            self.flag("high", f"assigns an array element, whose subscript is evaluated ({name})")
        if name in rules.DANGEROUS_VARS or name.startswith(rules.DANGEROUS_VAR_PREFIXES):
            self.flag("high", f"sets {name}, which changes what commands run")

    def argv(self, words: Sequence[Word], depth: int) -> None:
        """Judge one command by its name, through the tables in rules and options."""
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
            self.flag("high", f"runs a program by path ({text}), whatever its name")
            return
        self.sensitive(args)
        if name in self.functions:
            return
        hint = never_ending(name, [w.text for w in args])
        if hint is not None:
            self.flag("blocked", hint)
            return
        if name in rules.ALLOW_LISTED:
            self.options(name, args)
        special = checks.SPECIAL.get(name)
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
            checks.writer(self, name, args)
        elif name.startswith("mkfs."):
            self.high_command("mkfs", args)
        elif name not in rules.READ_ONLY:
            self.flag("high", f"{name} is not a known read-only command")

    def options(self, name: str, args: Sequence[Word]) -> None:
        """Every option must be on the command's list of known-safe options."""
        spec = OPTIONS.get(name, NO_OPTIONS)
        for problem in option_problems(name, [(w.text, w.dynamic) for w in args], spec):
            self.flag("high", problem)

    def sensitive(self, args: Sequence[Word]) -> None:
        """Arguments naming files that hold secrets."""
        for w in args:
            value = w.text.split("=", 1)[1] if w.text.startswith("-") and "=" in w.text else w.text
            if rules.SENSITIVE_READ.search(value):
                self.flag("high", f"touches a sensitive file ({value})")

    def high_command(self, name: str, args: list[Word]) -> None:
        """A command that is always risky, and the arguments that make it blocked."""
        checks.high_command(self, name, args)

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
        subcommands.subcommand(self, name, args)

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
        elif self.links_made:
            self.flag(
                "high",
                f"writes after a step that may have made symlinks pointing anywhere ({via} {t})",
            )
