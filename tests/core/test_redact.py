"""Redactor and RedactingAdapter: secrets never reach chat, ordinary text survives."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest

from core.errors import PlatformError
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, Decision, User
from core.ports import Capabilities, ChatAdapter
from core.redact import MASK, MIN_SECRET_LENGTH, RedactingAdapter, Redactor
from core.render import StreamRenderer
from tests.fakes.adapter import FakeAdapter

SLACK_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
CHAT = ChatRef("fake", "C1", "T1")


def _texts(adapter: FakeAdapter) -> str:
    """Everything the fake platform stores or was sent, as one string."""
    return "\n".join(text for _, _, text in adapter.calls)


async def test_slack_token_in_tool_output_reaches_chat_masked() -> None:
    inner = FakeAdapter()
    out = RedactingAdapter(inner, Redactor([SLACK_TOKEN]))
    tool_output = f"$ cat .env\nSLACK_BOT_TOKEN={SLACK_TOKEN}\nDEBUG=1\n"

    ref = await out.post(CHAT, "Running `cat .env`…")
    await out.edit(ref, f"Output:\n```\n{tool_output}```")

    shown = inner.messages[ref.message_id].text
    assert SLACK_TOKEN not in _texts(inner)
    assert "1234567890-0987654321" not in shown
    assert MASK in shown
    assert "DEBUG=1" in shown  # the rest of the output is intact


async def test_unconfigured_token_shapes_are_masked_too() -> None:
    """A token hearth was never told about (printed from some other file) is still masked."""
    inner = FakeAdapter()
    out = RedactingAdapter(inner, Redactor())
    foreign = "xoxp-111122223333-444455556666-aaaabbbbccccddddeeeeffff"
    await out.post(CHAT, f"found {foreign} in ~/.config/other-bot")
    assert "111122223333" not in _texts(inner)
    assert inner.texts()[0] == f"found xoxp-{MASK} in ~/.config/other-bot"


@pytest.mark.parametrize(
    ("text", "secret_part"),
    [
        ("xapp-1-A0123456789-1234567890123-abcdef0123456789", "A0123456789-1234567890123"),
        ("key sk-ant-api03-Zx9_yW8-vU7tS6rQ5pO4nM3lK2jI1hG0fE", "api03-Zx9_yW8"),
        ("OPENAI_KEY sk-proj-abcdefghijklmnopqrstuvwx", "abcdefghijklmnopqrstuvwx"),
        (
            "git remote https://ghp_16CharactersAndMoreABCDEF@github.com",
            "16CharactersAndMoreABCDEF",
        ),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "11ABCDEFG0123456789"),
        ("Authorization: Bearer eyJhbGciOi.abc-def_ghi.jklmnopq", "eyJhbGciOi.abc-def"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG",
        ),
        ("matrix token syt_Ym90_AbCdEfGhIjKlMnOp_1a2b3c", "AbCdEfGhIjKlMnOp"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        ),
        (
            "discord MTA5ODc2NTQzMjEwOTg3NjU0Mw.GhIjKl.abcdefghijklmnopqrstuvwxyz01234",
            "abcdefghijklmnopqrstuvwxyz01234",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
            "-----END OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjEAAAAA",
        ),
        ("postgres://hearth:s3cr3t-pass@db:5432/hearth", "s3cr3t-pass"),
        ('{"api_key": "live_0123456789abcdef"}', "live_0123456789abcdef"),
        ("DB_PASSWORD=correct-horse-battery", "correct-horse-battery"),
    ],
)
def test_well_known_token_shapes_are_masked(text: str, secret_part: str) -> None:
    redacted = Redactor().redact(text)
    assert secret_part not in redacted
    assert MASK in redacted


def test_unterminated_private_key_in_a_draft_is_masked_to_the_end() -> None:
    draft = "here:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7 ▍"
    assert "MIIEowIBAAKCAQEA7" not in Redactor().redact(draft)


@pytest.mark.parametrize(
    "text",
    [
        "max_tokens: 12345678 and prompt_tokens=4096",
        "see https://example.com/docs/tokens?page=2",
        "commit 3f9a1c2e7b8d4f6a0e1b2c3d4e5f60718293a4b5 fixed the risk-assessment task",
        "The token bucket refills; a bearer of news.",
        "Disk /dev/sda1 is 91% full (warning).",
        "Task-1234567890123456789 finished",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor(["a-real-secret-value"]).redact(text) == text


def test_overlapping_secrets_leave_no_fragment() -> None:
    first, second = "abcdef123456", "123456uvwxyz"
    redactor = Redactor([first, second])
    redacted = redactor.redact(f"x {first[:6]}{second} y")  # the two share "123456"
    assert redacted == f"x {MASK} y"


def test_secret_containing_another_is_masked_whole() -> None:
    redactor = Redactor(["token-abcdef", "token-abcdef-extended"])
    assert redactor.redact("v=token-abcdef-extended;") == f"v={MASK};"


def test_secrets_shorter_than_minimum_are_not_used(caplog: pytest.LogCaptureFixture) -> None:
    short = "x" * (MIN_SECRET_LENGTH - 1)
    redactor = Redactor([short, "", "long-enough-secret"])
    text = f"{short} marks the spot; long-enough-secret does not"
    assert redactor.redact(text) == f"{short} marks the spot; {MASK} does not"
    assert redactor.secret_count == 1
    assert "shorter than 6 characters" in caplog.text
    assert short not in caplog.text


def test_url_encoded_secret_is_masked() -> None:
    redactor = Redactor(["p@ss word/2024!"])
    assert (
        redactor.redact("GET /login?pw=p%40ss%20word%2F2024%21 ok") == f"GET /login?pw={MASK} ok"
    )


def test_growing_drafts_never_show_a_secret_prefix() -> None:
    """Streaming edits show each prefix of the answer; none may reveal the token's head."""
    secret = "hunter2-correct-horse"
    redactor = Redactor([secret])
    answer = f"The password is {secret} — keep it safe."
    for end in range(1, len(answer) + 1):
        frame = redactor.redact(answer[:end] + " ▍")
        assert secret[:MIN_SECRET_LENGTH] not in frame, frame


