"""Known-safe options of the commands judged read-only (or workspace-only writers).

A command stays low only when every option it is given is on its list here: an unknown option,
an abbreviated GNU long option, or one that takes a program, a script, a config file or an
output path (left off these lists on purpose) makes it high. Spec tokens:

``@abc`` flags a, b, c · ``-x:`` takes a value · ``-x?`` takes an attached value or none ·
``-#`` numbers such as ``-20`` · ``-name`` / ``-name:`` a whole single-dash word (find, ``-nv``) ·
``--long`` · ``--long=`` takes a value · ``--long=?`` optional ``=value`` · ``*`` anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """The parsed allow-list of one command."""

    anything: bool = False
    flags: frozenset[str] = frozenset()
    valued: frozenset[str] = frozenset()
    attached: frozenset[str] = frozenset()
    numbers: bool = False
    words: frozenset[str] = frozenset()
    valued_words: frozenset[str] = frozenset()
    longs: frozenset[str] = frozenset()
    long_valued: frozenset[str] = frozenset()
    long_optional: frozenset[str] = frozenset()
    all_longs: tuple[str, ...] = field(default=())


def parse_spec(text: str) -> OptionSpec:
    """An OptionSpec from the compact token notation described above."""
    flags: set[str] = set()
    valued: set[str] = set()
    attached: set[str] = set()
    words: set[str] = set()
    valued_words: set[str] = set()
    longs: set[str] = set()
    long_valued: set[str] = set()
    long_optional: set[str] = set()
    numbers = anything = False
    for token in text.split():
        if token == "*":
            anything = True
        elif token.startswith("@"):
            flags.update(token[1:])
        elif token == "-#":
            numbers = True
        elif token.startswith("--"):
            if token.endswith("=?"):
                long_optional.add(token[:-2])
            elif token.endswith("="):
                long_valued.add(token[:-1])
            else:
                longs.add(token)
        elif len(token) == 3 and token[2] in ":?":
            (valued if token[2] == ":" else attached).add(token[1])
        elif len(token) == 2:
            flags.add(token[1])
        elif token.endswith(":"):
            valued_words.add(token[:-1])
        else:
            words.add(token)
    return OptionSpec(
        anything=anything,
        flags=frozenset(flags),
        valued=frozenset(valued),
        attached=frozenset(attached),
        numbers=numbers,
        words=frozenset(words),
        valued_words=frozenset(valued_words),
        longs=frozenset(longs),
        long_valued=frozenset(long_valued),
        long_optional=frozenset(long_optional),
        all_longs=tuple(sorted(longs | long_valued | long_optional)),
    )


NO_OPTIONS = parse_spec("")


def option_problems(name: str, args: list[tuple[str, bool]], spec: OptionSpec) -> list[str]:
    """Why the options in ``args`` ((text, dynamic) pairs) are not all known-safe for ``name``."""
    if spec.anything:
        return []
    problems: list[str] = []
    i = 0
    while i < len(args):
        text, dynamic = args[i]
        i += 1
        if text == "--":
            break
        if dynamic and text[:1] in {"$", "`"}:
            problems.append(f"an argument computed at run time could be an option ({name} {text})")
            continue
        if text in spec.words or (text[:1] == "+" and text in spec.longs):
            continue
        if text in spec.valued_words:
            i += 1
            continue
        if not text.startswith("-") or text == "-":
            continue
        if text.startswith("--"):
            key, eq, _ = text.partition("=")
            if key in spec.longs and not eq:
                continue
            if key in spec.long_optional:
                continue
            if key in spec.long_valued:
                i += 0 if eq else 1
                continue
            full = [o for o in spec.all_longs if o.startswith(key)]
            if full:
                problems.append(
                    f"abbreviated long option {key} of {full[0]}: written out in full "
                    f"it may mean something else ({name})"
                )
            else:
                problems.append(f"{key} is not a known-safe option of {name}")
            continue
        if spec.numbers and text[1:].isdigit():
            continue
        j = 1
        while j < len(text):
            c = text[j]
            if c in spec.flags or (spec.numbers and c.isdigit()):
                j += 1
                continue
            if c in spec.valued:
                if j + 1 == len(text):
                    i += 1
                break
            if c in spec.attached:
                break
            problems.append(f"-{c} is not a known-safe option of {name}")
            break
    return problems
