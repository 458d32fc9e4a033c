"""DM pairing on a real Synapse through the whole wiring: a stranger's DM, a code for the admin,
the admin's `pair approve`, and the stranger's first task."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.matrix.conftest import running_hearth

pytestmark = pytest.mark.synapse

CODE = re.compile(r"pairing code is `([A-Z0-9]{8})`")


def _from_bot(bot_id: str, room: str, needle: str):
    def match(e: dict[str, Any]) -> bool:
        content = e.get("content", {})
        body = content.get("m.new_content", content).get("body", "")
        return e.get("room_id") == room and e.get("sender") == bot_id and needle in body

    return match


async def test_pairing_on_matrix_from_dm_to_first_task(
    synapse, make_human, tmp_path: Path
) -> None:
    admin = await make_human("boss")
    stranger = await make_human("newbie")
    reg = await synapse.aregister("hearth")
    admins = f"matrix:{admin.user_id}"
    async with running_hearth(tmp_path, synapse, reg, ADMINS=admins) as (ollama, _):
        # The admin has a DM with hearth (they said `help` there once): they are told there.
        admin_dm = await admin.create_room(invite=[reg.user_id], direct=True)
        await admin.wait_joined(admin_dm, reg.user_id)
        await admin.say(admin_dm, "help")
        await admin.wait_for(_from_bot(reg.user_id, admin_dm, "Commands"))

        # A stranger opens a DM: hearth joins (pairing is on) and answers with a code.
        dm = await stranger.create_room(invite=[reg.user_id], direct=True)
        await stranger.wait_joined(dm, reg.user_id)
        await stranger.say(dm, "hello, may I use you?")
        reply = await stranger.wait_for(_from_bot(reg.user_id, dm, "pairing code is"))
        code = CODE.search(reply["content"]["body"])[1]
        note = await admin.wait_for(_from_bot(reg.user_id, admin_dm, code))
        assert stranger.user_id in note["content"]["body"]

        # The admin approves in their DM; the stranger is told in theirs.
        await admin.say(admin_dm, f"pair approve {code}")
        await admin.wait_for(_from_bot(reg.user_id, admin_dm, "Paired"))
        await stranger.wait_for(_from_bot(reg.user_id, dm, "approved your pairing"))

        # Their next message is a task that runs.
        ollama.queue_json({"subtasks": ["report disk usage"]})
        ollama.queue_text("The disk is 42% full.\nCONFIDENCE: 0.9")
        await stranger.say(dm, "why is the disk so full?")
        await stranger.wait_for(_from_bot(reg.user_id, dm, "42% full"))


async def test_matrix_a_wrong_users_code_and_a_made_up_code_change_nothing(
    synapse, make_human, tmp_path: Path
) -> None:
    admin = await make_human("boss")
    ana = await make_human("ana")
    eve = await make_human("eve")
    reg = await synapse.aregister("hearth")
    admins = await admin.create_room(invite=[reg.user_id])
    env = {"ADMINS": f"matrix:{admin.user_id}", "ADMIN_CHANNEL": f"matrix:{admins}"}
    async with running_hearth(tmp_path, synapse, reg, **env) as (_, app):
        await admin.wait_joined(admins, reg.user_id)
        ana_dm = await ana.create_room(invite=[reg.user_id], direct=True)
        await ana.wait_joined(ana_dm, reg.user_id)
        await ana.say(ana_dm, "hi")
        code = CODE.search(
            (await ana.wait_for(_from_bot(reg.user_id, ana_dm, "pairing code")))["content"]["body"]
        )[1]
        await admin.wait_for(_from_bot(reg.user_id, admins, code))  # ADMIN_CHANNEL

        # Eve sends Ana's code: it is bound to Ana, so Eve only gets her own.
        eve_dm = await eve.create_room(invite=[reg.user_id], direct=True)
        await eve.wait_joined(eve_dm, reg.user_id)
        await eve.say(eve_dm, code)
        own = await eve.wait_for(_from_bot(reg.user_id, eve_dm, "pairing code"))
        assert code not in own["content"]["body"]
        assert not app.dispatcher.pool.active()

        # Approving a made-up code changes nothing.
        await admin.say(admins, f"{reg.user_id}: pair approve ABCDEFGH")
        await admin.wait_for(_from_bot(reg.user_id, admins, "No pairing code"))
