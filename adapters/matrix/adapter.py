"""MatrixAdapter: hearth on a Matrix homeserver through matrix-nio's AsyncClient.

One sync loop delivers room messages and reactions to the core's sink, each thread's in order
and different threads at once (adapters/matrix/intake.py, lanes.py); posts go into the task's
``m.thread``, streaming edits are ``m.replace`` events (adapters/matrix/sender.py), approvals
are ✅/❌ reactions (Matrix has no buttons; adapters/matrix/approvals.py). Sessions (access
token, device id, sync token) persist under ``store_dir``, and so does the end-to-end
encryption store (``store_dir/crypto``): encrypted rooms and DMs work like plain ones, with
device trust by ``MATRIX_TRUST`` (see adapters/matrix/crypto.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

import nio

from adapters.matrix import approvals, translate
from adapters.matrix.crypto import CRYPTO_DIR, CryptoKeeper, CryptoStore, TrustPolicy
from adapters.matrix.intake import Intake
from adapters.matrix.lanes import Lanes
from adapters.matrix.sender import TRANSPORT_ERRORS, Sender
from adapters.matrix.session import SessionKeeper, SessionStore, log_in
from core.clock import SystemClock
from core.errors import ConfigError, PlatformError
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, MessageRef
from core.ports import Capabilities, Clock, EventSink

log = logging.getLogger(__name__)

DEFAULT_CAPABILITIES = Capabilities(
    max_message_chars=16_000,  # edits carry the text twice (+ HTML); events stop at 64 KiB
    # A homeserver limits events per ACCOUNT (Synapse's default: a burst of 10, then one per
    # 5 s; bots are usually exempted), which no per-thread spacing can keep: 429s and their
    # retry_after do (sender.py, core/pacer.py). This pace only keeps a streamed answer's edit
    # events few and readable, like Discord's; a slower one held final answers back.
    min_edit_interval=1.0,
    buttons=False,
    threads=True,
    reactions=True,
)
SYNC_TIMEOUT_MS = 30_000
# Timeline events per room and sync: Synapse's default of 10 would drop user messages that
# arrive together with a burst of our own streaming edits.
_SYNC_FILTER = {"room": {"timeline": {"limit": 100}}, "presence": {"types": []}}
_INITIAL_FILTER = {"room": {"timeline": {"limit": 1}}, "presence": {"types": []}}
# Inbound handling: different threads at once (bounded), one thread in order; at shutdown the
# handlers still running get HANDLER_GRACE to finish before they are cancelled.
MAX_HANDLERS = 64
HANDLER_GRACE = 0.5


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
        self._crypto_dir = store_dir / CRYPTO_DIR
        self._device_id = device_id
        # Trust on first use covers the people allowed to invite (and so to use) hearth.
        self._crypto = CryptoKeeper(trust, allowed_inviters)
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
        self._clock = clock or SystemClock()
        self._sync_timeout_ms = sync_timeout_ms
        self._device_name = device_name
        self._keeper = SessionKeeper(SessionStore(store_dir), self._clock)
        self._sender = Sender(self._clock, send_retry_budget)
        self._prompts = approvals.Prompts()
        self._intake = Intake(
            user_id=user_id,
            allowed_inviters=allowed_inviters,
            accept_direct=accept_direct_invites,
            known_bots=known_bots,
            crypto=self._crypto,
            prompts=self._prompts,
            keeper=self._keeper,
            sender=self._sender,
            clock=self._clock,
            replay_skew=replay_skew,
        )
        self._connected = False
        # Our own posts and edits never come back: each echo would cost a sync round trip.
        timeline = {**_SYNC_FILTER["room"]["timeline"], "not_senders": [user_id]}
        self._sync_filter = {**_SYNC_FILTER, "room": {"timeline": timeline}}
        self._since: str | None = None  # the next sync's token (stored: see checkpoints.py)
        self._lanes: Lanes | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        """True once the initial sync is done, until the sync loop stops or fails."""
        return self._connected

    @property
    def device_id(self) -> str | None:
        """The device this bot logged in as (None before login)."""
        session = self._keeper.session
        return session.device_id if session else None

    async def run(self, sink: EventSink) -> None:
        """Log in, sync once without delivering history, then deliver events until cancelled."""
        self._crypto_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        client = nio.AsyncClient(
            self._homeserver,
            self._user_id,
            config=self._config,
            store_path=str(self._crypto_dir),
        )
        self._sender.client = client
        lanes = self._lanes = Lanes(MAX_HANDLERS)
        self._intake.open(lanes)
        try:
            try:
                self._keeper.session = await log_in(
                    client,
                    self._keeper.store,
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
            except TRANSPORT_ERRORS as exc:
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
                self._lanes = None
                self._intake.close()
                self._sender.client = None
                self._keeper.flush()
                await client.close()

    async def _load_display_name(self, client: nio.AsyncClient) -> None:
        resp = await client.get_displayname(self._user_id)
        name = getattr(resp, "displayname", None) or ""
        self._intake.bot = translate.BotIdentity(self._user_id, name)

    async def _initial_sync(self, client: nio.AsyncClient) -> bool:
        """Bring state up to date without delivering history; True when resuming from a token.

        Without a stored sync token, one full sync fetches state (and pending invites) and its
        timeline is skipped. With a stored token syncing resumes from it, but events the server
        stamped before this start (minus a small skew) are never delivered: Synapse may replay a
        cached response for that token (TESTING-NOTES §1.6b), and catching up from an old token
        can take several batches.
        """
        session = self._keeper.session
        assert session is not None
        self._intake.recall(session.recent_events)
        self._since = session.sync_token
        if session.sync_token:
            return True
        resp = await client.sync(timeout=0, full_state=True, sync_filter=_INITIAL_FILTER)
        if not isinstance(resp, nio.SyncResponse):
            raise PlatformError(f"Matrix initial sync failed: {resp}")
        await self._intake.handle_invites(client, resp)
        self._since = resp.next_batch
        self._keeper.save_token(resp.next_batch)
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
            except TRANSPORT_ERRORS as exc:
                resp = None
                log.warning("matrix: sync failed (%s); retrying in %.0fs", exc, backoff)
            if isinstance(resp, nio.SyncResponse):
                self._connected = True
                backoff = 1.0
                full_state = False
                # Keys first: members' devices are known before anything is sent to them.
                await self._upkeep(client)
                await self._intake.handle_sync(client, resp, sink)
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
        except TRANSPORT_ERRORS as exc:
            log.warning("matrix: key upkeep failed (%r); retrying after the next sync", exc)
            return
        trusted = self._crypto.trusted_count(client)
        self._keeper.update(trusted_devices=trusted, encrypted=client.olm is not None)

    # ------------------------------------------------------------ outbound

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Post ``text`` (Markdown) with an HTML body, in the chat's ``m.thread`` if any."""
        return await self._sender.post(chat, text)

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """An ``m.image`` in the chat (encrypted before upload in an encrypted room)."""
        return await self._sender.post_image(chat, data, filename, caption)

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """An ``m.file`` in the chat (encrypted before upload in an encrypted room)."""
        return await self._sender.post_file(chat, data, filename, caption, mime)

    async def edit(self, ref: MessageRef, text: str) -> None:
        """Replace a message's text with an ``m.replace`` event; 429 → RateLimited at once."""
        await self._sender.edit(ref, text)

    async def react(self, ref: MessageRef, key: str) -> None:
        """Annotate a message with the emoji ``key``."""
        await self._sender.react(ref, key)

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Post the prompt in the task's thread and pre-add ✅ and ❌ for approvers to click."""
        text = approvals.approval_prompt_text(request)
        ref = await self.post(chat, text)
        self._prompts.add(ref.message_id, approvals.Prompt(request.id, chat, text))
        for key in (approvals.APPROVE_KEY, approvals.DENY_KEY):
            try:
                await self.react(ref, key)
            except PlatformError as exc:
                # The prompt is up and `approve <id>` still works; clicking needs no pre-add.
                log.warning("matrix: could not pre-add %s to prompt %s: %s", key, request.id, exc)
        return ref

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Edit the prompt to show the outcome and who decided; its reactions then do nothing."""
        known = self._prompts.pop(prompt.message_id)
        original = known.text if known else await self._sender.fetch_body(prompt)
        text = approvals.closed_prompt_text(original, outcome)
        await self._sender.edit(prompt, text, wait=True)
