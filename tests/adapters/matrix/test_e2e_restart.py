"""End to end against a real Synapse: restarts keep the device and never replay history."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import nio
import pytest

from adapters.matrix.session import SessionStore
from core.events import IncomingMessage
from tests.adapters.matrix.conftest import Recorder

pytestmark = pytest.mark.synapse


def _texts(sink: Recorder) -> list[str]:
    return [e.text for e in sink.events if isinstance(e, IncomingMessage)]


async def _room_with_bot(
    synapse, make_human, make_bot, store: Path, sink: Recorder, *, direct: bool = False
):
    human = await make_human("ana")
    await human.client.set_displayname("Ana")
    reg = await synapse.aregister("hearth")
    bot = await make_bot(
        reg, store, sink=sink, password_login=True, allowed=frozenset({f"matrix:{human.user_id}"})
    )
    others = [] if direct else [(await make_human("bo")).user_id]
    room = await human.create_room(invite=[reg.user_id, *others], direct=direct)
    await human.wait_joined(room, reg.user_id)
    return human, bot, room


async def test_restart_resumes_from_the_stored_token_on_the_same_device(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    store = tmp_path / "matrix"
    first_sink = Recorder()
    human, bot, room = await _room_with_bot(
        synapse, make_human, make_bot, store, first_sink, direct=True
    )
    device = bot.adapter.device_id
    await human.say(room, f"{bot.reg.user_id}: before the restart")
    await first_sink.wait_for(lambda e: isinstance(e, IncomingMessage))
    await bot.stop()

    saved = SessionStore(store).load()
    assert saved is not None and saved.sync_token and saved.device_id == device
    assert (store / "matrix-session.json").stat().st_mode & 0o777 == 0o600

    second_sink = Recorder()
    again = await make_bot(bot.reg, store, sink=second_sink, password_login=True)
    await human.say(room, f"{bot.reg.user_id}: after the restart")
    after = await second_sink.wait_for(lambda e: isinstance(e, IncomingMessage))
    assert _texts(second_sink) == ["after the restart"]
    # Room state is complete after a restart too: still a DM, the sender still has a name.
    assert (after.is_direct, after.author.display_name) == (True, "Ana")
    assert again.adapter.device_id == device
    devices = await again.adapter._sender.client.devices()
    assert isinstance(devices, nio.DevicesResponse)
    # The registration's own device plus the one the bot logged in as: none per restart.
    assert sorted(d.id for d in devices.devices) == sorted({bot.reg.device_id, device})


async def test_a_replayed_sync_does_not_deliver_old_messages(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    """Synapse may answer a restarted bot's first sync from its cache (the old batch again)."""
    store = tmp_path / "matrix"
    first_sink = Recorder()
    human, bot, room = await _room_with_bot(synapse, make_human, make_bot, store, first_sink)
    before = SessionStore(store).load()
    assert before is not None
    await human.say(room, f"{bot.reg.user_id}: old request")
    await first_sink.wait_for(lambda e: isinstance(e, IncomingMessage))
    await bot.stop()

    # Rewind to the token from before the old request and forget what was delivered: the
    # first sync after the restart now returns the old batch, exactly like a cached replay.
    after = SessionStore(store).load()
    assert after is not None and after.sync_token != before.sync_token
    SessionStore(store).save(replace(after, sync_token=before.sync_token, recent_events=()))

    second_sink = Recorder()
    await make_bot(bot.reg, store, sink=second_sink, password_login=True, replay_skew=0.0)
    await human.say(room, f"{bot.reg.user_id}: new request")
    await second_sink.wait_for(lambda e: isinstance(e, IncomingMessage))
    assert _texts(second_sink) == ["new request"]


async def test_rejected_access_token_is_a_clear_error(synapse, make_bot, tmp_path: Path) -> None:
    reg = await synapse.aregister("hearth")
    bad = replace(reg, access_token="syt_not_a_real_token")
    bot = await make_bot(bad, tmp_path / "m", start=False)
    with pytest.raises(Exception, match="MATRIX_ACCESS_TOKEN was rejected"):
        await bot.adapter.run(Recorder())
    assert not bot.adapter.connected


async def test_the_stored_event_ids_stop_a_replay_the_timestamps_would_let_through(
    synapse, make_human, make_bot, tmp_path: Path
) -> None:
    """The ids of delivered events survive a restart and guard on their own.

    A huge replay skew makes the timestamp check accept the old request, so only the adapter's
    dedup of the event ids restored from the session file can keep it from running twice.
    """
    store = tmp_path / "matrix"
    first_sink = Recorder()
    human, bot, room = await _room_with_bot(synapse, make_human, make_bot, store, first_sink)
    before = SessionStore(store).load()
    assert before is not None
    await human.say(room, f"{bot.reg.user_id}: old request")
    await first_sink.wait_for(lambda e: isinstance(e, IncomingMessage))
    await bot.stop()

    after = SessionStore(store).load()
    assert after is not None and after.recent_events  # the delivered id was stored
    SessionStore(store).save(replace(after, sync_token=before.sync_token))

    second_sink = Recorder()
    await make_bot(bot.reg, store, sink=second_sink, password_login=True, replay_skew=3600.0)
    await human.say(room, f"{bot.reg.user_id}: new request")
    await second_sink.wait_for(
        lambda e: isinstance(e, IncomingMessage) and e.text == "new request"
    )
    assert _texts(second_sink) == ["new request"]
