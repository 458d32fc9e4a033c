"""Executor guards: caps, dedup, circuit breaker (never-ending commands: test_tool_risk)."""

from __future__ import annotations

from core.agent.guards import CallDedup, CircuitBreaker, ToolCaps
from core.llm.base import ToolCall, ToolResult


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
