"""Shared benchmark parts: an in-memory adapter, a scripted model, a loop-lag ticker, tables.

Nothing here imports from ``tests/`` (bench ships with hearth); the adapter and the model are
platform-neutral stand-ins that let the real dispatcher, agent, renderer and storage run at
full speed without a network.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import platform
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.events import (
    ApprovalOutcome,
    ApprovalRequest,
    ChatRef,
    Event,
    MessageRef,
)
from core.llm.base import Message, StreamEvent, TextDelta, ToolCall, ToolSpec, TurnEnd, Usage
from core.ports import Capabilities, EventSink

RESULTS = Path(__file__).with_name("RESULTS.md")

Table = tuple[list[str], list[list[str]]]

# Each platform's pacing as its adapter declares it. Imported so the benchmark follows the
# adapters when their numbers change; the literals are the fallback when an adapter package
# cannot be imported (e.g. its SDK missing).
_FALLBACK_CAPABILITIES = {
    "slack": Capabilities(max_message_chars=3000, min_edit_interval=1.2, buttons=True),
    "discord": Capabilities(max_message_chars=2000, min_edit_interval=1.0, buttons=True),
    "matrix": Capabilities(max_message_chars=16_000, min_edit_interval=3.0, buttons=False),
}


def platform_capabilities() -> dict[str, Capabilities]:
    """Slack, Discord and Matrix capabilities, from the adapters when importable."""
    out = dict(_FALLBACK_CAPABILITIES)
    for name in out:
        try:
            module = __import__(f"adapters.{name}.adapter", fromlist=["DEFAULT_CAPABILITIES"])
            out[name] = module.DEFAULT_CAPABILITIES
        except (ImportError, AttributeError):
            pass
    return out


@dataclass
class Write:
    """One post or edit the platform received."""

    at: float  # time.perf_counter()
    op: str  # "post" | "edit"
    message_id: str
    text: str


@dataclass
class _Thread:
    first_post: asyncio.Future[float] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class BenchAdapter:
    """An in-memory ChatAdapter that timestamps every write; capabilities are configurable."""

    def __init__(self, platform: str = "bench", capabilities: Capabilities | None = None) -> None:
        self.platform = platform
        self.capabilities = capabilities or Capabilities(
            max_message_chars=4000, min_edit_interval=0.0, buttons=True
        )
        self.writes: list[Write] = []
        self.texts: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._threads: dict[str, _Thread] = {}
        self.connected = True

    async def run(self, sink: EventSink) -> None:
        """Nothing to connect to: wait until cancelled."""
        await asyncio.Event().wait()

    def _thread(self, chat: ChatRef) -> _Thread:
        key = chat.thread_id or chat.channel_id
        if key not in self._threads:
            self._threads[key] = _Thread()
        return self._threads[key]

    async def first_post(self, chat: ChatRef) -> float:
        """Wait for the first post in ``chat``'s thread; its perf_counter time."""
        return await self._thread(chat).first_post

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Store a message and timestamp it."""
        now = time.perf_counter()
        ref = MessageRef(chat, f"b{next(self._ids)}")
        self.texts[ref.message_id] = text
        self.writes.append(Write(now, "post", ref.message_id, text))
        waiter = self._thread(chat).first_post
        if not waiter.done():
            waiter.set_result(now)
        return ref

    async def edit(self, ref: MessageRef, text: str) -> None:
        """Replace a message's text and timestamp it."""
        self.texts[ref.message_id] = text
        self.writes.append(Write(time.perf_counter(), "edit", ref.message_id, text))

    async def react(self, ref: MessageRef, key: str) -> None:
        """Reactions are not measured."""

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Approvals are not part of any benchmark; post a plain prompt."""
        return await self.post(chat, f"approve {request.id}? `{request.command}`")

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Nothing to close."""

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """Images are not measured; post the caption."""
        return await self.post(chat, caption)

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """Files are not measured; post the caption."""
        return await self.post(chat, caption)

    async def deliver(self, sink: EventSink, event: Event) -> None:
        """Hand an inbound event to the core, as a platform callback would."""
        await sink(event)


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """What one ``stream`` call asked for; scripts decide the turn from it."""

    messages: Sequence[Message]
    system: str
    tools: Sequence[ToolSpec]
    format: dict[str, Any] | None


Script = Callable[[ModelRequest], list[StreamEvent]]


