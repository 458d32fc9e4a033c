"""Per-command risk checks: flags that turn a read-only command risky, and file writers.

Each check is ``check(judge, name, args, depth)``; ``SPECIAL`` maps command names to them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.tools.risk_words import (
    NAME_ASSIGN,
    Word,
    after_options,
    option_value,
    positionals,
    short_flags,
)

if TYPE_CHECKING:
    from core.tools.risk import Judge


def writer(j: Judge, name: str, args: list[Word]) -> None:
    """Writers are low only while every path they write stays in the workspace."""
    if name == "tar":
        tar(j, args)
        return
    if name == "unzip":
        if not short_flags(args) & {"l", "t", "v", "Z"}:
            for value in option_value(args, frozenset({"-d"})):
                j.write_target(value, name)
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


def tar(j: Judge, args: list[Word]) -> None:
    """Writers are low only while every path they write stays in the workspace."""
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


def env(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """tar: listing is read-only; extracting or creating writes where -C/-f point."""
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
    """env: judge its assignments and the command it runs (also ``-S`` strings)."""
    if any(w.dynamic for w in args):
        j.flag("high", "eval of a command built at run time")
    else:
        j.script(" ".join(w.text for w in args), depth + 1)


def trap(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """eval: the joined arguments are a command line of their own."""
    positional = positionals(args, frozenset())
    if positional:
        j.command_string(positional[0], depth, "trap")


def watch(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """trap: the handler string is a command line of its own."""
    with_value = frozenset({"-n", "--interval", "-d", "--differences", "-q"})
    rest = after_options(args, with_value)
    if rest:
        text = " ".join(w.text for w in rest)
        j.command_string(Word(text, any(w.dynamic for w in rest)), depth, "watch")


def su(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """watch: the rest of the line runs through ``sh -c``."""
    j.flag("high", "runs as another user (su)")
    for value in option_value(args, frozenset({"-c", "--command"})):
        j.command_string(value, depth, "su -c")


def cd(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """su/runuser: another user, and ``-c`` strings are command lines."""
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
    """cd/pushd: track the directory so relative writes and deletions resolve correctly."""
    for w in args:
        if NAME_ASSIGN.match(w.text):
            j.assignment(w.text)


def find(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """declare/export/local/readonly: assignments to dangerous variables."""
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
        if t in {"-fprint", "-fprint0", "-fprintf", "-fls"} and i + 1 < len(args):
            j.write_target(args[i + 1], f"find {t}")
        i += 1


def sed(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """find: -delete, -exec/-ok commands and -fprint outputs."""
    in_place = "i" in short_flags(args) or any(w.text.startswith("--in-place") for w in args)
    scripts = option_value(args, frozenset({"-e", "--expression"}))
    positional = positionals(args, frozenset({"-e", "--expression", "-f", "--file", "-l"}))
    if not scripts and positional:
        scripts, positional = positional[:1], positional[1:]
    for s in scripts:
        # e runs a command; w/W write a file: in commands or as s///e, s///w flags.
        if s.dynamic or re.search(
            r"(^|[;{}\n])\s*[\d,$!]*\s*[ewW](\s|$)|/[gpIiMm\d]*[ew]", s.text
        ):
            j.flag("high", "sed script can run commands or write files")
    if option_value(args, frozenset({"-f", "--file"})):
        j.flag("high", "sed script from a file cannot be checked")
    if in_place:
        for w in positional:
            j.write_target(w, "sed -i")


def awk(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """sed: -i edits files; e/w commands run programs or write files."""
    if option_value(args, frozenset({"-f", "--file", "-i", "--include"})):
        j.flag("high", f"{name} program from a file cannot be checked")
        return
    positional = positionals(args, frozenset({"-F", "-v", "--assign", "-f"}))
    program = positional[0] if positional else Word("")
    if program.dynamic or any(tok in program.text for tok in ("system", "|", ">", "getline")):
        j.flag("high", f"{name} program may run commands or write files")


def sort(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """awk: programs that can run commands or write files."""
    for value in option_value(args, frozenset({"-o", "--output"})):
        j.write_target(value, "sort -o")


def uniq(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """sort -o writes a file."""
    positional = positionals(args, frozenset({"-f", "-s", "-w"}))
    for w in positional[1:2]:
        j.write_target(w, "uniq")


def curl(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """uniq IN OUT writes OUT."""
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
    """curl: output files, and requests that send data."""
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
    """wget: output files, posted data and -e commands."""
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
    """date/dmesg/journalctl: the flags that change the system."""
    if positionals(args, frozenset()) or any(w.text in {"-F", "--file"} for w in args):
        j.flag("high", "renames the host (hostname)")


def export(j: Judge, name: str, args: list[Word], depth: int) -> None:
    """hostname NAME renames the machine."""
    declare(j, name, args, depth)


Handler = Callable[["Judge", str, list[Word], int], None]
SPECIAL: dict[str, Handler] = {
    "env": env,
    "eval": eval_command,
    "trap": trap,
    "watch": watch,
    "su": su,
    "cd": cd,
    "pushd": cd,
    "export": export,
    "declare": declare,
    "typeset": declare,
    "local": declare,
    "readonly": declare,
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
}
