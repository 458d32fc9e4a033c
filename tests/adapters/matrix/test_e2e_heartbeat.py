"""Heartbeat reports render bold on Matrix; the digest picture is uploaded, then an m.image."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from core.events import ChatRef
from tests.support.heartbeat_flow import tell

pytestmark = pytest.mark.synapse


async def test_report_is_bold_and_the_digest_sends_an_image(
    synapse, make_human, make_bot, tmp_path: Path, db
) -> None:
    ana = await make_human("ana")
    reg = await synapse.aregister("hearth")
    bot = await make_bot(reg, tmp_path / "m", allowed=frozenset({f"matrix:{ana.user_id}"}))
    room = await ana.create_room(invite=[reg.user_id])
    await ana.wait_joined(room, reg.user_id)

    story = await tell(bot.adapter, ChatRef("matrix", room), db)

    report = await ana.wait_for(lambda e: e.get("event_id") == story.failure.posted.message_id)
    assert report["content"]["body"].startswith("🔴 **Heartbeat: CRITICAL**")
    assert "<strong>Heartbeat: CRITICAL</strong>" in report["content"]["formatted_body"]

    image = await ana.wait_for(
        lambda e: e.get("room_id") == room and e.get("content", {}).get("msgtype") == "m.image"
    )
    content = image["content"]
    assert content["url"].startswith("mxc://")
    assert content["filename"].endswith(".png") and content["info"]["mimetype"] == "image/png"
    assert content["body"].startswith("Heartbeat timeline, last 24 h")
    assert content["info"]["size"] == len(story.png)
    # Authenticated media (Matrix v1.11): what a client fetches to show the picture.
    server_media = content["url"].removeprefix("mxc://")
    async with httpx.AsyncClient() as http:
        resp = await http.get(
            f"{synapse.url}/_matrix/client/v1/media/download/{server_media}",
            headers={"Authorization": f"Bearer {ana.reg.access_token}"},
        )
    assert resp.status_code == 200, resp.text
    assert resp.content == story.png  # the media repository holds the very picture
    digest = [
        e
        for e in ana.bot_messages(room, reg.user_id)
        if e["content"].get("body", "").startswith("📋 **Heartbeat digest**")
    ]
    assert len(digest) == 1  # the text digest stays
