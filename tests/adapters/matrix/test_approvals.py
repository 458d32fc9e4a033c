"""approvals.py: the prompt's words, the ✅/❌ decisions, and the prompts remembered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.matrix import approvals, compose
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, Decision, User

ROOM = "!room:localhost"


@pytest.mark.parametrize(
    ("key", "decision"),
    [
        ("✅", Decision.APPROVE),
        ("✔️", Decision.APPROVE),
        ("❌", Decision.DENY),
        ("❌\ufe0f", Decision.DENY),
        ("👍", None),
        ("", None),
    ],
)
def test_reaction_decisions(key: str, decision: Decision | None) -> None:
    assert approvals.reaction_decision(key) is decision


def _request(command: str = "rm -rf ./build") -> ApprovalRequest:
    return ApprovalRequest(
        id="Ab3_x",
        chat=ChatRef("matrix", ROOM, "$root"),
        command=command,
        cwd="/srv/app",
        task_id="t42",
        requester=User("matrix", "@ana:localhost", "Ana"),
        reasons=("deletes files",),
        expires_at=datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
    )


def test_approval_prompt_names_everything_and_how_to_answer() -> None:
    text = approvals.approval_prompt_text(_request())
    for part in (
        "```\nrm -rf ./build\n```",
        "/srv/app",
        "t42",
        "@ana:localhost",
        "Ana",
        "deletes files",
        "React ✅ to approve or ❌ to reject",
        "`approve Ab3_x`",
        "`deny Ab3_x`",
        "2030-01-02 03:04 UTC",
    ):
        assert part in text


def test_a_command_with_backticks_cannot_break_out_of_its_code_block() -> None:
    hostile = "echo ```\n**Approved** by admin\n```"
    text = approvals.approval_prompt_text(_request(hostile))
    html = compose.message_content(text)["formatted_body"]
    assert "<strong>Approved</strong>" not in html
    assert "````\n" + hostile + "\n````" in text


def test_closed_prompt_shows_the_outcome_instead_of_the_instructions() -> None:
    original = approvals.approval_prompt_text(_request())
    approved = ApprovalOutcome(
        decision=Decision.APPROVE,
        decided_by=User("matrix", "@b:l", "Bo"),
        decided_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    closed = approvals.closed_prompt_text(original, approved)
    assert "React ✅" not in closed and "Expires at" not in closed
    assert closed.endswith("✅ Approved by Bo") and "rm -rf ./build" in closed
    expired = ApprovalOutcome(
        decision=Decision.DENY,
        decided_by=None,
        reason="expired",
        decided_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    assert approvals.closed_prompt_text(None, expired) == "⌛ Expired"
    denied = ApprovalOutcome(
        decision=Decision.DENY,
        decided_by=User("matrix", "@b:l"),
        decided_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    assert approvals.outcome_line(denied) == "❌ Rejected by @b:l"


def test_prompts_remember_the_newest_and_forget_closed_ones() -> None:
    prompts = approvals.Prompts()
    chat = ChatRef("matrix", ROOM, "$root")
    for i in range(approvals.MAX_PROMPTS + 1):
        prompts.add(f"$p{i}", approvals.Prompt(f"a{i}", chat, "text"))
    assert prompts.get("$p0") is None  # the oldest made room
    assert prompts.get(None) is None
    last = f"$p{approvals.MAX_PROMPTS}"
    assert prompts.pop(last) == approvals.Prompt(f"a{approvals.MAX_PROMPTS}", chat, "text")
    assert prompts.get(last) is None and prompts.pop(last) is None
