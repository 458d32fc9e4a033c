"""DiscordAdapter: hearth on Discord through discord.py (gateway in, REST out)."""

from __future__ import annotations

import asyncio
import io
import logging
from collections import OrderedDict
from typing import Any, TypeVar

import discord
from discord import app_commands

from adapters.discord.buttons import (
    ApprovalButton,
    approval_view,
    render_closed,
    render_outcome,
    render_prompt,
)
from adapters.discord.translate import (
    PLATFORM,
    SLASH_COMMAND,
    ChannelInfo,
    channel_info,
    platform_errors,
    slash_to_incoming,
    to_approval_response,
    to_incoming,
    to_reaction,
    to_user,
)
from core.approvals.payload import unpack_payload
from core.clock import SystemClock
from core.errors import MessageTooLong, PlatformError
from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ChatRef,
    Decision,
    Event,
    MessageRef,
    User,
)
from core.ports import Capabilities, Clock, EventSink

log = logging.getLogger(__name__)

_K = TypeVar("_K")
_V = TypeVar("_V")

DEFAULT_CAPABILITIES = Capabilities(max_message_chars=2000, min_edit_interval=1.0, buttons=True)
# Codes Discord answers when a thread cannot be started here: missing access / permissions,
# "cannot execute action on this channel type", "invalid form body" for e.g. a DM message.
_NO_THREAD_CODES = frozenset({50001, 50013, 50024, 50035})
_THREAD_EXISTS = 160004


def build_intents(*, message_content: bool = True) -> discord.Intents:
    """Guilds, guild and DM messages and reactions, plus the privileged message content."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.guild_reactions = True
    intents.dm_reactions = True
    intents.message_content = message_content
    return intents


class _HearthClient(discord.Client):
    """discord.Client that forwards gateway events to its adapter."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self._adapter = adapter

    async def setup_hook(self) -> None:
        """Register the approval buttons and the /hearth application command."""
        self.add_dynamic_items(ApprovalButton)
        tree = app_commands.CommandTree(self)
        adapter = self._adapter

        @app_commands.command(
            name=SLASH_COMMAND,
            description="Ask hearth: a task, a command (help, skills) or run <skill>",
        )
        @app_commands.describe(text="what you want, as you would write it after @hearth")
        async def hearth(interaction: discord.Interaction, text: str) -> None:
            await adapter._on_slash(interaction, text)

        tree.add_command(hearth)
        try:
            await tree.sync()  # global commands: PUT /applications/{id}/commands
        except discord.HTTPException as exc:
            log.warning("discord: could not register the /%s command: %s", SLASH_COMMAND, exc)

    async def on_ready(self) -> None:
        """Gateway session established (also after a full re-identify)."""
        self._adapter._up = True
        log.info("discord connected as %s (id %s)", self.user, self.user and self.user.id)

    async def on_resumed(self) -> None:
        """Gateway session resumed after a drop."""
        self._adapter._up = True

    async def on_disconnect(self) -> None:
        """Gateway dropped; discord.py reconnects or resumes by itself."""
        self._adapter._up = False

    async def on_message(self, message: discord.Message) -> None:
        """A message was created somewhere the bot can see."""
        await self._adapter._on_message(message)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """Someone added a reaction (cached message or not)."""
        await self._adapter._on_reaction(payload)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A click on an approval button that is no longer on its message (a stale client
        view of a closed prompt): discord.py cannot route it, so it is answered here."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: Any = interaction.data or {}
        custom_id = data.get("custom_id")
        parsed = unpack_payload(custom_id) if isinstance(custom_id, str) else None
        if parsed is None or interaction.message is None:
            return
        view = discord.ui.View.from_message(interaction.message, timeout=None)
        if any(getattr(i, "custom_id", None) == custom_id for i in view.walk_children()):
            return  # the button is there: ApprovalButton handles the click
        await self._adapter._on_click(interaction, *parsed)

    async def handle_approval_click(
        self, interaction: discord.Interaction, approval_id: str, decision: Decision
    ) -> None:
        """Called by ApprovalButton.callback."""
        await self._adapter._on_click(interaction, approval_id, decision)


