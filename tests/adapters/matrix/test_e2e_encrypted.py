"""End to end against a real Synapse: encrypted rooms get one clear notice, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.matrix.translate import ENCRYPTION_NOTICE
from core.events import IncomingMessage
from tests.adapters.matrix.conftest import Recorder

pytestmark = pytest.mark.synapse


async def test_encrypted_room_is_told_once_that_e2ee_is_unsupported(
    synapse, make_human, make_bot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    human = await make_human("ana")
    reg = await synapse.aregister("hearth")
    sink = Recorder()
    await make_bot(reg, tmp_path / "m", sink=sink, allowed=frozenset({f"matrix:{human.user_id}"}))
    secret = await human.create_room(invite=[reg.user_id], encrypted=True)
    notice = await human.wait_for(
        lambda e: (
            e.get("room_id") == secret
            and e.get("sender") == reg.user_id
            and e.get("type") == "m.room.message"
        )
    )
    assert notice["content"]["body"] == ENCRYPTION_NOTICE
    # An encrypted message (undecryptable for the bot) is skipped without a second notice.
    await human.client.room_send(
        secret,
        "m.room.encrypted",
        {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgA",
            "sender_key": "x",
            "device_id": "D",
            "session_id": "s",
        },
    )
    # A plain room afterwards still works: the sync loop survived.
    plain = await human.create_room(invite=[reg.user_id], direct=True)
    await human.wait_joined(plain, reg.user_id)
    await human.say(plain, "still there?")
    await sink.wait_for(lambda e: isinstance(e, IncomingMessage) and e.text == "still there?")
    notices = [
        e
        for e in human.timeline
        if e.get("sender") == reg.user_id and e.get("type") == "m.room.message"
    ]
    assert len(notices) == 1
    assert "end-to-end encrypted" in caplog.text