class ScriptedModel:
    """An LLMClient that answers from a script, instantly or at ``tokens_per_s``.

    ``script(request)`` returns the events of one turn; TextDelta events are paced at the
    configured rate with real sleeps scheduled against a fixed start (no drift).
    """

    provider = "scripted"

    def __init__(
        self,
        script: Script,
        *,
        tokens_per_s: float | None = None,
        paced: Callable[[ModelRequest], bool] | None = None,
        on_token: Callable[[str], None] | None = None,
        model: str = "bench-model",
        num_ctx: int = 16384,
    ) -> None:
        self._script = script
        self._rate = tokens_per_s
        self._paced = paced  # which requests stream at the rate (default: all)
        self._on_token = on_token  # called as each paced TextDelta is handed out
        self.model = model
        self.num_ctx = num_ctx
        self.calls = 0

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        system: str = "",
        tools: Sequence[ToolSpec] = (),
        format: dict[str, Any] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Replay one scripted turn."""
        self.calls += 1
        request = ModelRequest(messages, system, tools, format)
        paced = bool(self._rate) and (self._paced is None or self._paced(request))
        start = time.perf_counter()
        sent = 0
        for event in self._script(request):
            if isinstance(event, TextDelta) and paced:
                assert self._rate is not None
                sent += 1
                delay = start + sent / self._rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if self._on_token is not None:
                    self._on_token(event.text)
            yield event


def text_turn(text: str) -> list[StreamEvent]:
    """A turn that answers ``text`` word by word and ends."""
    words = text.split(" ")
    deltas: list[StreamEvent] = [
        TextDelta(w + (" " if i < len(words) - 1 else "")) for i, w in enumerate(words)
    ]
    return [*deltas, TurnEnd("end_turn", usage=Usage(len(words), len(words)), text=text)]


def tool_turn(name: str, arguments: dict[str, Any], call_id: str = "c1") -> list[StreamEvent]:
    """A turn that makes one tool call."""
    call = ToolCall(call_id, name, arguments)
    return [TurnEnd("tool_use", tool_calls=(call,), usage=Usage(10, 5))]


class LagMonitor:
    """Measures event-loop blocking: a ticker that records how late each wake-up is."""

    def __init__(self, interval: float = 0.005) -> None:
        self._interval = interval
        self.max_lag = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LagMonitor:
        self._task = asyncio.create_task(self._tick(), name="bench:lag-monitor")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self._interval)
            lag = time.perf_counter() - before - self._interval
            self.ticks += 1
            self.max_lag = max(self.max_lag, lag)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), nearest-rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    """Seconds as milliseconds with one decimal."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def verdict(ok: bool) -> str:
    """Table cell for a target check."""
    return "yes" if ok else "NO"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with aligned columns (readable in a terminal and in RESULTS.md)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(str(c))) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return (
            "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"
        )

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def machine() -> str:
    """One line describing this machine, for RESULTS.md."""
    cpu = platform.processor() or platform.machine()
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "load average n/a"
    return (
        f"{platform.node()} — {platform.system()} {platform.release()} {platform.machine()}, "
        f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {load}"
    )


def append_results(name: str, table: Table, *, path: Path = RESULTS, note: str = "") -> None:
    """Append one benchmark's table to RESULTS.md with the date and machine."""
    headers, rows = table
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = [f"### {name} — {stamp}", "", f"Machine: {machine()}", ""]
    if note:
        block += [note, ""]
    block += [format_table(headers, rows), "", ""]
    if not path.exists():
        path.write_text("# Benchmark results\n\nAppended by `python -m bench`.\n\n")
    with path.open("a", encoding="utf-8") as f:
        f.write("\n".join(block))
    if name in HEADLINES:
        _headline(path, name, block)


HEADLINES = ("e2e",)  # shown at the top of RESULTS.md too, newest run only
_START, _END = "<!-- headline:{} -->", "<!-- /headline:{} -->"


def _headline(path: Path, name: str, block: list[str]) -> None:
    """Put the newest run of ``name`` under the file's title, replacing the previous one."""
    text = path.read_text(encoding="utf-8")
    start, end = _START.format(name), _END.format(name)
    body = "\n".join([start, "## Headline: " + block[0].removeprefix("### "), *block[1:-1], end])
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + body + after
    else:
        title, sep, rest = text.partition("\n\n")
        intro, sep2, rest2 = rest.partition("\n\n")
        text = title + sep + intro + sep2 + body + "\n\n" + rest2
    path.write_text(text, encoding="utf-8")