class DiscordAdapter:
    """ChatAdapter for Discord: mentions and DMs in, threads, streamed edits and buttons out.

    A top-level mention's task lives in a public thread started from that message (thread id
    = message id); where threads cannot be created it lives in replies to the message instead.
    The core paces edits (one pacer per chat); discord.py itself handles Discord's rate-limit
    buckets, and a 429 that still reaches us becomes ``RateLimited``. ``api_url`` and
    ``gateway_url`` point discord.py at a Discord-compatible server, a proxy or a test fake.
    """

    platform = PLATFORM

    def __init__(
        self,
        *,
        token: str,
        capabilities: Capabilities | None = None,
        client_options: dict[str, Any] | None = None,
        clock: Clock | None = None,
        api_url: str | None = None,
        gateway_url: str | None = None,
    ) -> None:
        self.capabilities = capabilities or DEFAULT_CAPABILITIES
        self._api_url = api_url.rstrip("/") if api_url else None
        self._gateway_url = gateway_url
        self._token = token
        self._options = dict(client_options or {})
        self._clock: Clock = clock or SystemClock()
        self._client: _HearthClient | None = None
        self._sink: EventSink | None = None
        self._up = False
        self.message_content = True  # False after Discord refused the privileged intent
        # Bounded memories: a bot that runs for months must not grow without limit. Losing an
        # old entry only costs a fallback (a thread lookup, a fetch, one extra 404).
        self._threads: _Recent[str, str] = _Recent()  # thread id -> parent channel id
        self._reply_mode: _Recent[str, bool] = _Recent()  # chat keys whose task lives in replies
        self._reply_chats: _Recent[str, ChatRef] = _Recent()  # bot reply id -> task chat
        self._thread_names: _Recent[str, str] = _Recent()  # message id -> its thread's name
        self._dm_reply: _Recent[str, str] = _Recent()  # DM channel -> user message to answer
        self._locations: _Recent[str, str] = _Recent()  # bot message id -> channel holding it
        self._prompts: _Recent[str, str] = _Recent()  # prompt message id -> prompt text
        self._chat_locks: _Recent[str, asyncio.Lock] = _Recent()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a gateway session is up."""
        return self._up and self._client is not None and not self._client.is_closed()

    async def run(self, sink: EventSink) -> None:
        """Connect and deliver events until cancelled; discord.py resumes dropped sessions.

        If Discord refuses the privileged message content intent (close code 4014), the adapter
        reconnects without it and works on mentions and DMs only.
        """
        if self._client is not None:
            raise RuntimeError("DiscordAdapter.run is already running")
        self._redirect()
        self._sink = sink
        try:
            while True:
                client = self._new_client()
                self._client = client
                try:
                    async with client:
                        await client.start(self._token, reconnect=True)
                    return
                except discord.PrivilegedIntentsRequired as exc:
                    if not self.message_content:
                        raise PlatformError(f"discord refused the intents: {exc}") from exc
                    log.warning(
                        "discord: the Message Content intent is not enabled for this bot in "
                        "the Developer Portal; continuing without it (only mentions and DMs "
                        "are seen)"
                    )
                    self.message_content = False
                except discord.LoginFailure as exc:
                    raise PlatformError("discord rejected DISCORD_TOKEN") from exc
                finally:
                    self._up = False
        finally:
            self._client = None
            self._sink = None

    def _redirect(self) -> None:
        # discord.py keeps its endpoints as class attributes: one Discord server per process.
        if self._api_url:
            discord.http.Route.BASE = self._api_url
        if self._gateway_url:
            import yarl

            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self._gateway_url)

    def _new_client(self) -> _HearthClient:
        options: dict[str, Any] = {
            "intents": build_intents(message_content=self.message_content),
            # Model output must never ping @everyone, roles or users.
            "allowed_mentions": discord.AllowedMentions.none(),
            # discord.py sleeps through short 429s itself; longer ones surface as RateLimited.
            "max_ratelimit_timeout": 30.0,
        }
        options.update(self._options)
        return _HearthClient(self, **options)

    def _require_client(self) -> _HearthClient:
        client = self._client
        if client is None or client.is_closed() or client.user is None:
            raise PlatformError("discord adapter is not connected")
        return client

    @property
    def _bot_id(self) -> str:
        client = self._client
        return str(client.user.id) if client is not None and client.user is not None else ""

    # -- inbound -----------------------------------------------------------------------------

    async def _deliver(self, event: Event) -> None:
        sink = self._sink
        if sink is None:
            return
        try:
            await sink(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Task boundary: discord.py runs each event handler as its own task.
            log.exception("discord: the event sink failed on %s", type(event).__name__)

    def _where(self, channel: Any, channel_id: int, guild_id: int | None) -> ChannelInfo:
        if channel is not None:
            return channel_info(channel, thread_parents=self._threads)
        cid = str(channel_id)
        if guild_id is None:
            return ChannelInfo(cid, "dm")
        if cid in self._threads:
            return ChannelInfo(cid, "thread", self._threads[cid])
        return ChannelInfo(cid, "channel")

    async def _on_message(self, message: discord.Message) -> None:
        where = channel_info(message.channel, thread_parents=self._threads)
        if where.kind == "thread" and where.parent_id:
            self._threads[where.id] = where.parent_id
        reply_chat = None
        if where.kind == "channel" and message.reference and message.reference.message_id:
            reply_chat = self._reply_chats.get(str(message.reference.message_id))
        event = to_incoming(message, bot_id=self._bot_id, where=where, reply_chat=reply_chat)
        if event is None:
            return
        if where.kind == "channel" and event.ref.chat.thread_id == event.ref.message_id:
            self._thread_names[event.ref.message_id] = _thread_name(event.text)
        if event.is_direct:
            self._dm_reply[where.id] = event.ref.message_id
        await self._deliver(event)

    async def _on_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        if str(payload.user_id) == self._bot_id:
            return
        client = self._client
        person: Any = payload.member or (client.get_user(payload.user_id) if client else None)
        user = to_user(person) if person is not None else User(PLATFORM, str(payload.user_id))
        if user.is_bot:
            return
        channel = client.get_channel(payload.channel_id) if client else None
        where = self._where(channel, payload.channel_id, payload.guild_id)
        await self._deliver(to_reaction(payload, user=user, where=where))

    async def _on_click(
        self, interaction: discord.Interaction, approval_id: str, decision: Decision
    ) -> None:
        # Every click goes to the broker, which refuses non-approvers and records the attempt in
        # the audit trail, as on the other platforms.
        try:
            # Acknowledge at once (type 6): the buttons stay until the broker closes the prompt.
            await interaction.response.defer()
        except discord.HTTPException as exc:
            # Too late to answer (the 3 s window passed); the decision itself still counts.
            log.warning("discord: could not answer interaction %s: %s", interaction.id, exc)
        channel = interaction.channel
        where = self._where(channel, interaction.channel_id or 0, interaction.guild_id)
        event = to_approval_response(approval_id, decision, interaction=interaction, where=where)
        await self._deliver(event)

    async def _on_slash(self, interaction: discord.Interaction, text: str) -> None:
        user = to_user(interaction.user)
        shown = f"**{user.display_name or user.id}** asked: `/{SLASH_COMMAND} {text}`"
        try:
            # The response is the acknowledgement (Discord's 3 s window) and the message the
            # answer's thread starts from.
            sent = await interaction.response.send_message(shown[:2000])
        except discord.HTTPException as exc:
            log.warning("discord: could not answer /%s: %s", SLASH_COMMAND, exc)
            return
        resource = sent.resource
        mid = sent.message_id or (resource.id if isinstance(resource, discord.Message) else None)
        if mid is None:
            log.warning("discord: no message for the /%s response", SLASH_COMMAND)
            return
        where = self._where(interaction.channel, interaction.channel_id or 0, interaction.guild_id)
        event = slash_to_incoming(
            user, text, where=where, message_id=str(mid), interaction_id=str(interaction.id)
        )
        self._locations[str(mid)] = where.id
        if where.kind == "channel":
            self._thread_names[str(mid)] = _thread_name(event.text)
        elif where.kind == "dm":
            self._dm_reply[where.id] = str(mid)
        await self._deliver(event)

    # -- outbound ----------------------------------------------------------------------------

    def _check_length(self, text: str) -> None:
        if len(text) > self.capabilities.max_message_chars:
            raise MessageTooLong(
                f"{len(text)} characters; Discord allows {self.capabilities.max_message_chars}"
            )

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Post into the chat's thread (creating it from the user's message on first use)."""
        return await self._send(chat, text)

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """The image as a message attachment: ``post_file``."""
        return await self.post_file(chat, data, filename, caption, "")

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """The file as a message attachment (multipart upload), the caption as its text.

        Discord types an attachment by its file name; ``mime`` is not sent.
        """
        return await self._send(chat, caption, file=discord.File(io.BytesIO(data), filename))

    async def _send(
        self,
        chat: ChatRef,
        text: str,
        *,
        view: discord.ui.View | None = None,
        file: discord.File | None = None,
    ) -> MessageRef:
        self._check_length(text)
        client = self._require_client()
        # Two first posts at once (progress card + answer) must not both start the thread.
        async with _lock(self._chat_locks, chat.key):
            target, reply_to = await self._target(client, chat)
        channel = client.get_partial_messageable(int(target))
        kwargs: dict[str, Any] = {}
        if reply_to is not None:
            kwargs["reference"] = discord.MessageReference(
                message_id=int(reply_to), channel_id=int(target), fail_if_not_exists=False
            )
        if view is not None:
            kwargs["view"] = view
        if file is not None:
            kwargs["file"] = file
        with platform_errors("post"):
            message = await channel.send(text or "\u200b", **kwargs)
        mid = str(message.id)
        self._locations[mid] = target
        if chat.key in self._reply_mode:
            self._reply_chats[mid] = chat
        return MessageRef(chat, mid)

    async def _target(self, client: _HearthClient, chat: ChatRef) -> tuple[str, str | None]:
        """``(Discord channel to send to, message to reply to)`` for a chat."""
        if chat.thread_id is None:
            return chat.channel_id, self._dm_reply.pop(chat.channel_id, None)
        thread_id = chat.thread_id
        if chat.key in self._reply_mode:
            return chat.channel_id, thread_id
        if thread_id in self._threads or isinstance(
            client.get_channel(int(thread_id)), discord.Thread
        ):
            return thread_id, None
        try:
            with platform_errors("create thread"):
                await client.http.start_thread_with_message(
                    int(chat.channel_id),
                    int(thread_id),
                    name=self._thread_names.pop(thread_id, "hearth task"),
                    auto_archive_duration=1440,
                )
        except PlatformError as exc:
            cause = exc.__cause__
            code = getattr(cause, "code", None)
            if code == _THREAD_EXISTS:
                self._threads[thread_id] = chat.channel_id
                return thread_id, None
            if isinstance(cause, discord.Forbidden) or code in _NO_THREAD_CODES:
                log.info("discord: no thread allowed in %s (%s); replying instead", chat.key, exc)
                self._reply_mode[chat.key] = True
                return chat.channel_id, thread_id
            raise
        self._threads[thread_id] = chat.channel_id
        return thread_id, None

    def _homes(self, ref: MessageRef) -> list[str]:
        """Discord channels that may hold a bot message, most likely first."""
        known = self._locations.get(ref.message_id)
        if known:
            return [known]
        chat = ref.chat
        if chat.thread_id and chat.key not in self._reply_mode:
            return [chat.thread_id, chat.channel_id]
        return [chat.channel_id]

    async def _edit(self, ref: MessageRef, action: str, **fields: Any) -> None:
        client = self._require_client()
        homes = self._homes(ref)
        for i, home in enumerate(homes):
            message = client.get_partial_messageable(int(home)).get_partial_message(
                int(ref.message_id)
            )
            try:
                with platform_errors(action):
                    await message.edit(**fields)
            except PlatformError as exc:
                if isinstance(exc.__cause__, discord.NotFound) and i + 1 < len(homes):
                    continue
                raise
            self._locations[ref.message_id] = home
            return

    async def edit(self, ref: MessageRef, text: str) -> None:
        """Replace the text of a bot message."""
        self._check_length(text)
        await self._edit(ref, "edit", content=text or "\u200b")

    async def react(self, ref: MessageRef, key: str) -> None:
        """Add a unicode emoji reaction."""
        client = self._require_client()
        home = self._homes(ref)[0]
        message = client.get_partial_messageable(int(home)).get_partial_message(
            int(ref.message_id)
        )
        with platform_errors("react"):
            await message.add_reaction(key)

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Post the prompt with Approve / Reject buttons (custom_id ``appr:<id>:<decision>``)."""
        text = render_prompt(request, limit=self.capabilities.max_message_chars)
        ref = await self._send(chat, text, view=approval_view(request.id))
        self._prompts[ref.message_id] = text
        return ref

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Show the outcome under the prompt and remove the buttons."""
        text = self._prompts.pop(prompt.message_id, None)
        if text is None:
            text = await self._fetch_text(prompt)
        limit = self.capabilities.max_message_chars
        body = render_closed(text, outcome, limit=limit) if text else render_outcome(outcome)
        await self._edit(prompt, "close approval", content=body, view=None)

    async def _fetch_text(self, ref: MessageRef) -> str:
        """The current text of a message (prompts posted before a restart)."""
        client = self._require_client()
        for home in self._homes(ref):
            try:
                with platform_errors("fetch"):
                    data = await client.http.get_message(int(home), int(ref.message_id))
            except PlatformError as exc:
                log.info("discord: prompt %s not in %s: %s", ref.message_id, home, exc)
                continue
            self._locations[ref.message_id] = home
            return str(data.get("content") or "")
        return ""


class _Recent(OrderedDict[_K, _V]):
    """A dict that forgets its least recently written entries beyond ``limit``."""

    def __init__(self, limit: int = 10_000) -> None:
        super().__init__()
        self._limit = limit

    def __setitem__(self, key: _K, value: _V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self._limit:
            self.popitem(last=False)


def _lock(locks: _Recent[str, asyncio.Lock], key: str) -> asyncio.Lock:
    lock = locks.get(key)
    if lock is None:
        lock = locks[key] = asyncio.Lock()
    return lock


def _thread_name(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return (first[:90] or "hearth task").strip() or "hearth task"
