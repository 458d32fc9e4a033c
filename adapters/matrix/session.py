"""The bot's Matrix session: logging in, and persisting token, device id, sync token, memos.

One JSON file under the adapter's store directory, written atomically (temp file + rename) and
readable only by the owner, because it holds the access token.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import nio

from core.errors import PlatformError
from core.ports import Clock

log = logging.getLogger(__name__)

SESSION_FILE = "matrix-session.json"
RECENT_EVENTS_KEPT = 256  # event ids delivered lately; a replayed sync must not deliver them again
# A sync that delivered nothing new (our own posts' echoes, mostly) moves the stored token at
# most this often: the session file is written (and fsynced) on the event loop. A restart
# from an older token only skips a few more events (predates() and the stored ids).
TOKEN_SAVE_INTERVAL = 30.0


@dataclass(frozen=True, slots=True)
class MatrixSession:
    """What survives a restart so it neither creates a new device nor replays history."""

    user_id: str
    homeserver: str
    access_token: str | None = field(default=None, repr=False)
    device_id: str | None = None
    sync_token: str | None = None
    recent_events: tuple[str, ...] = ()
    warned_rooms: tuple[str, ...] = ()  # rooms already told a message could not be read
    trusted_devices: int = 0  # devices the trust policy trusts (for hearth doctor)
    encrypted: bool = False  # whether this process ran with end-to-end encryption

    def with_events(self, event_ids: list[str]) -> MatrixSession:
        """A copy remembering ``event_ids`` as delivered (bounded)."""
        if not event_ids:
            return self
        fresh = set(event_ids)
        merged = [e for e in self.recent_events if e not in fresh] + event_ids
        return replace(self, recent_events=tuple(merged[-RECENT_EVENTS_KEPT:]))


class SessionStore:
    """Loads and saves :class:`MatrixSession` as ``<store_dir>/matrix-session.json``."""

    def __init__(self, store_dir: Path) -> None:
        self._dir = store_dir
        self.path = store_dir / SESSION_FILE

    def load(self) -> MatrixSession | None:
        """The stored session, or None when there is none or it is unreadable (logged)."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read %s: %s; starting without a stored session", self.path, exc)
            return None
        try:
            data: dict[str, Any] = json.loads(raw)
            return MatrixSession(
                user_id=str(data["user_id"]),
                homeserver=str(data["homeserver"]),
                access_token=data.get("access_token"),
                device_id=data.get("device_id"),
                sync_token=data.get("sync_token"),
                recent_events=tuple(str(e) for e in data.get("recent_events", ())),
                warned_rooms=tuple(str(r) for r in data.get("warned_rooms", ())),
                trusted_devices=int(data.get("trusted_devices", 0)),
                encrypted=bool(data.get("encrypted", False)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            log.warning(
                "ignoring malformed %s (%s); a fresh session will be created", self.path, exc
            )
            return None

    def save(self, session: MatrixSession) -> None:
        """Write ``session`` atomically with mode 0600."""
        self._dir.mkdir(parents=True, exist_ok=True)
        data = asdict(session)
        data["recent_events"] = list(session.recent_events)
        data["warned_rooms"] = list(session.warned_rooms)
        fd, tmp = tempfile.mkstemp(prefix=".matrix-session-", suffix=".tmp", dir=self._dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class SessionKeeper:
    """The running session: what changes is written at once, a bare sync token now and then."""

    def __init__(self, store: SessionStore, clock: Clock) -> None:
        self.store = store
        self._clock = clock
        self.session: MatrixSession | None = None
        self._unsaved = False  # self.session holds a newer token than the file
        self._saved_at = float("-inf")  # monotonic time of the last session write

    def update(self, **changes: Any) -> None:
        """Change fields of the session (not its token) and write it if anything changed."""
        assert self.session is not None
        session = replace(self.session, **changes)
        if session != self.session:
            self.session = session
            self.write()

    def save_token(self, sync_token: str, delivered: list[str] | None = None) -> None:
        """Move the stored token; written at once when it carries delivered event ids."""
        assert self.session is not None
        session = replace(self.session, sync_token=sync_token).with_events(delivered or [])
        if session == self.session:
            return
        self.session = session
        self._unsaved = True
        if delivered or self._clock.monotonic() - self._saved_at >= TOKEN_SAVE_INTERVAL:
            self.write()

    def flush(self) -> None:
        """Write a token not written yet (at shutdown)."""
        if self._unsaved:
            self.write()

    def write(self) -> None:
        """Write the session now."""
        assert self.session is not None
        self.store.save(self.session)
        self._unsaved = False
        self._saved_at = self._clock.monotonic()


async def log_in(
    client: nio.AsyncClient,
    store: SessionStore,
    *,
    homeserver: str,
    user_id: str,
    access_token: str | None,
    password: str | None,
    device_name: str,
    device_id: str | None = None,
) -> MatrixSession:
    """Log ``client`` in (configured token, stored token, or password) and store the session.

    A configured access token is checked with ``/whoami``. With a password, the stored token is
    reused while it works; otherwise hearth logs in again with the stored device id, so restarts
    never add devices to the account.
    """
    stored = store.load()
    if stored and (stored.user_id != user_id or stored.homeserver != homeserver):
        log.warning("matrix: stored session is for another account; starting fresh")
        stored = None
    session = stored or MatrixSession(user_id=user_id, homeserver=homeserver)
    if access_token:
        # Ask the server which device the token belongs to before restoring the login: the
        # crypto store is per device, so it can only be opened once the device id is known.
        client.user_id, client.access_token = user_id, access_token
        who = await client.whoami()
        if not isinstance(who, nio.WhoamiResponse):
            raise PlatformError(f"MATRIX_ACCESS_TOKEN was rejected by the homeserver: {who}")
        if who.user_id != user_id:
            raise PlatformError(f"MATRIX_ACCESS_TOKEN belongs to {who.user_id}, not {user_id}")
        if device_id and who.device_id and who.device_id != device_id:
            raise PlatformError(
                f"MATRIX_ACCESS_TOKEN belongs to device {who.device_id}, "
                f"not MATRIX_DEVICE_ID={device_id}"
            )
        device = who.device_id or device_id or session.device_id
        if not device:
            raise PlatformError(
                "the homeserver did not say which device MATRIX_ACCESS_TOKEN belongs to; "
                "set MATRIX_DEVICE_ID"
            )
        client.restore_login(user_id, device, access_token)
        session = replace(session, access_token=access_token, device_id=device)
    elif password:
        if device_id and not session.device_id:
            session = replace(session, device_id=device_id)
        session = await _password_login(client, session, password, device_name)
    else:
        raise PlatformError("MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD is required")
    if client.user_id != user_id:
        raise PlatformError(f"the Matrix credentials belong to {client.user_id}, not {user_id}")
    client.device_id = session.device_id or ""
    store.save(session)
    return session


async def _password_login(
    client: nio.AsyncClient, session: MatrixSession, password: str, device_name: str
) -> MatrixSession:
    if session.access_token and session.device_id:
        client.restore_login(session.user_id, session.device_id, session.access_token)
        who = await client.whoami()
        if isinstance(who, nio.WhoamiResponse):
            return session
        log.warning("matrix: stored access token no longer valid (%s); logging in again", who)
    # Reusing the stored device id keeps one device across restarts and re-logins.
    client.device_id = session.device_id or None
    client.access_token = ""
    resp = await client.login(password, device_name=device_name)
    if not isinstance(resp, nio.LoginResponse):
        raise PlatformError(f"Matrix login as {session.user_id} failed: {resp}")
    log.info("matrix: logged in as %s, device %s (stored)", resp.user_id, resp.device_id)
    return replace(session, access_token=resp.access_token, device_id=resp.device_id)
