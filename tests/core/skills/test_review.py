"""What an approver sees of a generated skill: long code as a file, short code inline, and never
an approval without the whole code shown one way or the other."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import PlatformError, RateLimited
from core.events import ApprovalOutcome, ChatRef, Decision, User
from core.ports import Capabilities
from core.redact import RedactingAdapter, Redactor
from core.skills.factory import Draft
from core.skills.library import SkillLibrary
from core.skills.loader import parse_code_skill
from core.skills.model import CodeSkill
from core.skills.review import HEAD_LINES, SECRET_NOTE, SkillReview
from core.skills.runner import SkillRunner
from core.skills.validate import Verdict
from core.storage.db import Database
from core.storage.skills import SkillStore
from tests.fakes.adapter import FakeAdapter
from tests.fakes.clock import FakeClock

CHAT = ChatRef("fake", "C1", "th1")
BOSS = User("fake", "UBOSS", "boss")
SHORT = """from core.skills.api import SkillResult, ok

NAME = "say_hi"
DESCRIPTION = "Say hi."
PARAMS = {"type": "object", "properties": {}}
EXAMPLES = ["say hi please", "please say hi"]


def run(params: dict) -> SkillResult:
    return ok("hi")
"""
# Long: a table of 60 rows, so the module is well over the inline limit of 40 lines.
LONG = SHORT.replace('NAME = "say_hi"', 'NAME = "port_name"').replace(
    "def run(",
    "PORTS = {\n" + "".join(f"    {p}: 'svc_{p}',\n" for p in range(60)) + "}\n\n\ndef run(",
)
DRY = ("say hi please → ok: hi",)


def _draft(source: str) -> Draft:
    meta = parse_code_skill(source)
    skill = CodeSkill(source=source, path=Path("<generated>"), origin="generated", **meta)
    return Draft(skill=skill, verdict=Verdict(dry_runs=DRY), model="qwen-test")


class Approver:
    """An ApprovalRequester that approves at once and records what the thread showed then."""

    def __init__(self, adapter: FakeAdapter) -> None:
        self.adapter = adapter
        self.asked: list[tuple[str, list[str]]] = []  # (command, full code as seen when asked)

    async def request(self, *, command: str, **_: object) -> ApprovalOutcome:
        self.asked.append((command, shown_code(self.adapter)))
        return ApprovalOutcome(
            decision=Decision.APPROVE, decided_by=BOSS, decided_at=datetime.now(UTC)
        )


def shown_code(adapter: FakeAdapter) -> list[str]:
    """Each way the thread shows code so far: an attached ``.py`` file, fenced messages."""
    ways = [data.decode() for _ref, name, data, _mime in adapter.files if name.endswith(".py")]
    fenced = [t for t in adapter.texts() if t.startswith("```python\n")]
    if fenced:
        ways.append(
            "".join(t.removeprefix("```python\n").removesuffix("\n```") + "\n" for t in fenced)
        )
    return ways


async def _review(db: Database, runner: SkillRunner, adapter: FakeAdapter, source: str):  # type: ignore[no-untyped-def]
    lib = SkillLibrary(SkillStore(db), runner=runner, builtin_dir=None, clock=FakeClock())
    approver = Approver(adapter)
    review = SkillReview(lib, SkillStore(db), approver, clock=FakeClock())
    saved = await review.review(
        _draft(source), chat=CHAT, adapter=adapter, task_id="t1", requester=BOSS, note="n"
    )
    return saved, approver, lib


async def test_long_code_is_attached_before_the_prompt_with_a_card_beside_it(
    db: Database, runner: SkillRunner
) -> None:
    adapter = FakeAdapter()
    saved, approver, _lib = await _review(db, runner, adapter, LONG)

    ((ref, filename, data, mime),) = adapter.files
    assert (filename, data, mime) == ("port_name.py", LONG.encode(), "text/x-python")
    assert ref.chat == CHAT
    sha = hashlib.sha256(LONG.encode()).hexdigest()
    card = adapter.texts()[1]
    assert card.startswith("🛠 Proposed skill `port_name` v1 — Say hi.")
    assert f"sha256 `{sha}`" in card and "attached above as `port_name.py`" in card
    assert "\n".join(LONG.splitlines()[:HEAD_LINES]) in card  # the head of the code
    assert LONG.splitlines()[HEAD_LINES + 1] not in card  # ... and only the head
    assert "• say hi please" in card and "say hi please → ok: hi" in adapter.texts()[2]
    assert not any(t.startswith("```python") for t in adapter.texts())  # no split copies
    (command, seen) = approver.asked[0]
    assert seen == [LONG] and "code in port_name.py above" in command
    assert saved is not None and saved.version == 1


async def test_short_code_stays_inline(db: Database, runner: SkillRunner) -> None:
    adapter = FakeAdapter()
    saved, approver, _lib = await _review(db, runner, adapter, SHORT)
    assert adapter.files == []
    assert approver.asked[0][1] == [SHORT]
    assert "(sha256 " in approver.asked[0][0] and "code above)" in approver.asked[0][0]
    assert saved is not None


async def test_code_that_does_not_fit_one_message_is_attached_even_when_short(
    db: Database, runner: SkillRunner
) -> None:
    adapter = FakeAdapter(capabilities=Capabilities(240, 0.0, buttons=True))
    await _review(db, runner, adapter, SHORT)  # 11 lines, but over 240 characters fenced
    assert [name for _ref, name, _data, _mime in adapter.files] == ["say_hi.py"]
    assert all(len(t) <= 240 for t in adapter.texts())


@pytest.mark.parametrize(
    "refusal", [PlatformError("files are not allowed here"), RateLimited(120.0)]
)
async def test_a_refused_upload_falls_back_to_fenced_messages(
    db: Database, runner: SkillRunner, refusal: PlatformError
) -> None:
    adapter = FakeAdapter()
    adapter.refuse_files = refusal
    saved, approver, _lib = await _review(db, runner, adapter, LONG)
    assert adapter.files == [] and adapter.ops("file-refused")
    header = adapter.texts()[0]
    assert "`port_name.py` could not be attached" in header
    ((command, seen),) = approver.asked
    assert seen == [LONG] and "code above" in command
    assert saved is not None


@pytest.mark.parametrize(
    ("source", "refuse_files", "refuse_posts"),
    [
        (LONG, False, []),  # attached
        (LONG, True, []),  # refused file: fenced messages
        (LONG, True, ["    30: 'svc_30'"]),  # refused file, and one part of the code
        (LONG, True, ["could not be attached"]),  # refused file, and the header before the code
        (SHORT, False, ['return ok("hi")']),  # inline code refused
    ],
)
async def test_no_approval_is_asked_unless_the_whole_code_was_shown(
    db: Database,
    runner: SkillRunner,
    source: str,
    refuse_files: bool,
    refuse_posts: list[str],
) -> None:
    adapter = FakeAdapter()
    if refuse_files:
        adapter.refuse_files = PlatformError("413 request entity too large")
    adapter.refuse_posts = refuse_posts
    saved, approver, lib = await _review(db, runner, adapter, source)
    for _command, seen in approver.asked:
        assert source in seen  # whenever an approver is asked, the whole code is on screen
    if refuse_posts:
        assert approver.asked == [] and saved is None
        assert lib.get(parse_code_skill(source)["name"]) is None
        (row,) = await SkillStore(db).reviews(parse_code_skill(source)["name"])
        assert row["decision"] == "rejected" and row["reason"].startswith("code not shown")
        assert "Not saved: the code could not be shown to the approvers." in adapter.texts()
    else:
        assert len(approver.asked) == 1 and saved is not None


async def test_code_holding_a_configured_secret_is_refused_before_anything_is_shown(
    db: Database, runner: SkillRunner
) -> None:
    secret = "xoxb-configured-bot-token-42"
    fake = FakeAdapter()
    adapter = RedactingAdapter(fake, Redactor([secret]))
    source = LONG.replace('NAME = "port_name"\n', f'NAME = "port_name"\nTOKEN = "{secret}"\n')
    lib = SkillLibrary(SkillStore(db), runner=runner, builtin_dir=None, clock=FakeClock())
    approver = Approver(fake)
    review = SkillReview(lib, SkillStore(db), approver, clock=FakeClock(), secrets=[secret])

    saved = await review.review(
        _draft(source), chat=CHAT, adapter=adapter, task_id="t1", requester=BOSS, note="n"
    )

    assert saved is None and approver.asked == [] and fake.files == []
    assert fake.texts() == [SECRET_NOTE]
    assert lib.get("port_name") is None
    (row,) = await db.fetchall("SELECT decision, reason, code, code_sha FROM skill_reviews")
    assert row["decision"] == "rejected" and "secret" in row["reason"]
    assert secret not in row["code"] and "TOKEN = " in row["code"]  # kept, masked
    assert row["code_sha"] == hashlib.sha256(row["code"].encode()).hexdigest()
