"""Per-command risk checks: arguments that turn a read-only command risky, and file writers.

Each check is ``check(judge, name, args, depth)``; ``SPECIAL`` maps command names to them
(shell builtins live in ``builtins``). The option allow-lists are applied before these run.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from core.tools.risk import builtins, rules
from core.tools.risk.verdict import Judge
from core.tools.risk.words import (
    Word,
    after_options,
    option_value,
    positionals,
    short_flags,
)


def writer(j: Judge, name: str, args: list[Word]) -> None:
    """Writers are low only while every path they write stays in the workspace."""
    if name == "tar":
        tar(j, args)
        return
    if name == "unzip":
        if not short_flags(args) & {"l", "t", "v", "Z", "p", "c", "z"}:
            for value in option_value(args, frozenset({"-d"})):
                j.write_target(value, name)
            j.links_made = True  # archives carry symlinks
        return
    with_value = {
        "cp": frozenset({"-t", "--target-directory", "-S", "--suffix"}),
        "mkdir": frozenset({"-m", "--mode"}),
        "touch": frozenset({"-d", "-t", "-r", "--date", "--reference"}),
        "ln": frozenset({"-t", "--target-directory", "-S", "--suffix"}),
        "zip": frozenset({"-b", "-n", "-x", "-i"}),
    }.get(name, frozenset())
    positional = positionals(args, with_value)
    compressors = {"gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd", "unzstd"}
    if name == "zcat" or (name in compressors and short_flags(args) & {"c", "l", "t"}):
        return
    targets = positional
    if name == "cp":
        targets = option_value(args, frozenset({"-t", "--target-directory"})) or positional[-1:]
    if name == "ln":
        if (positional and j.outside(positional[0].text)) or any(
            w.dynamic for w in positional[:1]
        ):
            j.flag("high", f"links to a path outside the workspace ({positional[0].text})")
        targets = positional[1:] if len(positional) > 1 else []
    for w in targets:
        j.write_target(w, name)
    flags = short_flags(args)
    if name == "ln" or (
        name == "cp"
        and (flags & {"r", "R", "a", "d", "P"} or any(w.text == "--archive" for w in args))
    ):
        j.links_made = True  # copies of symlinks, or new ones: later writes may go through them


def tar(j: Judge, args: list[Word]) -> None:
    """tar: listing is read-only; extracting or creating writes where -C/-f point."""
    first = args[0].text if args else ""
    letters = set(first) if first and not first.startswith("-") else set()
    letters |= short_flags(args)
    longs = {w.text.split("=", 1)[0] for w in args if w.text.startswith("--")}
    writes = letters & {"x", "c", "r", "u", "A"} or longs & {
        "--extract",
        "--get",
        "--create",
        "--append",
        "--update",
        "--delete",
        "--concatenate",
    }
    if not writes:
        return
    if letters & {"x"} or longs & {"--extract", "--get"}:
        j.links_made = True  # archives carry symlinks
    if "P" in letters or "--absolute-names" in longs:
        j.flag("high", "tar -P writes absolute paths")
    for value in option_value(args, frozenset({"-C", "--directory"})):
        j.write_target(value, "tar -C")
    if letters & {"c", "r", "u", "A"} or longs & {"--create", "--append", "--update"}:
        files = option_value(args, frozenset({"-f", "--file"}))
        if not files and "f" in letters and not first.startswith("-") and len(args) > 1:
            files = [args[1]]
        for value in files:
            j.write_target(value, "tar")


def watch(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """watch: the rest of the line runs through ``sh -c``."""
    with_value = frozenset({"-n", "--interval", "-d", "--differences", "-q"})
    rest = after_options(args, with_value)
    if rest:
        text = " ".join(w.text for w in rest)
        j.command_string(Word(text, any(w.dynamic for w in rest)), depth, "watch")


def su(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """su/runuser: another user, and ``-c`` strings are command lines."""
    j.flag("high", "runs as another user (su)")
    for value in option_value(args, frozenset({"-c", "--command"})):
        j.command_string(value, depth, "su -c")


def find(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """find: -delete, -exec/-ok commands and -fprint outputs."""
    i = 0
    starts: list[Word] = []
    while i < len(args) and not args[i].text.startswith(("-", "(", "!")):
        starts.append(args[i])
        i += 1
    while i < len(args):
        t = args[i].text
        if t in {"-exec", "-execdir", "-ok", "-okdir"}:
            end = i + 1
            while end < len(args) and args[end].text not in {";", "+"}:
                end += 1
            inner = args[i + 1 : end]
            if inner:
                j.argv(inner, depth + 1)
            i = end + 1
            continue
        if t == "-delete":
            j.flag("high", "deletes files (find -delete)")
            if any(j.rootish(s) for s in starts):
                j.flag("blocked", "find -delete on a system directory")
        if t in rules.FIND_VALUED:
            i += 2
            continue
        if t.startswith("-") and len(t) > 1 and t not in rules.FIND_FLAGS:
            j.flag("high", f"{t} is not a known-safe option of find")
        i += 1


def sed(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """sed: -i edits files; e/w commands run programs or write files."""
    in_place = "i" in short_flags(args) or any(w.text.startswith("--in-place") for w in args)
    scripts = option_value(args, frozenset({"-e", "--expression"}))
    positional = positionals(args, frozenset({"-e", "--expression", "-f", "--file", "-l"}))
    if not scripts and positional:
        scripts, positional = positional[:1], positional[1:]
    for s in scripts:
        # e runs a command; w/W write a file: in commands or as s///e, s///w flags.
        if s.dynamic or re.search(
            r"(^|[;{}\n])\s*([\d,$!~+]|/[^/\n]*/[IM]*)*\s*[ewW](\s|$)|/[gpIiMm\d]*[ew]", s.text
        ):
            j.flag("high", "sed script can run commands or write files")
    if option_value(args, frozenset({"-f", "--file"})):
        j.flag("high", "sed script from a file cannot be checked")
    if in_place:
        for w in positional:
            j.write_target(w, "sed -i")


def awk(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """awk: programs that can run commands or write files."""
    if option_value(args, frozenset({"-f", "--file", "-i", "--include"})):
        j.flag("high", f"{name} program from a file cannot be checked")
        return
    positional = positionals(args, frozenset({"-F", "-v", "--assign", "-f"}))
    program = positional[0] if positional else Word("")
    risky = ("system", "|", ">", "getline", "@load", "@include", "@namespace")
    if program.dynamic or any(tok in program.text for tok in risky):
        j.flag("high", f"{name} program may run commands or write files")


def sort(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """sort -o writes a file."""
    for value in option_value(args, frozenset({"-o", "--output"})):
        j.write_target(value, "sort -o")


def uniq(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """uniq IN OUT writes OUT."""
    positional = positionals(args, frozenset({"-f", "-s", "-w"}))
    for w in positional[1:2]:
        j.write_target(w, "uniq")


def curl(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """curl: output files, and requests that send data."""
    outputs = frozenset(
        {
            "-o",
            "--output",
            "-D",
            "--dump-header",
            "-c",
            "--cookie-jar",
            "--trace",
            "--trace-ascii",
            "--stderr",
        }
    )
    for value in option_value(args, outputs):
        j.write_target(value, "curl")
    sends = {
        "-d",
        "--data",
        "--data-binary",
        "--data-raw",
        "--data-urlencode",
        "-F",
        "--form",
        "-T",
        "--upload-file",
        "--json",
    }
    methods = option_value(args, frozenset({"-X", "--request"}))
    if any(
        w.text.split("=", 1)[0] in sends or w.text[:2] in {"-d", "-F", "-T"} for w in args
    ) or any(m.text.upper() not in {"GET", "HEAD"} for m in methods):
        j.flag("high", "sends data to a server (curl)")
    if any(w.text in {"-K", "--config"} for w in args):
        j.flag("high", "curl reads options from a file")


def wget(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """wget: output files, posted data and -e commands."""
    outputs = frozenset(
        {
            "-O",
            "--output-document",
            "-o",
            "--output-file",
            "-a",
            "--append-output",
            "-P",
            "--directory-prefix",
        }
    )
    for value in option_value(args, outputs):
        j.write_target(value, "wget")
    if any(
        w.text.split("=", 1)[0]
        in {"--post-data", "--post-file", "--method", "--body-data", "--body-file"}
        for w in args
    ):
        j.flag("high", "sends data to a server (wget)")
    if any(w.text.split("=", 1)[0] in {"-e", "--execute", "-i", "--input-file"} for w in args):
        j.flag("high", "wget runs commands or reads URLs from a file")


def setter(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """date/dmesg/journalctl: the flags that change the system."""
    checks = {
        "date": ({"-s", "--set"}, "sets the system clock (date -s)"),
        "dmesg": (
            {
                "-c",
                "-C",
                "-D",
                "-E",
                "--clear",
                "--read-clear",
                "--console-off",
                "--console-on",
                "-n",
                "--console-level",
            },
            "changes the kernel log",
        ),
        "journalctl": (
            {
                "--rotate",
                "--flush",
                "--relinquish-var",
                "--setup-keys",
                "--vacuum-size",
                "--vacuum-time",
                "--vacuum-files",
                "--sync",
            },
            "changes the system journal",
        ),
    }
    options, reason = checks[name]
    if any(w.text.split("=", 1)[0] in options for w in args):
        j.flag("high", f"{reason}")


def hostname(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """hostname NAME renames the machine."""
    if positionals(args, frozenset()) or any(w.text in {"-F", "--file"} for w in args):
        j.flag("high", "renames the host (hostname)")


def less(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """less/more +CMD runs a pager command (which can start a shell)."""
    if any(w.text.startswith("+") for w in args):
        j.flag("high", f"{name} +command runs pager commands, which can start a shell")


def high_command(j: Judge, name: str, args: list[Word]) -> None:
    """A command that is always risky, and the arguments that make it blocked."""
    j.flag("high", f"{rules.HIGH.get(name, 'formats disks')} ({name})")
    flags = short_flags(args)
    positional = positionals(args, frozenset())
    recursive = bool(flags & {"r", "R"}) or any(w.text == "--recursive" for w in args)
    if any(w.text == "--no-preserve-root" for w in args):
        j.flag("blocked", f"{name} --no-preserve-root")
    if name in {"rm", "chmod", "chown", "chgrp", "shred", "srm"} and recursive:
        for w in positional:
            if j.rootish(w):
                j.flag("blocked", f"{name} -r on {w.text} would wreck the system")
    if name == "mv":
        for w in positional:
            if j.rootish(w):
                j.flag("blocked", f"moves a system directory ({w.text})")
    if name == "dd":
        for w in args:
            if w.text.startswith("of="):
                j.write_target(Word(w.text[3:], w.dynamic), "dd")
    if name in rules.DISK_TOOLS or name == "mkfs":
        for w in positional:
            if rules.DISK_DEVICE.match(w.text):
                j.flag("blocked", f"formats or overwrites a disk ({name} {w.text})")


_GIT_DESTRUCTIVE = {
    "branch": {"-d", "-D", "--delete", "-m", "-M", "--move", "-f", "--force", "-c", "-C"},
    "tag": {"-d", "--delete", "-f", "--force", "-a", "-s", "-m"},
}
_GIT_WRITES = {
    "remote": {"add", "remove", "rm", "rename", "set-url", "prune", "set-head", "update"},
    "stash": {"push", "pop", "drop", "clear", "apply", "save", "branch", "store", "create"},
    "worktree": {"add", "remove", "prune", "move", "lock", "unlock", "repair"},
    "reflog": {"expire", "delete"},
}


def git_details(j: Judge, sub: str, rest: list[Word]) -> None:
    """Read-only git subcommands that become writes with certain arguments."""
    texts = {w.text for w in rest}
    positional = [w.text for w in rest if not w.text.startswith("-")]
    if texts & _GIT_DESTRUCTIVE.get(sub, set()):
        j.flag("high", f"changes the repository (git {sub} {sorted(texts)[0]})")
    if positional and positional[0] in _GIT_WRITES.get(sub, set()):
        j.flag("high", f"changes the repository (git {sub} {positional[0]})")
    if sub == "stash" and not positional:
        j.flag("high", "changes the working tree (git stash)")
    if sub == "tag" and positional and not texts & {"-l", "--list", "-n", "--contains"}:
        j.flag("high", f"creates a tag (git tag {positional[0]})")
    if sub == "branch" and positional and not texts & {"-l", "--list", "-a", "-r"}:
        j.flag("high", f"creates a branch (git branch {positional[0]})")
    if sub == "config" and not texts & {"--get", "--get-all", "--get-regexp", "--list", "-l"}:
        j.flag("high", "changes git configuration (git config)")


Handler = Callable[[Judge, str, list[Word], int], None]
SPECIAL: dict[str, Handler] = {
    "env": builtins.env,
    "eval": builtins.eval_command,
    "trap": builtins.trap,
    "cd": builtins.cd,
    "pushd": builtins.cd,
    "export": builtins.export,
    "declare": builtins.declare,
    "typeset": builtins.declare,
    "local": builtins.declare,
    "readonly": builtins.declare,
    "hash": builtins.hash_builtin,
    "printf": builtins.printf_builtin,
    "test": builtins.test_builtin,
    "[": builtins.test_builtin,
    "unset": builtins.unset_builtin,
    "watch": watch,
    "su": su,
    "find": find,
    "sed": sed,
    "awk": awk,
    "gawk": awk,
    "mawk": awk,
    "nawk": awk,
    "sort": sort,
    "uniq": uniq,
    "curl": curl,
    "wget": wget,
    "date": setter,
    "dmesg": setter,
    "journalctl": setter,
    "hostname": hostname,
    "less": less,
    "more": less,
}
