"""Intake: each sync's new events, as jobs for the core's sink in their thread's lane.

Messages and reactions become core events (adapters/matrix/translate.py), handled in order
within a thread and concurrently across threads (adapters/matrix/lanes.py); events from before
this start, and events already delivered, are never delivered again. A message that cannot be
read (undecryptable, or from a device not trusted) gets a notice in its room instead of
silence. Invites are accepted from the people allowed to invite, and DMs when pairing is on.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping

import nio

from adapters.matrix import approvals, translate
from adapters.matrix.checkpoints import Checkpoints, Job
from adapters.matrix.crypto import UNDECRYPTABLE_NOTICE, UNVERIFIED_NOTICE, CryptoKeeper
from adapters.matrix.lanes import Lanes
from adapters.matrix.sender import TRANSPORT_ERRORS, Sender
from adapters.matrix.session import SessionKeeper
from core.errors import PlatformError
from core.events import ApprovalResponse, ChatRef, Event, IncomingMessage, Reaction
from core.ports import Clock, EventSink, deliver

log = logging.getLogger(__name__)

DELIVERED_KEPT = 2048  # event ids delivered by this process, never delivered twice


class Intake:
    """Hands each sync's events to the lanes; ``open(lanes)`` when a run begins."""

    def __init__(
        self,
        *,
        user_id: str,
        allowed_inviters: frozenset[str],
        accept_direct: bool,
        known_bots: frozenset[str],
        crypto: CryptoKeeper,
        prompts: approvals.Prompts,
        keeper: SessionKeeper,
        sender: Sender,
        clock: Clock,
        replay_skew: float,
    ) -> None:
        self._user_id = user_id
        self._allowed_inviters = allowed_inviters
        # DM pairing: anyone may open a direct chat to ask for a pairing code.
        self._accept_direct = accept_direct
        self._known_bots = known_bots
        self._crypto = crypto
        self._prompts = prompts
        self._keeper = keeper
        self._sender = sender
        self._clock = clock
        self._replay_skew = replay_skew
        self.bot = translate.BotIdentity(user_id)
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._ignored_invites: set[str] = set()
        self._started = (0.0, 0.0)  # (monotonic, wall) when the run began
        self._checkpoints: Checkpoints | None = None

    def open(self, lanes: Lanes) -> None:
        """A run begins: events are handled in ``lanes``; older ones are never delivered."""
        self._started = (self._clock.monotonic(), self._clock.now())
        self._checkpoints = Checkpoints(lanes, self._keeper.save_token, self._forget)

    def close(self) -> None:
        """The run ended."""
        self._checkpoints = None

    def recall(self, delivered: tuple[str, ...]) -> None:
        """Events a previous run delivered (from the stored session): never again."""
        for event_id in delivered:
            self._remember(event_id)

    async def handle_sync(
        self,
        client: nio.AsyncClient,
        resp: nio.SyncResponse,
        sink: EventSink,
    ) -> None:
        """Hand the sync's new events to their lanes, in order, without waiting for them."""
        await self.handle_invites(client, resp)
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
        return lambda: deliver(sink, event, "matrix")

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
                bot=self.bot,
                is_direct=room is not None and room.member_count == 2,
                sender_name=name,
                known_bots=self._known_bots,
            )
        if source.get("type") == "m.reaction":
            target = translate.reaction_target(source)
            prompt = self._prompts.get(target)
            reaction = translate.reaction_to_event(
                source,
                room_id=room_id,
                bot=self.bot,
                sender_name=name,
                target_chat=prompt.chat if prompt else None,
                known_bots=self._known_bots,
            )
            if reaction is not None and prompt is not None:
                # A prompt this process posted: answer it directly. After a restart the
                # plain Reaction reaches the broker, which knows prompts from its store.
                return approvals.reaction_to_approval(reaction, prompt.approval_id) or reaction
            return reaction
        return None

    def _forget(self, event_id: str) -> None:
        self._delivered.pop(event_id, None)

    def _remember(self, event_id: str) -> None:
        self._delivered[event_id] = None
        while len(self._delivered) > DELIVERED_KEPT:
            self._delivered.popitem(last=False)

    async def handle_invites(self, client: nio.AsyncClient, resp: nio.SyncResponse) -> None:
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
            except TRANSPORT_ERRORS as exc:
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
        sender = getattr(event, "sender", "?")
        log.warning("matrix: could not act on a message from %s in %s", sender, room_id)
        if isinstance(event, nio.MegolmEvent) and client.olm is not None:
            with contextlib.suppress(*TRANSPORT_ERRORS, nio.LocalProtocolError):
                await client.request_room_key(event)  # the sender's devices may forward it
        session = self._keeper.session
        assert session is not None
        if room_id in session.warned_rooms:
            return
        self._keeper.update(warned_rooms=(*session.warned_rooms, room_id))
        try:
            await self._sender.post(ChatRef(translate.PLATFORM, room_id), notice)
        except PlatformError as exc:
            log.warning("matrix: could not post the notice in %s: %s", room_id, exc)


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
