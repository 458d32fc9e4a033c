"""The floors of ``bench e2e``: the bare SDK app that answers a mention in its thread.

Each is what the platform's SDK itself costs for what hearth does visibly: a reply in a thread
started by the mention, with a fixed text. Slack: a slack-bolt AsyncApp in Socket Mode.
Discord: a discord.py Client that starts a thread from the message and posts in it (hearth
does the same). Matrix: a matrix-nio AsyncClient that syncs and replies in the ``m.thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from bench.e2e.app import Users, users
from bench.e2e.protocol import ANSWER


def floor(platform: str) -> contextlib.AbstractAsyncContextManager[Users]:
    """The running floor app for ``platform`` on a fresh driver."""
    return {"slack": _slack, "discord": _discord, "matrix": _matrix}[platform]()


@contextlib.asynccontextmanager
async def _slack() -> AsyncIterator[Users]:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async with users("floor") as people:
        fakes = people.addresses
        client = AsyncWebClient(token=fakes["bot_token"], base_url=fakes["slack_url"])
        app = AsyncApp(client=client, signing_secret="", request_verification_enabled=False)

        @app.event("app_mention")
        async def _reply(event: dict[str, Any], client: AsyncWebClient) -> None:
            await client.chat_postMessage(
                channel=event["channel"], thread_ts=event["ts"], text=ANSWER
            )

        handler = AsyncSocketModeHandler(app, fakes["app_token"], web_client=client)
        await handler.connect_async()
        try:
            await people.wait_socket()
            yield people
        finally:
            await handler.close_async()


@contextlib.asynccontextmanager
async def _discord() -> AsyncIterator[Users]:
    import discord
    import yarl

    async with users("floor", "discord") as people:
        env = people.addresses["env"]
        # discord.py keeps its endpoints as class attributes; put them back afterwards.
        saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = env["DISCORD_API_URL"]
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(env["DISCORD_GATEWAY_URL"])
        intents = discord.Intents.default()
        intents.message_content = True
        client = discord.Client(intents=intents)

        @client.event
        async def on_message(message: discord.Message) -> None:
            if client.user is not None and client.user.mentioned_in(message):
                thread = await message.create_thread(name="answer")
                await thread.send(ANSWER)

        task = asyncio.create_task(client.start(env["DISCORD_TOKEN"]), name="bench:floor")
        try:
            async with asyncio.timeout(30):
                while not client.is_ready():
                    if task.done():
                        task.result()  # raises why it stopped
                    await asyncio.sleep(0.01)
            await people.wait_socket()
            yield people
        finally:
            await client.close()
            await asyncio.gather(task, return_exceptions=True)
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@contextlib.asynccontextmanager
async def _matrix() -> AsyncIterator[Users]:
    import nio

    sync_filter = {"room": {"timeline": {"limit": 100}}, "presence": {"types": []}}
    async with users("floor", "matrix") as people:
        where = people.addresses
        env = where["env"]
        me = env["MATRIX_USER_ID"]
        config = nio.AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)
        client = nio.AsyncClient(env["MATRIX_HOMESERVER"], me, config=config)
        client.restore_login(me, where["device_id"], env["MATRIX_ACCESS_TOKEN"])
        replies: set[asyncio.Task[Any]] = set()

        async def reply(room_id: str, event_id: str) -> None:
            thread = {"rel_type": "m.thread", "event_id": event_id, "is_falling_back": True}
            thread["m.in_reply_to"] = {"event_id": event_id}
            content = {"msgtype": "m.text", "body": ANSWER, "m.relates_to": thread}
            await client.room_send(room_id, "m.room.message", content)

        async def on_text(room: nio.MatrixRoom, event: nio.RoomMessageText) -> None:
            if event.sender != me and me in event.body:
                # As bolt does: each reply on its own, so one slow send delays no other.
                task = asyncio.create_task(reply(room.room_id, event.event_id))
                replies.add(task)
                task.add_done_callback(replies.discard)

        await client.join(where["room"])
        await client.sync(timeout=0, sync_filter=sync_filter)  # history is not for us
        client.add_event_callback(on_text, nio.RoomMessageText)
        syncing = asyncio.create_task(
            client.sync_forever(timeout=30_000, sync_filter=sync_filter), name="bench:floor"
        )
        try:
            await people.wait_socket()
            yield people
        finally:
            syncing.cancel()
            await asyncio.gather(syncing, *replies, return_exceptions=True)
            await client.close()
