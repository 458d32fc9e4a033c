"""Heartbeat reports render bold on Matrix; the digest picture is uploaded, then an m.image."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from nio.crypto import decrypt_attachment

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


async def test_in_an_encrypted_room_the_picture_is_encrypted_before_upload(
    synapse, make_human, make_bot, tmp_path: Path, db
) -> None:
    ana = await make_human("ana", encrypted=True)
    reg = await synapse.aregister("hearth")
    bot = await make_bot(
        reg, tmp_path / "m", password_login=True, allowed=frozenset({f"matrix:{ana.user_id}"})
    )
    room = await ana.create_room(invite=[reg.user_id], encrypted=True)
    await ana.wait_joined(room, reg.user_id)

    story = await tell(bot.adapter, ChatRef("matrix", room), db)

    image = await ana.wait_for(
        lambda e: e.get("room_id") == room and e.get("content", {}).get("msgtype") == "m.image"
    )
    file = image["content"]["file"]
    assert "url" not in image["content"] and file["url"].startswith("mxc://")
    async with httpx.AsyncClient() as http:
        resp = await http.get(
            f"{synapse.url}/_matrix/client/v1/media/download/{file['url'][6:]}",
            headers={"Authorization": f"Bearer {ana.reg.access_token}"},
        )
    assert resp.status_code == 200
    assert resp.content != story.png and b"PNG" not in resp.content[:16]  # ciphertext on server
    plain = decrypt_attachment(
        resp.content, file["key"]["k"], file["hashes"]["sha256"], file["iv"]
    )
    assert plain == story.png  # what Element shows after decrypting
