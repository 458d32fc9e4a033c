"""A generated skill's review on every platform: long code arrives as ``<skill>.py`` before the
approval buttons, or as fenced messages when the platform refuses the file.

The real adapter, the real core (dispatcher, pool, broker, TaskThread) and the real SkillReview
run against each platform's server; the assertions read what an approver there would see: the
file's bytes as the server stores them, the messages, and where each sits in the thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.skills.factory import Draft
from core.skills.library import SkillLibrary
from core.skills.model import CodeSkill
from core.skills.review import SkillReview
from core.storage import Database
from core.storage.skills import SkillStore
from core.tasks import TaskContext
from tests.adapters.legs import Leg, until
from tests.adapters.test_contract import _core
from tests.core.skills.test_review import LONG, _draft

SHA = hashlib.sha256(LONG.encode()).hexdigest()


class ReviewRunner:
    """A TaskRunner that puts one generated skill up for review in the task's thread."""

    def __init__(self, broker: Any, source: str) -> None:
        self.broker = broker
        self.draft: Draft = _draft(source)
        self.db: Database | None = None
        self.saved: CodeSkill | None = None
        self.done = asyncio.Event()

    async def run(self, task: TaskContext) -> str:
        assert self.db is not None
        store = SkillStore(self.db)
        review = SkillReview(SkillLibrary(store, builtin_dir=None), store, self.broker)
        try:
            self.saved = await review.review(
                self.draft,
                chat=task.chat,
                adapter=task.thread.adapter,
                task_id=task.task_id,
                requester=task.requester,
                note="port names",
            )
        finally:
            self.done.set()
        return "reviewed"


@dataclass(frozen=True)
class Upload:
    """A file as the approver gets it: name, bytes, caption, and its place in the thread."""

    filename: str
    data: bytes
    caption: str
    position: int


def _real_size(leg: Leg) -> None:
    # The contract legs use a 400-character limit to make streaming quick; a skill's approval
    # prompt (and its card) needs a real platform's room, so this suite gives it 2000.
    leg.adapter.capabilities = dataclasses.replace(
        leg.adapter.capabilities, max_message_chars=2000
    )


def _runner(source: str):  # type: ignore[no-untyped-def]
    """``(holder, factory)``: the factory builds the runner from the broker and keeps it."""
    holder: dict[str, ReviewRunner] = {}

    def runner(broker):  # type: ignore[no-untyped-def]
        holder["r"] = ReviewRunner(broker, source)
        return holder["r"]

    return holder, runner


async def _pending_prompt(h: Any) -> Any:
    async with asyncio.timeout(30):
        while True:
            pending = await h.approvals.pending()
            if pending and pending[0].prompt is not None:
                return pending[0]
            await asyncio.sleep(0.02)


async def test_long_code_is_attached_before_the_buttons_and_approved(
    leg: Leg, tmp_path: Path
) -> None:
    holder, runner = _runner(LONG)
    async with _core(leg, runner, tmp_path) as h:
        holder["r"].db = h.db
        _real_size(leg)
        leg.sink.target = h.dispatcher.handle  # type: ignore[attr-defined]
        await leg.mention("learn the service names of ports")
        record = await _pending_prompt(h)
        chat = record.prompt.chat
        # While the prompt waits, nothing more is posted: all below was there before it.
        files = await uploads(leg, chat)
        texts = "\n".join(await leg.texts(chat))
        prompt_at = await position(leg, chat, record.prompt)
        shown = await leg.prompt_text(record.prompt)
        await leg.click(record.prompt, record.id, leg.approver)
        await until(holder["r"].done.is_set)

    (upload,) = files
    assert upload.filename == "port_name.py"
    assert upload.data == LONG.encode()  # exactly the module, as the server stores it
    assert "port_name.py" in upload.caption and "74 lines" in upload.caption
    assert upload.position < prompt_at  # the file is there before the buttons
    assert "install skill port_name v1" in shown and SHA[:16] in shown
    assert "port_name.py above" in shown
    for fact in (
        "Proposed skill port_name v1",
        SHA,  # the full sha256
        'NAME = "port_name"',  # the head of the code
        "say hi please → ok: hi",  # the dry run
        "please say hi",  # the examples
    ):
        assert fact in texts.replace("`", ""), (fact, texts)  # the terminal drops backticks
    assert "svc_59" not in texts  # the code's tail is only in the file
    assert holder["r"].saved is not None and holder["r"].saved.name == "port_name"


