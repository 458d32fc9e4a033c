"""Executor guards: never-ending commands, per-tool caps, identical-call dedup, circuit breaker."""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core.llm.base import ToolCall, ToolResult

SHELL_TOOLS = frozenset({"shell", "run_command", "bash"})
_COMMAND_KEYS = ("command", "cmd", "script")
_SEGMENT_SPLIT = re.compile(r"\|\||&&|[|;&\n]")


def command_of(call: ToolCall) -> str | None:
    """The shell command of a shell-like call, else None."""
    if call.name not in SHELL_TOOLS:
        return None
    for key in _COMMAND_KEYS:
        value = call.arguments.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return shlex.join(value)
    return None


def _words(segment: str) -> list[str]:
    try:
        words = shlex.split(segment)
    except ValueError:
        words = segment.split()
    # Skip wrappers so `sudo tail -f x` and `timeout 5 watch y` are still seen.
    while words and words[0] in {"sudo", "nohup", "exec", "command", "env", "time"}:
        words = words[1:]
    return words


def _never_ending_segment(words: list[str]) -> str | None:
    if not words:
        return None
    prog = words[0].rsplit("/", 1)[-1]
    args = words[1:]
    follow = any(
        a in {"-f", "-F"} or a.startswith("--follow") or re.fullmatch(r"-\w*[fF]\w*", a)
        for a in args
    )
    if prog == "tail" and follow:
        return "`tail -f` never ends: use `tail -n 100 FILE` instead"
    if prog == "journalctl" and follow:
        return "`journalctl -f` never ends: use `journalctl -n 100 --no-pager` instead"
    if prog in {"docker", "podman", "kubectl"} and "logs" in args and follow:
        return f"`{prog} logs -f` never ends: use `{prog} logs --tail 100 NAME` instead"
    if prog == "watch":
        return "`watch` never ends: run the command once instead"
    if prog in {"top", "htop", "atop", "btop"} and not (prog == "top" and "-b" in args):
        return f"`{prog}` is interactive and never ends: use `top -b -n 1` or `ps aux` instead"
    if prog in {"less", "more", "vi", "vim", "nano", "emacs"}:
        return f"`{prog}` is interactive: use read_file or `head`/`cat` instead"
    if prog == "ping" and not any(a.startswith("-c") for a in args):
        return "`ping` without -c never ends: use `ping -c 3 HOST`"
    if prog == "yes" or (prog == "sleep" and args[:1] == ["infinity"]):
        return f"`{prog}` never ends: do not run it"
    return None


def never_ending(call: ToolCall) -> str | None:
    """A hint when a shell call would never finish on its own (``tail -f``, ``watch``, …)."""
    command = command_of(call)
    if command is None:
        return None
    for segment in _SEGMENT_SPLIT.split(command):
        hint = _never_ending_segment(_words(segment))
        if hint:
            return hint
    return None


def call_key(call: ToolCall) -> str:
    """Identity of a call for dedup: name plus canonical JSON of its arguments."""
    return f"{call.name}:{json.dumps(call.arguments, sort_keys=True, default=str)}"


@dataclass
class ToolCaps:
    """Per-tool-name call caps for one subtask; read-only tools get the higher cap."""

    tool_cap: int
    read_only_cap: int
    counts: Counter[str] = field(default_factory=Counter)

    def admit(self, name: str, *, read_only: bool) -> str | None:
        """Count the call, or return why it is refused (cap reached)."""
        cap = self.read_only_cap if read_only else self.tool_cap
        if self.counts[name] >= cap:
            return (
                f"refused: `{name}` was already called {cap} times in this step (the cap); "
                "use what you have and give your answer"
            )
        self.counts[name] += 1
        return None


@dataclass
class CallDedup:
    """Remembers results of calls already made so an identical call is not run again."""

    seen: dict[str, ToolResult] = field(default_factory=dict)

    def earlier(self, call: ToolCall) -> ToolResult | None:
        """The result of an identical earlier call, if any."""
        return self.seen.get(call_key(call))

    def remember(self, call: ToolCall, result: ToolResult) -> None:
        """Store the result of a call that really ran."""
        self.seen[call_key(call)] = result


@dataclass
class CircuitBreaker:
    """Counts tool failures; after ``limit`` cumulative failures the model must commit."""

    limit: int
    failures: int = 0
    streak: int = 0
    max_streak: int = 0

    def record(self, failed: bool) -> None:
        """Count one tool result."""
        if failed:
            self.failures += 1
            self.streak += 1
            self.max_streak = max(self.max_streak, self.streak)
        else:
            self.streak = 0

    @property
    def tripped(self) -> bool:
        """True once the cumulative failures reach the limit."""
        return self.failures >= self.limit


def refusal_result(call: ToolCall, why: str) -> ToolResult:
    """An error result for a call the executor refused to run."""
    return ToolResult(call.id, call.name, why, is_error=True)


def short_args(arguments: dict[str, Any], limit: int = 60) -> str:
    """Arguments as a short one-liner for progress lines and recaps."""
    text = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in arguments.items())
    return text if len(text) <= limit else text[: limit - 1] + "…"
