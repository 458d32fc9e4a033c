"""The context watchdog keeps prompts under compress_at × num_ctx."""

from __future__ import annotations

from core.agent.context import ContextWatchdog
from core.llm.base import Message, ToolCall, ToolResult


def history(rounds: int, size: int) -> list[Message]:
    msgs = [Message("user", "Overall goal: find the port")]
    for i in range(rounds):
        call = ToolCall(f"c{i}", "read_file", {"path": f"f{i}.txt"})
        msgs.append(Message("assistant", f"reading f{i}", (call,)))
        msgs.append(Message("tool", tool_results=(ToolResult(f"c{i}", "read_file", "x" * size),)))
    return msgs


def test_small_history_is_untouched() -> None:
    dog = ContextWatchdog(num_ctx=8192, compress_at=0.7)
    msgs = history(2, 100)
    assert dog.fit(msgs, "sys", []) is msgs
    assert dog.compressions == 0


def test_compression_keeps_goal_recent_rounds_and_a_recap() -> None:
    dog = ContextWatchdog(num_ctx=4096, compress_at=0.7, keep_recent_rounds=2)
    msgs = history(20, 800)
    assert dog.estimate(msgs, "sys", []) > dog.limit
    out = dog.fit(msgs, "sys", [])
    assert dog.estimate(out, "sys", []) <= dog.limit
    assert out[0] == msgs[0]
    assert out[1].role == "user" and out[1].text.startswith("Recap of earlier work")
    assert 'read_file(path="f0.txt") → ok' in out[1].text
    assert out[-4:] == msgs[-4:]  # the last two rounds verbatim
    assert dog.compressions == 1


def test_huge_recent_results_are_truncated_to_fit() -> None:
    dog = ContextWatchdog(num_ctx=2048, compress_at=0.7, keep_recent_rounds=1)
    msgs = history(3, 20_000)
    out = dog.fit(msgs, "sys", [])
    assert dog.estimate(out, "sys", []) <= dog.limit
    assert "chars cut to fit the context" in out[-1].tool_results[0].output


def test_server_counts_calibrate_the_estimate() -> None:
    dog = ContextWatchdog(num_ctx=8192)
    msgs = history(1, 400)
    before = dog.estimate(msgs, "", [])
    dog.observe(prompt_tokens=2000, chars=1000)  # a dense tokenizer: 2 tokens per char
    assert dog.estimate(msgs, "", []) > 5 * before


def test_memos_are_pinned_to_the_system_prompt_once() -> None:
    dog = ContextWatchdog(num_ctx=8192)
    dog.pin("config lives in /srv/app/app.toml")
    dog.pin("config   lives in /srv/app/app.toml")
    system = dog.system_with_memos("base")
    assert system.startswith("base\n\nPinned notes")
    assert system.count("/srv/app/app.toml") == 1
