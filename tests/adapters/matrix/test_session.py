"""The persisted Matrix session: atomic, private, tolerant of damage, bounded."""

from __future__ import annotations

from pathlib import Path

from adapters.matrix.session import RECENT_EVENTS_KEPT, MatrixSession, SessionStore


def test_round_trip_is_private_and_atomic(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "matrix")
    assert store.load() is None
    session = MatrixSession(
        user_id="@hearth:example.org",
        homeserver="https://hs",
        access_token="syt_secret",
        device_id="DEV",
        sync_token="s1",
        recent_events=("$a",),
        warned_rooms=("!r",),
    )
    store.save(session)
    assert store.load() == session
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in store.path.parent.iterdir()] == [store.path.name]  # no temp left
    assert "syt_secret" not in repr(session)  # the token never reaches logs via repr


def test_a_damaged_file_means_a_fresh_session_not_a_crash(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    for garbage in ("{not json", "[]", '{"user_id": "@a:b"}', ""):
        store.path.write_text(garbage, encoding="utf-8")
        assert store.load() is None


def test_remembered_events_are_bounded_and_deduplicated() -> None:
    session = MatrixSession(user_id="@a:b", homeserver="h")
    for i in range(RECENT_EVENTS_KEPT + 10):
        session = session.with_events([f"${i}"])
    session = session.with_events([f"${RECENT_EVENTS_KEPT + 9}"])
    assert len(session.recent_events) == RECENT_EVENTS_KEPT
    assert session.recent_events[-1] == f"${RECENT_EVENTS_KEPT + 9}"
    assert len(set(session.recent_events)) == RECENT_EVENTS_KEPT
    assert session.with_events([]) is session
