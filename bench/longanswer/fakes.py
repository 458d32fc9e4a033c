"""The Slack and Ollama fakes of the longanswer benchmark, served from a child process."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from bench.longanswer.answers import chunked, server_parts

CHANNEL = "C0LONG"
OTHER = "C0OTHER"
USER = "UANA"
SHORT_ANSWER = "All good: nothing to do."
HELP_GAP = 0.05  # seconds between one help's reply and the next help


class FakeSide:
    """The Slack and Ollama fakes, in the child process: scripted and watched from there."""

    def __init__(self) -> None:
        self.slack: Any = None
        self.ollama: Any = None
        self.answers: dict[str, str] = {}  # goal -> answer text the executor streams

    async def start(self) -> dict[str, str]:
        from tests.fakes.ollama import FakeOllama
        from tests.fakes.slack import FakeSlack

        self.slack = await FakeSlack().__aenter__()
        self.ollama = await FakeOllama().start()
        self.ollama.responder = self._reply
        return {
            "bot_token": self.slack.bot_token,
            "app_token": self.slack.app_token,
            "slack_url": self.slack.base_url,
            "ollama_url": self.ollama.url,
        }

    async def stop(self) -> None:
        await self.ollama.stop()
        await self.slack.stop()

    async def wait_socket(self) -> None:
        await self.slack.wait_socket(timeout=30)

    def _reply(self, body: Mapping[str, Any]) -> Any:
        from tests.fakes.ollama import ScriptedReply

        goal = str(body["messages"][-1].get("content", "")).splitlines()[0]
        if body.get("format"):  # the planner: one step, the goal itself
            return ScriptedReply("text", text=json.dumps({"subtasks": [goal[:80] or "answer"]}))
        # The executor's first message starts "Overall goal: <goal>" (memory recalled from
        # earlier tasks may quote other goals further down).
        users = [m for m in body["messages"] if m.get("role") == "user"]
        first = str(users[0].get("content", "")) if users else ""
        answer = self.answers.get(first.splitlines()[0].removeprefix("Overall goal: ").strip())
        if answer is None:
            return ScriptedReply("text", text=f"{SHORT_ANSWER}\nCONFIDENCE: 0.9")
        text = answer + "\nCONFIDENCE: 0.9"
        return ScriptedReply("text", text=text, chunks=chunked(text))

    async def prepare(self, goal: str, answer: str | None) -> None:
        """The model answers ``goal`` with ``answer`` (None: the short answer)."""
        self.answers.pop(goal, None)
        if answer is not None:
            self.answers[goal] = answer

    async def task(self, goal: str, with_help: bool) -> dict[str, Any]:
        """Mention hearth with ``goal`` and watch until its answer stands complete."""
        text = self.answers.get(goal, SHORT_ANSWER)
        event = self.slack.mention(CHANNEL, USER, goal)
        watch = Watch(event["event"]["ts"], server_parts(text))
        stop = asyncio.Event()
        helping = asyncio.create_task(helps(self.slack, stop)) if with_help else None
        watch.sent = time.monotonic()
        await self.slack.send_envelope(event, timeout=60)
        try:
            await watch_task(self.slack, watch, timeout=600)
        finally:
            stop.set()
        sent_helps = await helping if helping is not None else []
        return {
            "size": len(text),
            "sent": watch.sent,
            "first": watch.first_answer,
            "complete": watch.complete,
            "parts": len(watch.parts),
            "exact": watch.parts == watch.expected,
            "helps": sent_helps,
        }


def _fakes_main(conn: Connection) -> None:
    """The child process: serve ``FakeSide`` calls from ``conn`` until told to stop."""

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        side = FakeSide()
        conn.send(await side.start())
        while True:
            name, args = await loop.run_in_executor(None, conn.recv)
            if name == "stop":
                break
            conn.send(await getattr(side, name)(*args))
        await side.stop()
        conn.send(None)

    asyncio.run(serve())


class Fakes:
    """The fakes in a child process: their CPU is not hearth's, and they never hold its GIL."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_fakes_main, args=(child,), daemon=True)
        self.info: dict[str, str] = {}

    def __enter__(self) -> Fakes:
        self._proc.start()
        self.info = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send(("stop", ()))
        self._conn.recv()
        self._proc.join(timeout=30)

    async def call(self, name: str, *args: Any) -> Any:
        """Call ``FakeSide.name(*args)`` in the child; hearth's loop keeps running meanwhile."""
        self._conn.send((name, args))
        return await asyncio.get_running_loop().run_in_executor(None, self._conn.recv)


@dataclass
class Watch:
    """What the fake Slack saw of one task: times of the answer's first post and completion."""

    root: str
    expected: list[str]
    sent: float = 0.0
    first_answer: float | None = None
    complete: float | None = None
    parts: list[str] = field(default_factory=list)


async def watch_task(slack: Any, watch: Watch, timeout: float) -> None:
    """Poll until the answer stands complete (exactly as expected) and the card says done."""
    async with asyncio.timeout(timeout):
        while True:
            msgs = slack.in_thread(CHANNEL, watch.root)
            answer = [m for m in msgs if m.text.startswith(watch.expected[0][:16])]
            if answer and watch.first_answer is None:
                watch.first_answer = time.monotonic()
            if answer:
                start = msgs.index(answer[0])
                # Only the answer's messages: a note may follow it (e.g. a skill suggestion).
                watch.parts = [m.text for m in msgs[start : start + len(watch.expected)]]
            card_done = bool(msgs) and not msgs[0].text.startswith("⏳")
            if watch.parts == watch.expected and card_done:
                watch.complete = time.monotonic()
                return
            await asyncio.sleep(0.005)


async def helps(slack: Any, stop: asyncio.Event) -> list[tuple[float, float]]:
    """Send ``help`` in another channel, one after the other; (sent, latency) of each."""
    out: list[tuple[float, float]] = []
    while not stop.is_set():
        event = slack.mention(OTHER, USER, "help")
        ts = event["event"]["ts"]
        sent = time.monotonic()
        await slack.send_envelope(event, timeout=60)
        while not any(m.channel == OTHER and m.thread_ts == ts for m in _bot_posts(slack)):
            await asyncio.sleep(0.001)
        out.append((sent, time.monotonic() - sent))
        await asyncio.sleep(HELP_GAP)
    return out


def _bot_posts(slack: Any) -> list[Any]:
    return [m for m in list(slack.messages.values())[-20:] if m.user == slack.bot_user_id]