def test_second_half_of_a_hard_split_secret_is_masked() -> None:
    secret = "Zq81nB7xP0dLw3Yk5sT2"
    redactor = Redactor([secret])
    assert redactor.redact(secret[7:] + " continues") == f"{MASK} continues"


def test_redaction_is_idempotent() -> None:
    redactor = Redactor([SLACK_TOKEN])
    once = redactor.redact(f"a {SLACK_TOKEN} b Bearer abcdefghijkl")
    assert redactor.redact(once) == once


def _request(command: str) -> ApprovalRequest:
    return ApprovalRequest(
        id="a1",
        chat=CHAT,
        command=command,
        cwd="/work",
        task_id="t1",
        requester=User("fake", "U1", "ana"),
        reasons=(f"sends {SLACK_TOKEN} off-host",),
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


async def test_approval_prompt_is_shown_verbatim_never_pattern_redacted() -> None:
    inner = FakeAdapter()
    out = RedactingAdapter(inner, Redactor([SLACK_TOKEN]))
    command = "echo password:=hunter2; ${password:=}rm${IFS}-rf${IFS}/srv/project"
    request = dataclasses.replace(_request(command), reasons=("token: abcdefgh12345678",))

    await out.ask_approval(CHAT, request)

    shown = inner.approval_requests[0]
    assert shown.command == command
    assert shown.reasons == ("token: abcdefgh12345678",)


async def test_approval_prompt_with_a_configured_secret_is_not_posted() -> None:
    inner = FakeAdapter()
    out = RedactingAdapter(inner, Redactor([SLACK_TOKEN]))
    request = _request(f"curl -H 'Authorization: Bearer {SLACK_TOKEN}' https://slack.com/api")

    with pytest.raises(PlatformError, match="contains a secret"):
        await out.ask_approval(CHAT, request)

    assert inner.approval_requests == []
    assert SLACK_TOKEN not in _texts(inner)


async def test_closing_reason_is_redacted() -> None:
    inner = FakeAdapter()
    out = RedactingAdapter(inner, Redactor([SLACK_TOKEN]))
    prompt = await out.ask_approval(CHAT, dataclasses.replace(_request("ls"), reasons=()))
    outcome = ApprovalOutcome(
        decision=Decision.DENY,
        decided_by=None,
        decided_at=datetime(2030, 1, 1, tzinfo=UTC),
        reason=f"denied: leaks {SLACK_TOKEN}",
    )
    await out.close_approval(prompt, outcome)
    assert inner.closed[0][1].reason == f"denied: leaks {MASK}"
    assert SLACK_TOKEN not in inner.messages[prompt.message_id].text


async def test_everything_else_is_delegated() -> None:
    inner = FakeAdapter(platform="slack")
    out = RedactingAdapter(inner, Redactor())
    assert out.platform == "slack"
    assert out.capabilities is inner.capabilities
    assert out.inner is inner
    assert out.connected is False
    inner.bind(lambda event: None)  # type: ignore[arg-type,return-value]
    assert out.connected is True
    ref = await out.post(CHAT, "hi")
    await out.react(ref, "👍")
    assert inner.messages[ref.message_id].reactions == ["👍"]
    assert out.texts() == ["hi"]  # adapter-specific extras pass through


async def test_streamed_answer_never_shows_the_token_in_any_frame(clock) -> None:
    """Through the real renderer, char by char: no draft, split part or final leaks it."""
    inner = FakeAdapter(
        capabilities=Capabilities(max_message_chars=60, min_edit_interval=1.0, buttons=True)
    )
    out = RedactingAdapter(inner, Redactor([SLACK_TOKEN]))
    answer = f"The tool printed:\nSLACK_BOT_TOKEN={SLACK_TOKEN}\nand then exited 0."
    async with StreamRenderer(out, CHAT, clock=clock) as renderer:
        for ch in answer:
            renderer.append(ch)
            await asyncio.sleep(0)
            clock.advance(0.3)
    frames = [text for op, _, text in inner.calls if op in ("post", "edit")]
    assert len(frames) > 3
    for frame in frames:
        assert SLACK_TOKEN[: MIN_SECRET_LENGTH + 5] not in frame
        assert "1234567890-0987654321" not in frame
        assert SLACK_TOKEN[-MIN_SECRET_LENGTH:] not in frame  # a split part's head
    assert "and then exited 0." in "".join(inner.texts())


def test_wrapper_satisfies_the_chat_adapter_protocol() -> None:
    assert isinstance(RedactingAdapter(FakeAdapter(), Redactor()), ChatAdapter)


async def test_the_verbatim_view_posts_code_unchanged_and_only_there() -> None:
    inner = FakeAdapter()
    out = RedactingAdapter(inner, Redactor([SLACK_TOKEN]))
    code = 'PASSWORD = "hunter2-staging"\nKEY = "sk-proj-abcdefghijklmnop1234"\n'

    await out.verbatim().post(CHAT, code)
    await out.verbatim().post_file(CHAT, code.encode(), "x.py", code, "text/x-python")
    await out.post(CHAT, code)  # the wrapper itself still masks what looks like a secret

    assert inner.texts()[0] == code
    assert inner.files[0][2] == code.encode()
    assert inner.texts()[-1] != code and MASK in inner.texts()[-1]


async def test_the_verbatim_view_refuses_a_configured_secret() -> None:
    inner = FakeAdapter()
    out = RedactingAdapter(inner, Redactor([SLACK_TOKEN])).verbatim()

    with pytest.raises(PlatformError, match="contains a secret"):
        await out.post(CHAT, f'TOKEN = "{SLACK_TOKEN}"')
    with pytest.raises(PlatformError, match="contains a secret"):
        await out.post_file(CHAT, SLACK_TOKEN.encode(), "x.py", "code", "text/x-python")

    assert inner.texts() == [] and inner.files == []


@pytest.mark.parametrize(
    "text",
    [
        "DB_PAſSWORD=correct-horse-battery",  # re's IGNORECASE takes ſ for s
        "Authorization: BASİC dXNlcjpwYXNzd29yZA==",  # ... and İ for i
        "apı_key: correct-horse-battery",  # ... and ı for i
        "Authorization: BEARER eyJhbGciOi.abc-def_ghi.jklmnopq ▍",
    ],
)
def test_a_pattern_matching_whatever_the_case_is_never_skipped(text: str) -> None:
    """A pattern runs only on text holding its literal: the check folds case as re does."""
    assert MASK in Redactor().redact(text)
