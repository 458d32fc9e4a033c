"""Heartbeat reports render bold on Slack, and the digest picture arrives via files_upload_v2."""

from __future__ import annotations

from core.events import ChatRef
from tests.adapters.slack.conftest import Recorder, Starter
from tests.fakes.slack import FakeSlack
from tests.support.heartbeat_flow import tell

CHANNEL = ChatRef("slack", "C0OPS")


async def test_report_is_bold_and_the_digest_uploads_its_picture(
    start_slack: Starter, fake: FakeSlack, db
) -> None:
    running = await start_slack("socket", Recorder())
    story = await tell(running.adapter, CHANNEL, db)

    report = fake.messages[story.failure.posted.message_id]
    # mrkdwn bold is one asterisk: the neutral **…** must arrive as *…*, never as _…_ (italic).
    assert report.text.startswith("🔴 *Heartbeat: CRITICAL*")
    assert "_Heartbeat" not in report.text

    (upload,) = fake.files.values()
    assert upload.data == story.png and upload.filename.endswith(".png")
    assert upload.channel == "C0OPS"
    shared = fake.messages[upload.message_ts]
    assert shared.files == [upload.id]
    assert shared.text.startswith("Heartbeat timeline, last 24 h")
    texts = [m.text for m in fake.messages.values() if m.channel == "C0OPS"]
    assert texts[-2].startswith("📋 *Heartbeat digest*")  # the text digest stays, before it
