"""post_file on Discord: a multipart attachment in the task's thread; a refusal is an error."""

from __future__ import annotations

import pytest

from core.errors import PlatformError
from core.events import ChatRef
from tests.adapters.discord.conftest import RecordingSink, make_adapter, running
from tests.fakes.discord import GENERAL_ID, FakeDiscord

CODE = b"def run(params):\n    return 1\n" * 30


async def test_a_file_is_attached_with_its_caption(fake: FakeDiscord) -> None:
    async with running(make_adapter(), RecordingSink()) as adapter:
        ref = await adapter.post_file(
            ChatRef("discord", GENERAL_ID), CODE, "tool.py", "the **code**", "text/x-python"
        )
    message = fake.messages[ref.message_id]
    assert message.attachments == [("tool.py", "application/octet-stream", CODE)]
    assert message.content == "the **code**" and message.channel_id == GENERAL_ID


async def test_a_refused_attachment_is_a_platform_error(fake: FakeDiscord) -> None:
    fake.refuse_attachments = True
    async with running(make_adapter(), RecordingSink()) as adapter:
        with pytest.raises(PlatformError, match="413"):
            await adapter.post_file(
                ChatRef("discord", GENERAL_ID), CODE, "tool.py", "code", "text/x-python"
            )
    assert not any(m.attachments for m in fake.messages.values())
