"""post_file on Matrix (real Synapse): an m.file in the thread, encrypted in encrypted rooms."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from nio.crypto import decrypt_attachment

from core.events import ChatRef

pytestmark = pytest.mark.synapse

CODE = b"def run(params):\n    return 1\n" * 30


async def _download(synapse, human, mxc: str) -> bytes:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient() as http:
        resp = await http.get(
            f"{synapse.url}/_matrix/client/v1/media/download/{mxc.removeprefix('mxc://')}",
            headers={"Authorization": f"Bearer {human.reg.access_token}"},
        )
    assert resp.status_code == 200, resp.text
    return resp.content


async def test_a_file_is_an_m_file_in_the_thread(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    ana = await make_human("ana")
    reg = await synapse.aregister("hearth")
    bot = await make_bot(reg, tmp_path / "m", allowed=frozenset({f"matrix:{ana.user_id}"}))
    room = await ana.create_room(invite=[reg.user_id])
    await ana.wait_joined(room, reg.user_id)
    root = await ana.say(room, "learn something")

    ref = await bot.adapter.post_file(
        ChatRef("matrix", room, root), CODE, "tool.py", "the **code**", "text/x-python"
    )

    event = await ana.wait_for(lambda e: e.get("event_id") == ref.message_id)
    content = event["content"]
    assert content["msgtype"] == "m.file" and content["filename"] == "tool.py"
    assert content["info"] == {"mimetype": "text/x-python", "size": len(CODE)}
    assert content["body"] == "the **code**"
    assert "<strong>code</strong>" in content["formatted_body"]
    assert content["m.relates_to"]["rel_type"] == "m.thread"
    assert content["m.relates_to"]["event_id"] == root
    assert await _download(synapse, ana, content["url"]) == CODE


async def test_in_an_encrypted_room_the_file_is_encrypted_before_upload(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    ana = await make_human("ana", encrypted=True)
    reg = await synapse.aregister("hearth")
    bot = await make_bot(
        reg, tmp_path / "m", password_login=True, allowed=frozenset({f"matrix:{ana.user_id}"})
    )
    room = await ana.create_room(invite=[reg.user_id], encrypted=True)
    await ana.wait_joined(room, reg.user_id)

    ref = await bot.adapter.post_file(
        ChatRef("matrix", room), CODE, "tool.py", "code", "text/x-python"
    )

    event = await ana.wait_for(lambda e: e.get("event_id") == ref.message_id)
    assert event["type"] == "m.room.message"  # what ana's client decrypted
    content = event["content"]
    assert content["msgtype"] == "m.file" and "url" not in content
    file = content["file"]
    stored = await _download(synapse, ana, file["url"])
    assert stored != CODE and b"def run" not in stored  # ciphertext on the server
    plain = decrypt_attachment(stored, file["key"]["k"], file["hashes"]["sha256"], file["iv"])
    assert plain == CODE
    assert content["info"]["mimetype"] == "text/x-python"  # the type, inside the encryption
