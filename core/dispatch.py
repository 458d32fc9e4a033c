"""Dispatcher: the one event sink every adapter feeds. It returns fast; work runs as tasks."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from core.access import AccessPolicy
from core.builtin_commands import builtin_commands
from core.clock import SystemClock
from core.commands import Command, CommandContext
from core.errors import HearthError, Redelivered
from core.events import ApprovalResponse, Event, IncomingMessage, Reaction, User
from core.metrics import Metrics
from core.notices import PostNotice
from core.outbox import Outbox
from core.ports import ChatAdapter, Clock
from core.storage.seen import RecentKeys, SeenEventStore
from core.storage.tasks import TaskStore
from core.taskpool import TaskPool
from core.tasks import TaskContext
from core.thread import Threads

log = logging.getLogger(__name__)

STOP_WORDS = frozenset({"stop", "cancel", "abort"})
ReactionHandler = Callable[[Reaction], Awaitable[bool]]


INTERRUPTED = (
    "⚠️ hearth restarted while this task was running, so it was interrupted. "
    "Ask again if you still need it."
)


class ApprovalResolver(Protocol):
    """The part of the approval broker the dispatcher calls."""

    async def resolve(self, response: ApprovalResponse) -> bool:
        """Apply a click; False when unknown, decided or unauthorized."""
        ...


class AccessGate(Protocol):
    """Runtime access (core.team.gate.Gate): pairing codes, refusals, per-channel policy."""

    def allows(self, user: User) -> bool:
        """True when ``user`` may go on (``admit`` would answer nobody)."""
        ...

    async def admit(self, msg: IncomingMessage, adapter: ChatAdapter) -> bool:
        """True when the author may go on; otherwise they were already answered."""
        ...

    async def may_start(self, msg: IncomingMessage) -> str | None:
        """None when the author may start a task here, else why not."""
        ...


class Dispatcher:
    """Filters, authorizes and routes events: approvals inline, commands, steering, tasks."""

    def __init__(
        self,
        adapters: Mapping[str, ChatAdapter],
        *,
        pool: TaskPool,
        tasks: TaskStore,
        seen: SeenEventStore,
        access: AccessPolicy,
        broker: ApprovalResolver | None = None,
        commands: Sequence[Command] = (),
        reaction_handlers: Sequence[ReactionHandler] = (),
        threads: Threads | None = None,
        outbox: Outbox | None = None,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        gate: AccessGate | None = None,
    ) -> None:
        self._adapters = adapters
        self._gate = gate
        self._pool = pool
        self._tasks = tasks
        self._seen = seen
        self._recent = RecentKeys()
        self._access = access
        self._broker = broker
        self._reaction_handlers = list(reaction_handlers)
        self._clock = clock or SystemClock()
        self._metrics = metrics or Metrics()
        self._threads = threads or Threads(adapters, clock=self._clock, metrics=self._metrics)
        self._outbox = outbox  # None: restart notices are posted at once (tests)
        all_commands = [*builtin_commands(self._command_list, pool, tasks), *commands]
        self._commands: dict[str, Command] = {}
        for command in all_commands:
            for word in (command.name, *command.aliases):
                if word in self._commands:
                    raise ValueError(f"two commands named {word!r}")
                self._commands[word] = command

    @property
    def pool(self) -> TaskPool:
        """The task pool (status, health, shutdown)."""
        return self._pool

    def add_reaction_handler(self, handler: ReactionHandler) -> None:
        """Register a handler for reactions (approval ✅/❌, heartbeat 👍/👎)."""
        self._reaction_handlers.append(handler)

    def _command_list(self) -> list[Command]:
        return list(dict.fromkeys(self._commands.values()))

    async def handle(self, event: Event) -> None:
        """Route one event; never raises for bad input (it is logged and dropped)."""
        try:
            match event:
                case ApprovalResponse():
                    await self._on_approval(event)
                case Reaction():
                    await self._on_reaction(event)
                case IncomingMessage():
                    await self._on_message(event)
                case _:
                    log.warning("ignored unknown event %r", event)
        except Exception:
            log.exception("failed to handle %s", type(event).__name__)

    async def recover(self) -> int:
        """On startup: mark tasks left running as interrupted and tell their threads.

        With an outbox the notices wait until each platform is connected, and are retried.
        """
        interrupted = await self._tasks.interrupt_active(self._clock.now())
        for record in interrupted:
            notice = PostNotice(record.chat, INTERRUPTED)
            if self._outbox is not None:
                name = f"interrupted task {record.id}"
                await self._outbox.put(record.chat.platform, name, notice)
                continue
            adapter = self._adapters.get(record.chat.platform)
            if adapter is None:
                continue
            try:
                await notice(adapter)
            except Exception:
                log.warning("could not tell %s about the restart", record.chat.key, exc_info=True)
        return len(interrupted)

    async def _first_time(self, key: str) -> bool:
        if await self._seen.first_time(key, self._clock.now()):
            return True
        log.info("dropped duplicate delivery %s", key)
        return False

    async def _on_approval(self, event: ApprovalResponse) -> None:
        # Inline, never behind a task or conversation lock: the task waiting on this
        # click is the one that would hold such a lock.
        if event.event_id and not await self._first_time(
            f"{event.user.platform}:{event.event_id}"
        ):
            return
        if self._broker is None:
            log.warning("approval click %s but no broker is configured", event.approval_id)
            return
        await self._broker.resolve(event)

    async def _on_reaction(self, event: Reaction) -> None:
        if event.user.is_bot:
            return
        if event.event_id and not await self._first_time(
            f"{event.user.platform}:{event.event_id}"
        ):
            return
        for handler in self._reaction_handlers:
            if await handler(event):
                return

    async def _on_message(self, msg: IncomingMessage) -> None:
        if msg.author.is_bot:
            return
        key = msg.dedup_key
        if not self._recent.first_time(key):
            log.info("dropped duplicate delivery %s", key)
            return
        chat = msg.ref.chat
        adapter = self._adapters.get(chat.platform)
        if adapter is None:
            log.warning("message from unknown platform %s", chat.platform)
            return
        running = self._pool.in_chat(chat.key)
        addressed = msg.mentions_bot or msg.is_direct or running is not None
        if not addressed:
            return  # channel chatter in a thread we don't run: not for us
        text = msg.text.strip()
        word, _, args = text.partition(" ")
        stop = word.lower().rstrip("!.") in STOP_WORDS and not args
        command = self._commands.get(word.lower())
        # A new task from an allowed user records its delivery as seen together with the
        # task row, in one write (its card comes sooner); anything else records it first.
        new_task = (
            running is None and not stop and command is None and bool(text) and self._allows(msg)
        )
        if not new_task and not await self._first_time(key):
            return
        if self._gate is not None:
            if not await self._gate.admit(msg, adapter):
                return
        elif not self._access.is_allowed(msg.author):
            log.info("refused %s", msg.author.qualified)
            await adapter.post(chat, self._access.refusal(msg.author))
            return
        if running is not None and stop:
            self._pool.cancel(running.task_id, f"Stopped by {msg.author.display_name or 'you'}.")
            return
        if running is None and stop:
            await adapter.post(chat, "Nothing is running here, so there is nothing to stop.")
            return
        if command is not None:
            await self._run_command(command, args.strip(), msg, adapter)
            return
        if running is not None:
            running.steering.put_nowait(text)
            await self._ack_steering(adapter, msg)
            return
        if not text:
            await adapter.post(chat, "Hi! Tell me what to do, or say `help`.")
            return
        await self._start_task(msg, adapter, delivery=key if new_task else None)

    def _allows(self, msg: IncomingMessage) -> bool:
        if self._gate is not None:
            return self._gate.allows(msg.author)
        return self._access.is_allowed(msg.author)

    async def _run_command(
        self, command: Command, args: str, msg: IncomingMessage, adapter: ChatAdapter
    ) -> None:
        is_admin = self._access.is_admin(msg.author)
        if command.admin_only and not is_admin:
            await adapter.post(msg.ref.chat, f"`{command.name}` is for admins only.")
            return
        ctx = CommandContext(
            name=command.name,
            args=args,
            message=msg,
            chat=msg.ref.chat,
            adapter=adapter,
            is_admin=is_admin,
        )
        try:
            reply = await command.handler(ctx)
        except Exception as exc:
            log.exception("command %s failed", command.name)
            reply = f"`{command.name}` failed: {type(exc).__name__}: {exc}"
        if reply:
            await adapter.post(msg.ref.chat, reply)

    async def _ack_steering(self, adapter: ChatAdapter, msg: IncomingMessage) -> None:
        try:
            if adapter.capabilities.reactions:
                await adapter.react(msg.ref, "👀")
                return
        except Exception:
            log.debug("could not react to steering message", exc_info=True)
        await adapter.post(msg.ref.chat, "Noted — I'll take that into account at the next step.")

    async def _start_task(
        self, msg: IncomingMessage, adapter: ChatAdapter, *, delivery: str | None
    ) -> None:
        """Start a task; ``delivery`` is the message's key when it is not yet recorded seen."""
        chat = msg.ref.chat
        user = msg.author
        if self._gate is not None and (refusal := await self._gate.may_start(msg)):
            if delivery is None or await self._first_time(delivery):
                await adapter.post(chat, refusal)
            return
        limit = self._pool.limits.per_user
        if self._pool.count_for(user.qualified) >= limit:
            if delivery is None or await self._first_time(delivery):
                await adapter.post(
                    chat,
                    f"You already have {limit} task(s) running. Wait for one to finish, "
                    "or say `stop` in its thread.",
                )
            return
        ctx = TaskContext(
            task_id=secrets.token_hex(4),
            goal=msg.text.strip(),
            chat=chat,
            requester=user,
            thread=self._threads.open(chat),
            is_direct=msg.is_direct,
        )
        try:
            ahead = await self._pool.submit(ctx, delivery=delivery)
        except Redelivered:
            log.info("dropped duplicate delivery %s", delivery)
            return
        except Exception as exc:
            # The asker would wait forever: say so rather than drop it silently.
            log.exception("could not start a task for %s", user.qualified)
            reason = str(exc) if isinstance(exc, HearthError) else type(exc).__name__
            await adapter.post(
                chat, f"⚠️ I could not start that task ({reason}). Please ask again."
            )
            return
        if ahead is not None:
            # The task's card, posted now, says it waits; the same card shows it working later.
            ctx.thread.card(ctx.goal).queue(
                f"Task `{ctx.task_id}`: all {self._pool.limits.max_concurrent} "
                f"slots are busy, {ahead} task(s) waiting ahead of you."
            )
