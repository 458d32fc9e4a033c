"""Heartbeat reports render bold on Discord, and the digest picture arrives as an attachment."""

from __future__ import annotations

from core.events import ChatRef
from tests.adapters.discord.conftest import RecordingSink, make_adapter, running
from tests.fakes.discord import GENERAL_ID, FakeDiscord
from tests.support.heartbeat_flow import tell

CHANNEL = ChatRef("discord", GENERAL_ID)


async def test_report_is_bold_and_the_digest_attaches_its_picture(fake: FakeDiscord, db) -> None:
    async with running(make_adapter(), RecordingSink()) as adapter:
        story = await tell(adapter, CHANNEL, db)

    report = fake.messages[story.failure.posted.message_id]
    assert report.content.startswith("🔴 **Heartbeat: CRITICAL**")  # Discord Markdown bold

    (with_file,) = [m for m in fake.messages.values() if m.attachments]
    ((filename, _content_type, data),) = with_file.attachments  # a multipart file part
    assert data == story.png and filename.endswith(".png")
    assert with_file.channel_id == GENERAL_ID
    assert with_file.content.startswith("Heartbeat timeline, last 24 h")
    texts = [m.content for m in fake.messages.values() if m.channel_id == GENERAL_ID]
    assert texts[-2].startswith("📋 **Heartbeat digest**")
