"""Executor guards: never-ending commands, caps, dedup, circuit breaker."""

from __future__ import annotations

import pytest

from core.agent.guards import CallDedup, CircuitBreaker, ToolCaps, never_ending
from core.llm.base import ToolCall, ToolResult


def shell(cmd: str) -> ToolCall:
    return ToolCall("c", "shell", {"command": cmd})


@pytest.mark.parametrize(
    "cmd",
    [
        "tail -f /var/log/syslog",
        "tail -F app.log",
        "tail --follow=name app.log",
        "tail -qf a.log",
        "watch -n 1 df -h",
        "journalctl -u nginx -f",
        "journalctl --follow",
        "docker logs -f web",
        "docker logs --tail 10 --follow web",
        "kubectl logs -f pod/x",
        "top",
        "htop",
        "sudo tail -f /var/log/auth.log",
        "cd /srv && tail -f out.log",
        "grep x file | tail -f",
        "ping example.com",
        "less README.md",
    ],
)
def test_never_ending_refused(cmd: str) -> None:
    assert never_ending(shell(cmd)) is not None


@pytest.mark.parametrize(
    "cmd",
    [
        "tail -n 100 app.log",
        "journalctl -u nginx -n 50 --no-pager",
        "docker logs --tail 100 web",
        "top -b -n 1",
        "ping -c 3 example.com",
        "ls -la",
        "cat tail-f.txt",
        "echo watch this",
    ],
)
def test_bounded_commands_pass(cmd: str) -> None:
    assert never_ending(shell(cmd)) is None


def test_non_shell_tools_are_not_checked() -> None:
    assert never_ending(ToolCall("c", "read_file", {"path": "tail -f"})) is None


def test_never_ending_hint_suggests_the_bounded_form() -> None:
    assert "tail -n 100" in (never_ending(shell("tail -f x.log")) or "")


def test_caps_are_per_tool_name_and_higher_for_read_only() -> None:
    caps = ToolCaps(tool_cap=2, read_only_cap=3)
    assert [caps.admit("shell", read_only=False) for _ in range(2)] == [None, None]
    assert "cap" in (caps.admit("shell", read_only=False) or "")
    assert [caps.admit("read_file", read_only=True) for _ in range(3)] == [None] * 3
    assert caps.admit("read_file", read_only=True) is not None
    assert caps.admit("list_dir", read_only=True) is None


def test_dedup_matches_identical_arguments_in_any_key_order() -> None:
    dedup = CallDedup()
    first = ToolCall("1", "read_file", {"path": "a", "max": 10})
    dedup.remember(first, ToolResult("1", "read_file", "hello"))
    again = dedup.earlier(ToolCall("2", "read_file", {"max": 10, "path": "a"}))
    assert again is not None and again.output == "hello"
    assert dedup.earlier(ToolCall("3", "read_file", {"path": "b"})) is None


def test_breaker_counts_cumulative_failures_and_streaks() -> None:
    breaker = CircuitBreaker(limit=3)
    for failed in (True, True, False, True):
        breaker.record(failed)
    assert (breaker.failures, breaker.max_streak, breaker.streak) == (3, 2, 1)
    assert breaker.tripped
