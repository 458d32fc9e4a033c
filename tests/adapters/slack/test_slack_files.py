"""post_file on Slack: files_upload_v2 into the thread, and the share message as the ref."""

from __future__ import annotations

import pytest

from core.errors import RateLimited
from core.events import ChatRef
from tests.adapters.slack.conftest import Recorder, Starter
from tests.fakes.slack import FakeSlack

CODE = b"def run(params):\n    return 1\n" * 30


async def test_a_file_lands_in_the_thread_with_its_caption(
    start_slack: Starter, fake: FakeSlack
) -> None:
    running = await start_slack("socket", Recorder())
    chat = ChatRef("slack", "C1", "1700000000.000100")
    ref = await running.adapter.post_file(chat, CODE, "tool.py", "the **code**", "text/x-python")

    (upload,) = fake.files.values()
    assert (upload.filename, upload.data, upload.title) == ("tool.py", CODE, "tool.py")
    assert (upload.channel, upload.thread_ts) == ("C1", "1700000000.000100")
    assert ref.message_id == upload.message_ts  # the message that shows the file
    assert fake.messages[ref.message_id].text == "the *code*"  # mrkdwn caption


async def test_a_late_share_is_waited_for_so_the_next_post_lands_below_it(
    start_slack: Starter, fake: FakeSlack
) -> None:
    running = await start_slack("socket", Recorder())
    fake.share_delay = 2  # Slack shares the file a moment after completing the upload
    chat = ChatRef("slack", "C1", "1700000000.000100")
    ref = await running.adapter.post_file(chat, CODE, "tool.py", "code", "text/x-python")
    (upload,) = fake.files.values()
    assert ref.message_id == upload.message_ts
    assert len(fake.calls_of("files.info")) == 3  # asked until the share was there


async def test_a_long_rate_limit_is_handed_to_the_caller(
    start_slack: Starter, fake: FakeSlack
) -> None:
    running = await start_slack("socket", Recorder())
    fake.rate_limit("files.getUploadURLExternal", times=1, retry_after=90)
    with pytest.raises(RateLimited):
        await running.adapter.post_file(
            ChatRef("slack", "C1", None), CODE, "tool.py", "code", "text/x-python"
        )
    assert fake.files == {}
