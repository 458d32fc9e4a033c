"""The driver of ``bench e2e``: the platform's server, the Ollama fake and the people who mention.

The measured app (hearth, or the bare SDK floor) runs in the benchmark's process and this one
plays the users and the servers (the loopback Slack or Discord fake, or a real Synapse it
starts), so the app's process CPU is its own. Protocol, one JSON object per line: this process
prints the servers' addresses (or ``{"error": …}`` when its server cannot start), then answers
``{"op": "socket"}`` once the app is connected and each ``{"op": "mentions", "count": n,
"concurrent": bool}`` with the samples; ``{"op": "stop"}`` (or the end of stdin) ends it.

Run as ``python -m bench.e2e.driver slack|discord|matrix hearth|floor``. Needs a checkout
(``tests/fakes``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from bench.e2e.protocol import ANSWER, Sample, Side, Unavailable

_SERIAL = itertools.count(1)  # every request of a run is worded apart


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
    """Reads the app's writes: when each thread got its first post and its final answer."""

    def __init__(self, side: Side, final: Callable[[str], bool]) -> None:
        self._side = side
        self._final = final
        self.first: dict[str, float] = {}
        self.done: dict[str, float] = {}

    def scan(self) -> None:
        for write in self._side.writes():
            if write.post:
                self.first.setdefault(write.root, write.at)
            if self._final(write.text):
                self.done.setdefault(write.root, write.at)

    async def wait(self, roots: list[str], timeout: float) -> None:
        """Return once every root has its final answer (woken by each write, no polling)."""
        async with asyncio.timeout(timeout):
            while True:
                self._side.called.clear()
                self.scan()
                if all(r in self.done for r in roots):
                    return
                await self._side.called.wait()


async def mentions(side: Side, watch: Watch, count: int, *, concurrent: bool) -> list[Sample]:
    """Deliver ``count`` mentions (one at a time or all at once) and time each."""

    async def one(i: int) -> str:
        root = await side.mention(f"please check the disks ({next(_SERIAL)})")
        if not concurrent:
            await watch.wait([root], timeout=60)
        return root

    if concurrent:
        roots = list(await asyncio.gather(*(one(i) for i in range(count))))
        await watch.wait(roots, timeout=300)
    else:
        roots = [await one(i) for i in range(count)]
    return [Sample(watch.first[r] - side.start(r), watch.done[r] - side.start(r)) for r in roots]


def side_for(platform: str) -> Any:
    """The async context manager that runs ``platform``'s server."""
    if platform == "slack":
        from bench.e2e.sides import SlackSide

        return SlackSide()
    if platform == "discord":
        from bench.e2e.sides import DiscordSide

        return DiscordSide()
    if platform == "matrix":
        from bench.e2e.matrix_side import MatrixSide

        return MatrixSide()
    raise SystemExit(f"unknown platform {platform!r} (slack, discord or matrix)")


async def _lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _say(obj: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main(platform: str, mode: str) -> None:
    """Serve the platform and the model, and run the commands read from stdin."""
    from tests.fakes.ollama import FakeOllama

    try:
        side_cm = side_for(platform)
        side = await side_cm.__aenter__()
    except Unavailable as exc:
        _say({"error": str(exc)})
        return
    try:
        async with FakeOllama() as ollama:
            ollama.responder = ollama_reply
            _say({**side.addresses(), "ollama_url": ollama.url})
            watch = Watch(side, is_final(mode))
            reader = await _lines()
            while line := await reader.readline():
                cmd = json.loads(line)
                if cmd["op"] == "socket":
                    await side.wait_socket()
                    _say({"ok": True})
                elif cmd["op"] == "mentions":
                    samples = await mentions(
                        side, watch, int(cmd["count"]), concurrent=bool(cmd["concurrent"])
                    )
                    _say({"samples": [[s.first, s.final] for s in samples]})
                else:
                    break
    finally:
        await side_cm.__aexit__(None, None, None)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
