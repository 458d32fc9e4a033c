"""The never-ending-command rule: commands that would never finish on their own are refused."""

from __future__ import annotations

import re
from collections.abc import Sequence

_FOLLOW = re.compile(r"-\w*[fF]\w*")


def never_ending(name: str, args: Sequence[str]) -> str | None:
    """A hint when ``name args`` would never end (``tail -f``, ``watch``, ``top``…), else None."""
    follow = any(
        a in {"-f", "-F"} or a.startswith("--follow") or _FOLLOW.fullmatch(a) for a in args
    )
    if name == "tail" and follow:
        return "`tail -f` never ends: use `tail -n 100 FILE` instead"
    if name == "journalctl" and follow:
        return "`journalctl -f` never ends: use `journalctl -n 100 --no-pager` instead"
    if name in {"docker", "podman", "kubectl"} and "logs" in args and follow:
        return f"`{name} logs -f` never ends: use `{name} logs --tail 100 NAME` instead"
    if name in {"docker", "podman", "nerdctl"}:
        sub = _docker_subcommand(args)
        if sub == "stats" and "--no-stream" not in args:
            return f"`{name} stats` never ends: use `{name} stats --no-stream` instead"
        if sub == "events" and not any(a.startswith("--until") for a in args):
            return f"`{name} events` never ends: add `--since 10m --until 0s`"
    if name == "watch":
        return "`watch` never ends: run the command once instead"
    if name in {"top", "htop", "atop", "btop"} and not (name == "top" and "-b" in args):
        return f"`{name}` is interactive and never ends: use `top -b -n 1` or `ps aux` instead"
    if name in {"less", "more", "vi", "vim", "nano", "emacs"}:
        return f"`{name}` is interactive: use read_file or `head`/`cat` instead"
    if name in {"ping", "ping6"} and not any(a.startswith("-c") for a in args):
        return "`ping` without -c never ends: use `ping -c 3 HOST`"
    if name == "yes" or (name == "sleep" and list(args[:1]) == ["infinity"]):
        return f"`{name}` never ends: do not run it"
    return None


def _docker_subcommand(args: Sequence[str]) -> str:
    """The subcommand of a docker line, inside a group (``container stats``) or not."""
    words = [a for a in args if not a.startswith("-")]
    if len(words) > 1 and words[0] in {"container", "system", "compose"}:
        return words[1]
    return words[0] if words else ""
