"""The work floor of ``bench e2e`` (Slack): the library calls hearth's features require, alone.

What the issues ask of every mention, made with the same libraries and no hearth code in
between: bolt's event and ack; the progress card, the answer and the card's last edit (#24's
thread); a task row and its end in SQLite (aiosqlite); recall before planning (an embed and a
Chroma query, #18); the planner's and the executor's model calls (the Ollama SDK on the same
transport hearth uses); and the memory note written at the task's end (a model call, an
embed, a Chroma add, #18). Its CPU per mention is the least any app doing this work costs,
so it shows how much of hearth's CPU is hearth's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.e2e.app import Users, users

MODEL = "qwen2.5:3b"
EMBED = "nomic-embed-text"
PLAN = {"type": "object", "properties": {"subtasks": {"type": "array"}}, "required": ["subtasks"]}


@contextlib.asynccontextmanager
async def work_floor() -> AsyncIterator[Users]:
    """The Slack work floor on a fresh driver."""
    import aiosqlite
    import chromadb
    import ollama
    from chromadb.config import Settings
    from httpx_aiohttp import AiohttpTransport
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    with tempfile.TemporaryDirectory(prefix="hearth-bench-workfloor-") as where:
        async with users("floor") as people:
            tmp = Path(where)
            fakes = people.addresses
            db = await aiosqlite.connect(tmp / "tasks.db")
            await db.execute("create table tasks (id integer primary key, goal text, status text)")
            store = chromadb.PersistentClient(
                path=str(tmp / "memory"), settings=Settings(anonymized_telemetry=False)
            )
            col = store.get_or_create_collection(
                "memory", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            model = ollama.AsyncClient(host=fakes["ollama_url"], transport=AiohttpTransport())
            client = AsyncWebClient(token=fakes["bot_token"], base_url=fakes["slack_url"])
            app = AsyncApp(client=client, signing_secret="", request_verification_enabled=False)
            ids = itertools.count(1)
            pending: set[asyncio.Future[None]] = set()

            async def work(event: dict[str, Any]) -> None:
                channel, ts, goal = event["channel"], event["ts"], event["text"]
                card = await client.chat_postMessage(
                    channel=channel, thread_ts=ts, text=f"⏳ Working on: {goal}"
                )
                cursor = await db.execute(
                    "insert into tasks (goal, status) values (?, 'running')", (goal,)
                )
                await db.commit()
                task_id = cursor.lastrowid
                (vector,) = (await model.embed(model=EMBED, input=[goal])).embeddings
                if col.count():  # a Chroma call of its own, as hearth's cached count is not
                    await asyncio.to_thread(col.query, query_embeddings=[vector], n_results=5)
                plan = await model.chat(
                    model=MODEL, messages=[{"role": "user", "content": goal}], format=PLAN
                )
                step = json.loads(plan.message.content or "{}").get("subtasks", [goal])[0]
                answer = ""
                stream = await model.chat(
                    model=MODEL, messages=[{"role": "user", "content": step}], stream=True
                )
                async for part in stream:
                    answer += part.message.content or ""
                answer = answer.split("\nCONFIDENCE")[0]
                await client.chat_postMessage(channel=channel, thread_ts=ts, text=answer)
                await client.chat_update(channel=channel, ts=card["ts"], text=f"✅ Done: {goal}")
                await db.execute("update tasks set status = 'done' where id = ?", (task_id,))
                await db.commit()
                note = await model.chat(
                    model=MODEL, messages=[{"role": "user", "content": f"{goal}\n{answer}"}]
                )
                text = note.message.content or answer
                (noted,) = (await model.embed(model=EMBED, input=[text])).embeddings
                await asyncio.to_thread(
                    col.add,
                    ids=[f"n{next(ids)}"],
                    embeddings=[noted],
                    documents=[text],
                    metadatas=[{"scope": channel, "kind": "task"}],
                )

            @app.event("app_mention")
            async def _mention(event: dict[str, Any]) -> None:
                job = asyncio.ensure_future(work(event))
                pending.add(job)
                job.add_done_callback(pending.discard)
                await asyncio.shield(job)

            async def settle() -> None:
                if pending:
                    await asyncio.wait(list(pending))

            handler = AsyncSocketModeHandler(app, fakes["app_token"], web_client=client)
            await handler.connect_async()
            try:
                await people.wait_socket()
                people.settle = settle
                yield people
            finally:
                await handler.close_async()
                await settle()
                await model._client.aclose()
                await db.close()
