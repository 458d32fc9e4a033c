"""MatrixAdapter: hearth on a Matrix homeserver through matrix-nio's AsyncClient.

One sync loop delivers room messages and reactions to the core's sink, each thread's in order
and different threads at once (adapters/matrix/lanes.py); posts go into the task's
``m.thread``, streaming edits are ``m.replace`` events, approvals are ✅/❌ reactions (Matrix has
no buttons). Sessions (access token, device id, sync token) persist under ``store_dir``, and so
does the end-to-end encryption store (``store_dir/crypto``): encrypted rooms and DMs work like
plain ones, with device trust by ``MATRIX_TRUST`` (see adapters/matrix/crypto.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import nio

from adapters.matrix import translate
from adapters.matrix.checkpoints import Checkpoints, Job
from adapters.matrix.crypto import (
    CRYPTO_DIR,
    UNDECRYPTABLE_NOTICE,
    UNVERIFIED_NOTICE,
    CryptoKeeper,
    CryptoStore,
    TrustPolicy,
)
from adapters.matrix.lanes import Lanes
from adapters.matrix.session import MatrixSession, SessionStore, log_in
from core.clock import SystemClock
from core.errors import ConfigError, MessageTooLong, PlatformError, RateLimited
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalResponse,
    ChatRef,
    Event,
    IncomingMessage,
    MessageRef,
    Reaction,
)
from core.ports import Capabilities, Clock, EventSink

log = logging.getLogger(__name__)

DEFAULT_CAPABILITIES = Capabilities(
    max_message_chars=16_000,  # edits carry the text twice (+ HTML); events stop at 64 KiB
    min_edit_interval=3.0,  # a default Synapse allows a burst of 10, then 1 event per 5 s
    buttons=False,
    threads=True,
    reactions=True,
)
SYNC_TIMEOUT_MS = 30_000
# Timeline events per room and sync: Synapse's default of 10 would drop user messages that
# arrive together with a burst of our own streaming edits.
_SYNC_FILTER = {"room": {"timeline": {"limit": 100}}, "presence": {"types": []}}
_INITIAL_FILTER = {"room": {"timeline": {"limit": 1}}, "presence": {"types": []}}
_TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, nio.LocalProtocolError)
# Inbound handling: different threads at once (bounded), one thread in order; at shutdown the
# handlers still running get HANDLER_GRACE to finish before they are cancelled.
MAX_HANDLERS = 64
HANDLER_GRACE = 0.5
# A sync that delivered nothing new (our own posts' echoes, mostly) moves the stored token at
# most this often: the session file is written (and fsynced) on the event loop. A restart
# from an older token only skips a few more events (predates() and the stored ids).
TOKEN_SAVE_INTERVAL = 30.0


@dataclass(slots=True)
class _Prompt:
    """An approval prompt this process posted: which approval, where, and its text."""

    approval_id: str
    chat: ChatRef
    text: str


class MatrixAdapter:
    """hearth's ChatAdapter for Matrix (plain and end-to-end encrypted rooms and DMs)."""

    platform = "matrix"

    def __init__(
        self,
        *,
        homeserver: str,
        user_id: str,
        access_token: str | None,
        password: str | None,
        store_dir: Path,
        allowed_inviters: frozenset[str],
        accept_direct_invites: bool = False,
        capabilities: Capabilities | None = None,
        client_config: nio.AsyncClientConfig | None = None,
        known_bots: frozenset[str] = frozenset(),
        clock: Clock | None = None,
        sync_timeout_ms: int = SYNC_TIMEOUT_MS,
        replay_skew: float = 5.0,
        send_retry_budget: float = 30.0,
        device_name: str = "hearth",
        device_id: str | None = None,
        trust: TrustPolicy = "allowed",
    ) -> None:
        if not (access_token or password):
            raise ConfigError("MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD is required for Matrix")
        self.capabilities = capabilities or DEFAULT_CAPABILITIES
        self._homeserver = homeserver.rstrip("/")
        self._user_id = user_id
        self._access_token = access_token
        self._password = password
        self._store = SessionStore(store_dir)
        self._crypto_dir = store_dir / CRYPTO_DIR
        self._device_id = device_id
        # Trust on first use covers the people allowed to invite (and so to use) hearth.
        self._crypto = CryptoKeeper(trust, allowed_inviters)
        self._allowed_inviters = allowed_inviters
        # DM pairing: anyone may open a direct chat to ask for a pairing code.
        self._accept_direct = accept_direct_invites
        # max_limit_exceeded=0: a 429 comes back to us (RateLimited) instead of nio sleeping
        # inside the call; max_timeouts bounds nio's silent retries on a dead connection.
        self._config = client_config or nio.AsyncClientConfig(
            max_limit_exceeded=0,
            max_timeouts=2,
            request_timeout=30,
            encryption_enabled=nio.crypto.ENCRYPTION_ENABLED,
            store=CryptoStore if nio.crypto.ENCRYPTION_ENABLED else None,
            store_sync_tokens=False,  # hearth keeps its own token (matrix-session.json)
        )
        self._known_bots = known_bots
        self._clock = clock or SystemClock()
        self._sync_timeout_ms = sync_timeout_ms
        self._replay_skew = replay_skew
        self._send_retry_budget = send_retry_budget
        self._device_name = device_name
        self._client: nio.AsyncClient | None = None
        self._session: MatrixSession | None = None
        self._bot = translate.BotIdentity(user_id)
        self._connected = False
        self._prompts: OrderedDict[str, _Prompt] = OrderedDict()
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._ignored_invites: set[str] = set()
        self._started = (0.0, 0.0)  # (monotonic, wall) when run() began
        # Our own posts and edits never come back: each echo would cost a sync round trip.
        timeline = {**_SYNC_FILTER["room"]["timeline"], "not_senders": [user_id]}
        self._sync_filter = {**_SYNC_FILTER, "room": {"timeline": timeline}}
        self._since: str | None = None  # the next sync's token (stored: see checkpoints.py)
        self._lanes: Lanes | None = None
        self._checkpoints: Checkpoints | None = None
        self._unsaved = False  # self._session holds a newer token than the file
        self._saved_at = float("-inf")  # monotonic time of the last session write

    # ------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        """True once the initial sync is done, until the sync loop stops or fails."""
        return self._connected

    @property
    def device_id(self) -> str | None:
        """The device this bot logged in as (None before login)."""
        return self._session.device_id if self._session else None

    async def run(self, sink: EventSink) -> None:
        """Log in, sync once without delivering history, then deliver events until cancelled."""
        self._crypto_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        client = nio.AsyncClient(
            self._homeserver,
            self._user_id,
            config=self._config,
            store_path=str(self._crypto_dir),
        )
        self._client = client
        self._started = (self._clock.monotonic(), self._clock.now())
        lanes = self._lanes = Lanes(MAX_HANDLERS)
        self._checkpoints = Checkpoints(lanes, self._store_token, self._forget)
        try:
            try:
                self._session = await log_in(
                    client,
                    self._store,
                    homeserver=self._homeserver,
                    user_id=self._user_id,
                    access_token=self._access_token,
                    password=self._password,
                    device_name=self._device_name,
                    device_id=self._device_id,
                )
                await self._load_display_name(client)
                await self._upkeep(client)
                resumed = await self._initial_sync(client)
            except _TRANSPORT_ERRORS as exc:
                raise PlatformError(
                    f"cannot reach the Matrix homeserver {self._homeserver}: {exc!r}"
                ) from exc
            self._connected = True
            log.info(
                "matrix: connected as %s (device %s, encryption %s)",
                self._user_id,
                self.device_id,
                "on" if client.olm is not None else "off",
            )
            await self._sync_loop(client, sink, resumed)
        finally:
            self._connected = False
            try:
                # The handlers still running may post (the client is still open for them).
                await lanes.close(HANDLER_GRACE)
            finally:
                self._lanes = self._checkpoints = None
                self._client = None
                if self._unsaved:
                    self._write_session()
                await client.close()

    async def _load_display_name(self, client: nio.AsyncClient) -> None:
        resp = await client.get_displayname(self._user_id)
        name = getattr(resp, "displayname", None) or ""
        self._bot = translate.BotIdentity(self._user_id, name)

    async def _initial_sync(self, client: nio.AsyncClient) -> bool:
        """Bring state up to date without delivering history; True when resuming from a token.

        Without a stored sync token, one full sync fetches state (and pending invites) and its
        timeline is skipped. With a stored token syncing resumes from it, but events the server
        stamped before this start (minus a small skew) are never delivered: Synapse may replay a
        cached response for that token (TESTING-NOTES §1.6b), and catching up from an old token
        can take several batches.
        """
        assert self._session is not None
        for event_id in self._session.recent_events:
            self._remember(event_id)
        self._since = self._session.sync_token
        if self._session.sync_token:
            return True
        resp = await client.sync(timeout=0, full_state=True, sync_filter=_INITIAL_FILTER)
        if not isinstance(resp, nio.SyncResponse):
            raise PlatformError(f"Matrix initial sync failed: {resp}")
        await self._handle_invites(client, resp)
        self._since = resp.next_batch
        self._save(sync_token=resp.next_batch)
        return False

    async def _sync_loop(self, client: nio.AsyncClient, sink: EventSink, resumed: bool) -> None:
        backoff = 1.0
        # After resuming from a stored token nio knows no room state (members, encryption,
        # names): the first sync asks for all of it; its timeline is still only what is new.
        full_state = resumed
        lanes = self._lanes
        assert lanes is not None
        while True:
            # Past the bound of waiting events, let the homeserver hold the next ones.
            await lanes.wait_for_room()
            try:
                resp = await client.sync(
                    timeout=0 if full_state else self._sync_timeout_ms,
                    sync_filter=self._sync_filter,
                    # Our own token, not nio's: nio skips processing a response whose token
                    # equals its next_batch, which would drop the full state after a restart.
                    since=self._since,
                    full_state=full_state or None,
                )
            except _TRANSPORT_ERRORS as exc:
                resp = None
                log.warning("matrix: sync failed (%s); retrying in %.0fs", exc, backoff)
            if isinstance(resp, nio.SyncResponse):
                self._connected = True
                backoff = 1.0
                full_state = False
                # Keys first: members' devices are known before anything is sent to them.
                await self._upkeep(client)
                await self._handle_sync(client, resp, sink)
                self._since = resp.next_batch
                continue
            if isinstance(resp, nio.SyncError):
                if resp.status_code in {"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"}:
                    raise PlatformError(f"Matrix access token rejected during sync: {resp}")
                if resp.status_code == "M_LIMIT_EXCEEDED":
                    backoff = max(backoff, (resp.retry_after_ms or 5000) / 1000)
                log.warning("matrix: sync error %s; retrying in %.0fs", resp, backoff)
            self._connected = False
            await self._clock.sleep(backoff)
            backoff = min(backoff * 2, 60.0)

    async def _upkeep(self, client: nio.AsyncClient) -> None:
        """Move encryption keys and apply the trust policy; a failure waits for the next sync."""
        try:
            await self._crypto.upkeep(client)
        except _TRANSPORT_ERRORS as exc:
            log.warning("matrix: key upkeep failed (%r); retrying after the next sync", exc)
            return
        assert self._session is not None
        encrypted = client.olm is not None
        trusted = self._crypto.trusted_count(client)
        if (trusted, encrypted) != (self._session.trusted_devices, self._session.encrypted):
            self._session = replace(self._session, trusted_devices=trusted, encrypted=encrypted)
            self._write_session()

    def _store_token(self, sync_token: str, delivered: list[str]) -> None:
        self._save(sync_token=sync_token, delivered=delivered)

    def _save(self, *, sync_token: str, delivered: list[str] | None = None) -> None:
        """Move the stored token; written at once when it carries delivered event ids."""
        assert self._session is not None
        session = replace(self._session, sync_token=sync_token).with_events(delivered or [])
        if session == self._session:
            return
        self._session = session
        self._unsaved = True
        if delivered or self._clock.monotonic() - self._saved_at >= TOKEN_SAVE_INTERVAL:
            self._write_session()

    def _write_session(self) -> None:
        assert self._session is not None
        self._store.save(self._session)
        self._unsaved = False
        self._saved_at = self._clock.monotonic()

    # ------------------------------------------------------------ inbound

    async def _handle_sync(
        self,
        client: nio.AsyncClient,
        resp: nio.SyncResponse,
        sink: EventSink,
    ) -> None:
        """Hand the sync's new events to their lanes, in order, without waiting for them."""
        await self._handle_invites(client, resp)
        delivered: list[str] = []
        jobs: list[Job] = []
        skipped = 0
        started_mono, started_wall = self._started
        uptime_ms = (self._clock.monotonic() - started_mono + self._replay_skew) * 1000
        not_before_ms = (started_wall - self._replay_skew) * 1000
        for room_id, info in resp.rooms.join.items():
            room = client.rooms.get(room_id)
            for event in info.timeline.events:
                source = getattr(event, "source", None)
                if not isinstance(source, Mapping):
                    continue
                event_id = source.get("event_id")
                if not isinstance(event_id, str) or event_id in self._delivered:
                    continue
                if translate.predates(source, uptime_ms=uptime_ms, not_before_ms=not_before_ms):
                    skipped += 1
                    continue
                if isinstance(event, nio.MegolmEvent) or source.get("type") == "m.room.encrypted":
                    # nio decrypts what it holds keys for; this one it could not.
                    self._remember(event_id)
                    job = self._cannot_read_job(client, room_id, event, False)
                    jobs.append(Job(room_id, event_id, job))
                    continue
                if not self._crypto.believes(event):
                    self._remember(event_id)
                    job = self._cannot_read_job(client, room_id, event, True)
                    jobs.append(Job(room_id, event_id, job))
                    continue
                core_event = self._translate(room, room_id, source)
                self._remember(event_id)
                if core_event is None:
                    continue
                delivered.append(event_id)
                jobs.append(Job(_lane(core_event), event_id, self._deliver_job(sink, core_event)))
        if skipped:
            log.info("matrix: skipped %d events from before this start (no replay)", skipped)
        assert self._checkpoints is not None
        self._checkpoints.dispatch(resp.next_batch, delivered, jobs)

    def _deliver_job(self, sink: EventSink, event: Event) -> Callable[[], Awaitable[None]]:
        return lambda: self._deliver(sink, event)

    def _cannot_read_job(
        self, client: nio.AsyncClient, room_id: str, event: object, unverified: bool
    ) -> Callable[[], Awaitable[None]]:
        notice = UNVERIFIED_NOTICE if unverified else UNDECRYPTABLE_NOTICE
        return lambda: self._cannot_read(client, room_id, event, notice)

    def _translate(
        self, room: nio.MatrixRoom | None, room_id: str, source: Mapping
    ) -> Event | None:
        sender = source.get("sender")
        name = (room.user_name(sender) if room and isinstance(sender, str) else None) or ""
        if source.get("type") == "m.room.message":
            return translate.message_to_event(
                source,
                room_id=room_id,
                bot=self._bot,
                is_direct=room is not None and room.member_count == 2,
                sender_name=name,
                known_bots=self._known_bots,
            )
        if source.get("type") == "m.reaction":
            target = translate.reaction_target(source)
            prompt = self._prompts.get(target) if target else None
            reaction = translate.reaction_to_event(
                source,
                room_id=room_id,
                bot=self._bot,
                sender_name=name,
                target_chat=prompt.chat if prompt else None,
                known_bots=self._known_bots,
            )
            if reaction is not None and prompt is not None:
                # A prompt this process posted: answer it directly. After a restart the
                # plain Reaction reaches the broker, which knows prompts from its store.
                return translate.reaction_to_approval(reaction, prompt.approval_id) or reaction
            return reaction
        return None

    async def _deliver(self, sink: EventSink, event: Event) -> None:
        try:
            await sink(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            # One bad event must not stop the sync loop (and so every later message).
            log.exception("matrix: the core failed to handle %r", event)

    def _forget(self, event_id: str) -> None:
        self._delivered.pop(event_id, None)

    def _remember(self, event_id: str) -> None:
        self._delivered[event_id] = None
        while len(self._delivered) > 2048:
            self._delivered.popitem(last=False)

    async def _handle_invites(self, client: nio.AsyncClient, resp: nio.SyncResponse) -> None:
        for room_id, info in resp.rooms.invite.items():
            # nio moves "content" out of invite events' source into an attribute.
            states = [
                {**e.source, "content": getattr(e, "content", None) or e.source.get("content")}
                for e in info.invite_state
                if isinstance(e.source, Mapping)
            ]
            inviter = translate.invite_sender(states, self._user_id)
            direct = self._accept_direct and translate.invite_is_direct(states, self._user_id)
            if inviter is None or not (direct or f"matrix:{inviter}" in self._allowed_inviters):
                if room_id not in self._ignored_invites:
                    self._ignored_invites.add(room_id)
                    log.info(
                        "matrix: ignoring invite to %s from %s (not allowed)", room_id, inviter
                    )
                continue
            try:
                resp_join = await client.join(room_id)
            except _TRANSPORT_ERRORS as exc:
                log.warning("matrix: could not join %s: %r", room_id, exc)
                continue
            if isinstance(resp_join, nio.JoinResponse):
                log.info("matrix: joined %s (invited by %s)", room_id, inviter)
            else:
                log.warning("matrix: could not join %s: %s", room_id, resp_join)

    async def _cannot_read(
        self, client: nio.AsyncClient, room_id: str, event: object, notice: str
    ) -> None:
        """Tell a room once that a message could not be read (never drop it silently)."""
        assert self._session is not None
        sender = getattr(event, "sender", "?")
        log.warning("matrix: could not act on a message from %s in %s", sender, room_id)
        if isinstance(event, nio.MegolmEvent) and client.olm is not None:
            with contextlib.suppress(*_TRANSPORT_ERRORS, nio.LocalProtocolError):
                await client.request_room_key(event)  # the sender's devices may forward it
        if room_id in self._session.warned_rooms:
            return
        self._session = replace(self._session, warned_rooms=(*self._session.warned_rooms, room_id))
        self._write_session()
        try:
            await self.post(ChatRef(self.platform, room_id), notice)
        except PlatformError as exc:
            log.warning("matrix: could not post the notice in %s: %s", room_id, exc)

    # ------------------------------------------------------------ outbound

    def _require_client(self) -> nio.AsyncClient:
        if self._client is None or not self._client.access_token:
            raise PlatformError("the Matrix adapter is not connected")
        return self._client

    async def _send(
        self, room_id: str, event_type: str, content: dict[str, Any], *, wait: bool
    ) -> str:
        """Send one event; returns its id. ``wait``: sleep through 429s within the budget.

        The transaction id stays the same across retries, so the homeserver stores the event
        once even when a response was lost.
        """
        if translate.content_size(content) > translate.MAX_EVENT_BYTES:
            raise MessageTooLong(f"Matrix event of {translate.content_size(content)} bytes")
        client = self._require_client()
        if client.olm is not None and room_id not in client.rooms:
            await self._wait_for_room(client, room_id)
        tx_id = str(uuid.uuid4())
        waited = 0.0
        while True:
            try:
                resp = await client.room_send(
                    room_id, event_type, content, tx_id=tx_id, ignore_unverified_devices=True
                )
            except _TRANSPORT_ERRORS as exc:
                raise PlatformError(f"Matrix send to {room_id} failed: {exc!r}") from exc
            if isinstance(resp, nio.RoomSendResponse):
                return resp.event_id
            code = getattr(resp, "status_code", None)
            if code in {"M_LIMIT_EXCEEDED", 429, "429"}:
                retry_after = (getattr(resp, "retry_after_ms", None) or 5000) / 1000
                if not wait or waited + retry_after > self._send_retry_budget:
                    raise RateLimited(retry_after)
                log.info("matrix: rate limited in %s, waiting %.1fs", room_id, retry_after)
                await self._clock.sleep(retry_after)
                waited += retry_after
                continue
            if code == "M_TOO_LARGE":
                raise MessageTooLong(f"Matrix refused the event as too large: {resp}")
            raise PlatformError(f"Matrix send to {room_id} failed: {resp}")

    async def _wait_for_room(self, client: nio.AsyncClient, room_id: str) -> None:
        """Wait for the sync loop to learn a just-joined room: its encryption state decides
        whether nio encrypts, so nothing is sent into a room nio does not know yet."""
        for _ in range(200):
            await self._clock.sleep(0.05)
            if room_id in client.rooms:
                return
        raise PlatformError(f"Matrix room {room_id} is not known to this client (not joined?)")

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Post ``text`` (Markdown) with an HTML body, in the chat's ``m.thread`` if any."""
        content = translate.message_content(text, thread_id=chat.thread_id)
        event_id = await self._send(chat.channel_id, "m.room.message", content, wait=True)
        return MessageRef(chat, event_id)

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """Upload to the media repository first, then an ``m.image`` event pointing at it.

        In an encrypted room the picture is encrypted before upload (an ``EncryptedFile``), so
        the homeserver never holds it in the clear.
        """
        uri, keys = await self._upload(chat, data, filename, translate.image_type(filename))
        content = translate.image_content(
            uri, filename, caption, data, thread_id=chat.thread_id, keys=keys
        )
        event_id = await self._send(chat.channel_id, "m.room.message", content, wait=True)
        return MessageRef(chat, event_id)

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """Upload to the media repository, then an ``m.file`` event; encrypted like images."""
        mime = mime or translate.file_type(filename)
        uri, keys = await self._upload(chat, data, filename, mime)
        content = translate.file_content(
            uri, filename, caption, data, mime, thread_id=chat.thread_id, keys=keys
        )
        event_id = await self._send(chat.channel_id, "m.room.message", content, wait=True)
        return MessageRef(chat, event_id)

    async def _upload(
        self, chat: ChatRef, data: bytes, filename: str, mime: str
    ) -> tuple[str, dict[str, Any] | None]:
        """``(mxc uri, decryption keys or None)``; encrypted first in an encrypted room."""
        client = self._require_client()
        if client.olm is not None and chat.channel_id not in client.rooms:
            # Whether to encrypt is the room's state: never upload before it is known.
            await self._wait_for_room(client, chat.channel_id)
        room = client.rooms.get(chat.channel_id)
        encrypt = client.olm is not None and room is not None and room.encrypted
        # Ciphertext has no type of its own: the real one stays in the (encrypted) event's info.
        mimetype = "application/octet-stream" if encrypt else mime
        try:
            resp, keys = await client.upload(
                io.BytesIO(data),
                content_type=mimetype,
                filename=filename,
                encrypt=encrypt,
                filesize=len(data),
            )
        except _TRANSPORT_ERRORS as exc:
            raise PlatformError(f"Matrix media upload failed: {exc!r}") from exc
        if not isinstance(resp, nio.UploadResponse):
            raise PlatformError(f"Matrix media upload failed: {resp}")
        return resp.content_uri, keys

    async def edit(self, ref: MessageRef, text: str) -> None:
        """Replace a message's text with an ``m.replace`` event; 429 → RateLimited at once."""
        content = translate.edit_content(ref.message_id, text)
        await self._send(ref.chat.channel_id, "m.room.message", content, wait=False)

    async def react(self, ref: MessageRef, key: str) -> None:
        """Annotate a message with the emoji ``key``."""
        content = translate.reaction_content(ref.message_id, key)
        await self._send(ref.chat.channel_id, "m.reaction", content, wait=True)

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Post the prompt in the task's thread and pre-add ✅ and ❌ for approvers to click."""
        text = translate.approval_prompt_text(request)
        ref = await self.post(chat, text)
        self._prompts[ref.message_id] = _Prompt(request.id, chat, text)
        while len(self._prompts) > 512:
            self._prompts.popitem(last=False)
        for key in (translate.APPROVE_KEY, translate.DENY_KEY):
            try:
                await self.react(ref, key)
            except PlatformError as exc:
                # The prompt is up and `approve <id>` still works; clicking needs no pre-add.
                log.warning("matrix: could not pre-add %s to prompt %s: %s", key, request.id, exc)
        return ref

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Edit the prompt to show the outcome and who decided; its reactions then do nothing."""
        known = self._prompts.pop(prompt.message_id, None)
        original = known.text if known else await self._fetch_body(prompt)
        content = translate.edit_content(
            prompt.message_id, translate.closed_prompt_text(original, outcome)
        )
        await self._send(prompt.chat.channel_id, "m.room.message", content, wait=True)

    async def _fetch_body(self, ref: MessageRef) -> str | None:
        """The body of a message (after a restart the prompt text is not in memory)."""
        client = self._require_client()
        with contextlib.suppress(*_TRANSPORT_ERRORS):
            resp = await client.room_get_event(ref.chat.channel_id, ref.message_id)
            if isinstance(resp, nio.RoomGetEventResponse):
                event = resp.event
                if isinstance(event, nio.MegolmEvent) and client.olm is not None:
                    with contextlib.suppress(nio.EncryptionError):
                        event = client.decrypt_event(event)
                return translate.event_body(event.source)
            log.warning("matrix: could not fetch prompt %s: %s", ref.message_id, resp)
        return None


def _lane(event: Event) -> str:
    """Events of one lane are handled in order: a thread's messages, one message's reactions."""
    match event:
        case IncomingMessage():
            return event.ref.chat.key
        case Reaction():
            return f"reaction:{event.target.message_id}"
        case ApprovalResponse() if event.prompt is not None:
            return f"reaction:{event.prompt.message_id}"
        case ApprovalResponse():
            return f"approval:{event.approval_id}"
    return "other"
