"""The driver of ``bench e2e``: the loopback Slack and Ollama fakes in a process of their own.

The measured app (hearth, or the bare slack-bolt floor) runs in the benchmark's process and
this one plays the users and the servers, so the app's process CPU is its own. Protocol, one
JSON object per line: this process prints the fakes' addresses, then answers each
``{"op": "mentions", "count": n, "concurrent": bool}`` on stdin with the samples; ``{"op":
"stop"}`` (or the end of stdin) ends it.

Run as ``python -m bench.e2e_fakes hearth|floor``. Needs a checkout (``tests/fakes``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ANSWER = "All good: nothing to do."
_SERIAL = itertools.count(1)  # every request of a run is worded apart
CHANNEL = "C0BENCH"


@dataclass(frozen=True)
class Sample:
    """One mention: seconds to the first post in its thread and to its final answer."""

    first: float
    final: float


def ollama_reply(body: Mapping[str, Any]) -> Any:
    """The instant model: a one-step plan, then the answer."""
    from tests.fakes.ollama import ScriptedReply

    if body.get("format"):  # the planner: one step
        goal = str(body["messages"][-1].get("content", "")).splitlines()[0]
        return ScriptedReply("text", text=json.dumps({"subtasks": [goal[:80] or "answer"]}))
    return ScriptedReply("text", text=f"{ANSWER}\nCONFIDENCE: 0.9")


def is_final(mode: str) -> Callable[[str], bool]:
    """How the final answer of ``mode``'s app reads (hearth streams, with a cursor)."""
    if mode == "floor":
        return lambda t: t == ANSWER
    return lambda t: t.startswith(ANSWER) and "▍" not in t


class Watch:
    """Reads the fake's API calls: when each thread got its first post and its final answer."""

    def __init__(self, fake: Any, final: Callable[[str], bool]) -> None:
        self._fake = fake
        self._final = final
        self._seen = 0
        self.first: dict[str, float] = {}
        self.done: dict[str, float] = {}

    def scan(self) -> None:
        calls = self._fake.calls
        for call in calls[self._seen :]:
            if call.method == "chat.postMessage":
                root = call.params.get("thread_ts")
            elif call.method == "chat.update":
                msg = self._fake.messages.get(str(call.params.get("ts")))
                root = msg.thread_ts if msg else None
            else:
                continue
            if not root:
                continue
            if call.method == "chat.postMessage":
                self.first.setdefault(root, call.at)
            if self._final(str(call.params.get("text") or "")):
                self.done.setdefault(root, call.at)
        self._seen = len(calls)

    async def wait(self, roots: list[str], timeout: float) -> None:
        """Return once every root has its final answer (woken by each API call, no polling)."""
        async with asyncio.timeout(timeout):
            while True:
                self._fake.called.clear()
                self.scan()
                if all(r in self.done for r in roots):
                    return
                await self._fake.called.wait()


async def mentions(fake: Any, watch: Watch, count: int, *, concurrent: bool) -> list[Sample]:
    """Deliver ``count`` mentions (one at a time or all at once) and time each."""
    starts: dict[str, float] = {}

    async def one(i: int) -> str:
        event = fake.mention(CHANNEL, "UANA", f"please check the disks ({next(_SERIAL)})")
        root = event["event"]["ts"]
        starts[root] = time.monotonic()
        await fake.send_envelope(event, timeout=30)
        if not concurrent:
            await watch.wait([root], timeout=30)
        return root

    if concurrent:
        roots = list(await asyncio.gather(*(one(i) for i in range(count))))
        await watch.wait(roots, timeout=120)
    else:
        roots = [await one(i) for i in range(count)]
    return [Sample(watch.first[r] - starts[r], watch.done[r] - starts[r]) for r in roots]


async def _lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _say(obj: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main(mode: str) -> None:
    """Serve the fakes and run the commands read from stdin."""
    from tests.fakes.ollama import FakeOllama
    from tests.fakes.slack import FakeSlack

    async with FakeSlack() as slack, FakeOllama() as ollama:
        ollama.responder = ollama_reply
        _say(
            {
                "slack_url": slack.base_url,
                "bot_token": slack.bot_token,
                "app_token": slack.app_token,
                "ollama_url": ollama.url,
            }
        )
        watch = Watch(slack, is_final(mode))
        reader = await _lines()
        while line := await reader.readline():
            cmd = json.loads(line)
            if cmd["op"] == "socket":
                await slack.wait_socket(timeout=30)
                _say({"ok": True})
            elif cmd["op"] == "mentions":
                samples = await mentions(
                    slack, watch, int(cmd["count"]), concurrent=bool(cmd["concurrent"])
                )
                _say({"samples": [[s.first, s.final] for s in samples]})
            else:
                break


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "hearth"))