async def test_a_refused_file_shows_the_code_as_messages_before_the_buttons(
    leg: Leg, tmp_path: Path
) -> None:
    if leg.platform == "matrix":
        pytest.skip("the session's Synapse cannot be made to refuse one upload")
    holder, runner = _runner(LONG)
    async with _core(leg, runner, tmp_path) as h:
        holder["r"].db = h.db
        _real_size(leg)
        leg.sink.target = h.dispatcher.handle  # type: ignore[attr-defined]
        refuse_files(leg, tmp_path)
        await leg.mention("learn the service names of ports")
        record = await _pending_prompt(h)
        chat = record.prompt.chat
        files = await uploads(leg, chat)
        texts = await leg.texts(chat)
        await leg.click(record.prompt, record.id, leg.approver)
        await until(holder["r"].done.is_set)

    assert files == []
    joined = "\n".join(texts)
    if leg.platform == "slack":
        joined = html.unescape(joined)  # Slack shows &gt; as >
    assert "`port_name.py` could not be attached" in joined or "port_name.py could not" in joined
    missing = [line for line in LONG.splitlines() if line.strip() and line not in joined]
    assert not missing, missing  # every line of the code was on screen before the buttons
    assert holder["r"].saved is not None


# -- reading each platform -----------------------------------------------------------------


def refuse_files(leg: Leg, tmp_path: Path) -> None:
    """Make the platform refuse the next file uploads."""
    fake: Any = getattr(leg, "fake", None)
    if leg.platform == "slack":
        fake.rate_limit("files.getUploadURLExternal", times=8, retry_after=60)
    elif leg.platform == "discord":
        fake.refuse_attachments = True
    elif leg.platform == "console":
        (tmp_path / "files").write_text("not a folder")  # the save fails: OSError


async def uploads(leg: Leg, chat: Any) -> list[Upload]:
    """The files the bot posted in ``chat``, as the platform stores them."""
    leg_: Any = leg
    if leg.platform == "slack":
        ts = [m.ts for m in leg_._messages(chat)]
        return [
            Upload(
                f.filename, f.data, leg_.fake.messages[f.message_ts].text, ts.index(f.message_ts)
            )
            for f in leg_.fake.files.values()
            if f.channel == chat.channel_id and f.thread_ts == chat.thread_id and f.message_ts
        ]
    if leg.platform == "discord":
        messages = leg_.fake.messages_in(chat.thread_id or chat.channel_id)
        return [
            Upload(name, data, m.content, i)
            for i, m in enumerate(messages)
            for name, _kind, data in m.attachments
        ]
    if leg.platform == "matrix":
        await leg_._settle()
        out = []
        for i, event in enumerate(leg_._bot_events(chat)):
            content = event["content"]
            if content.get("msgtype") == "m.file":
                data = await _download(leg_, content.get("url") or content["file"]["url"])
                out.append(Upload(content["filename"], data, content["body"], i))
        return out
    transcript = leg_.out.getvalue()
    # The path may start a line of its own: the pipe's 120 columns break a long one there.
    found = re.finditer(r"\[file (?P<name>\S+), [^:\]]+:\s+(?P<path>[^\]\s]+)\]", transcript)
    return [
        Upload(
            m["name"],
            await asyncio.to_thread(Path(m["path"]).read_bytes),
            transcript[: m.start()].rstrip().rsplit("\n", 1)[-1],  # the line above it
            m.start(),
        )
        for m in found
    ]


async def position(leg: Leg, chat: Any, ref: Any) -> int:
    """Where the message ``ref`` sits among the bot's messages in ``chat``."""
    leg_: Any = leg
    if leg.platform == "slack":
        return [m.ts for m in leg_._messages(chat)].index(ref.message_id)
    if leg.platform == "discord":
        messages = leg_.fake.messages_in(chat.thread_id or chat.channel_id)
        return [m.id for m in messages].index(ref.message_id)
    if leg.platform == "matrix":
        await leg_._settle()
        return [e["event_id"] for e in leg_._bot_events(chat)].index(ref.message_id)
    return leg_.out.getvalue().index("Approve? [y/N]")  # the terminal's one prompt


async def _download(leg: Any, mxc: str) -> bytes:
    async with httpx.AsyncClient() as http:
        resp = await http.get(
            f"{leg.synapse.url}/_matrix/client/v1/media/download/{mxc.removeprefix('mxc://')}",
            headers={"Authorization": f"Bearer {leg.human.reg.access_token}"},
        )
    resp.raise_for_status()
    return resp.content
