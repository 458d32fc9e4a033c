"""streaming: edits per 1,000 streamed tokens and token-to-visible delay, per platform pacing.

Tokens (``w0 w1 …``, a newline every 12) arrive at 20 and 100 tokens/s, with each
platform's capabilities (Slack, Discord, Matrix, as their adapters declare them), along three
paths:

* ``renderer``: straight into the real ``StreamRenderer``;
* ``agent``: a mention goes through the real dispatcher, task pool, storage and agent; a
  two-step plan makes the agent stream its final answer (the summary) from the scripted model
  at the rate, while the progress card is edited in the same thread;
* ``live``: the same with a one-step plan, whose answer streams live as the executor writes
  it (``STREAM_ANSWERS=live``), its confidence note hidden.

From the timestamped writes: the time from the first token to the first visible answer text
(target: ``min_edit_interval`` + 300 ms); edits per 1,000 tokens (answer, and card and answer
together) against the most one message's pacing allows; the shortest gap between two writes
of one message and between two edits anywhere in the thread (both must be >=
``min_edit_interval``: card and answer share one pace); and the longest delay from a token
arriving to it being visible (target: ``min_edit_interval`` + 100 ms). Everything streams
concurrently.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    BenchAdapter,
    ModelRequest,
    Script,
    ScriptedModel,
    Table,
    Write,
    ms,
    platform_capabilities,
    text_turn,
    verdict,
)
from bench.stack import agent_script, bench_users, build_agent, core_stack, is_summary, mention
from core.events import ChatRef
from core.llm.base import StreamEvent, TextDelta, TurnEnd, Usage
from core.metrics import Metrics
from core.ports import Capabilities
from core.render import StreamRenderer

NAME = "streaming"
RATES = (20.0, 100.0)
TOKENS = 1000
SMOKE_RATES = (400.0, 2000.0)
SMOKE_TOKENS = 40
SMOKE_TIME_SCALE = 0.02  # smoke mode shrinks every platform interval by this factor
VISIBLE_SLACK_S = 0.100  # allowed visible delay beyond min_edit_interval
FIRST_SLACK_S = 0.300  # allowed delay of the first visible words beyond min_edit_interval
_TOKEN = re.compile(r"w(\d+)")
_GAP_TOLERANCE = 0.002  # timer granularity


def _tokens(count: int) -> list[str]:
    return [f"w{i}" + ("\n" if i % 12 == 11 else " ") for i in range(count)]


@dataclass
class _Result:
    path: str
    platform: str
    rate: float
    caps: Capabilities
    tokens: int
    answer_edits: int
    other_edits: int  # the progress card's edits in the same thread
    duration: float  # first to last write of the answer
    min_gap: float  # shortest interval between two writes of the same message
    max_delay: float
    first_visible: float  # first token arriving → first answer text visible
    thread_gap: float  # shortest interval between two edits anywhere in the thread


def _analyse(
    path: str,
    platform: str,
    caps: Capabilities,
    rate: float,
    writes: list[Write],
    arrived: list[float],
    tokens: int,
) -> _Result:
    answer_ids = {w.message_id for w in writes if _TOKEN.search(w.text)}
    answer = [w for w in writes if w.message_id in answer_ids]
    visible_at: list[float] = []  # visible_at[i]: when token i was first visible
    for write in answer:
        found = _TOKEN.findall(write.text)
        top = int(found[-1]) if found else -1
        while len(visible_at) <= top:
            visible_at.append(write.at)
    delays = [visible_at[i] - arrived[i] for i in range(min(len(arrived), len(visible_at)))]
    if len(visible_at) < tokens or len(arrived) < tokens:
        delays.append(math.inf)  # a token never arrived or never became visible
    last: dict[str, float] = {}
    gaps: list[float] = []
    for write in writes:
        if write.message_id in last:
            gaps.append(write.at - last[write.message_id])
        last[write.message_id] = write.at
    edits = [w.at for w in writes if w.op == "edit"]
    thread_gaps = [b - a for a, b in itertools.pairwise(edits)]
    first_visible = visible_at[0] - arrived[0] if visible_at and arrived else math.inf
    return _Result(
        path=path,
        platform=platform,
        rate=rate,
        caps=caps,
        tokens=tokens,
        answer_edits=sum(w.op == "edit" for w in answer),
        other_edits=sum(w.op == "edit" and w.message_id not in answer_ids for w in writes),
        duration=answer[-1].at - answer[0].at if answer else 0.0,
        min_gap=min(gaps) if gaps else math.inf,
        max_delay=max(delays) if delays else math.nan,
        first_visible=first_visible,
        thread_gap=min(thread_gaps) if thread_gaps else math.inf,
    )


async def _renderer(platform: str, caps: Capabilities, rate: float, tokens: int) -> _Result:
    adapter = BenchAdapter(platform, caps)
    chat = ChatRef(platform, "C-bench", f"T-{platform}-{rate:g}")
    arrived: list[float] = []
    start = time.perf_counter()
    async with StreamRenderer(adapter, chat, metrics=Metrics()) as out:
        for i, token in enumerate(_tokens(tokens)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            arrived.append(time.perf_counter())
            out.append(token)
    return _analyse("renderer", platform, caps, rate, adapter.writes, arrived, tokens)


async def _agent(platform: str, caps: Capabilities, rate: float, tokens: int) -> _Result:
    arrived: list[float] = []
    model = ScriptedModel(
        agent_script(use_tool=False, steps=2, summary=_tokens(tokens)),
        tokens_per_s=rate,
        paced=is_summary,
        on_token=lambda _: arrived.append(time.perf_counter()),
    )
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        data = Path(tmp)
        (data / "workspace").mkdir()

        def runner(db, metrics):  # type: ignore[no-untyped-def]
            return build_agent(
                db, workspace=data / "workspace", use_tool=False, metrics=metrics, model=model
            )

        async with core_stack(
            runner, data_dir=data, users=bench_users(1), max_concurrent=1, capabilities=caps
        ) as stack:
            await stack.dispatcher.handle(mention(0, text="write the long report"))
            await stack.wait_finished(1, timeout=tokens / rate + 60)
            writes = list(stack.bench.writes)
    return _analyse("agent", platform, caps, rate, writes, arrived, tokens)


def _live_script(tokens: list[str]) -> Script:
    """One-step plan; the executor writes ``tokens``, then a confidence note (never shown)."""

    def script(request: ModelRequest) -> list[StreamEvent]:
        if request.format is not None:
            return text_turn('{"subtasks": ["write the long report"]}')
        note = "\n(confidence: 0.9)"
        end = TurnEnd("end_turn", usage=Usage(100, len(tokens)), text="".join(tokens) + note)
        return [*(TextDelta(t) for t in tokens), TextDelta(note), end]

    return script


def _is_executor(request: ModelRequest) -> bool:
    return request.format is None and not is_summary(request)


async def _live(platform: str, caps: Capabilities, rate: float, tokens: int) -> _Result:
    arrived: list[float] = []
    model = ScriptedModel(
        _live_script(_tokens(tokens)),
        tokens_per_s=rate,
        paced=_is_executor,
        on_token=lambda t: arrived.append(time.perf_counter()) if t.startswith("w") else None,
    )
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        data = Path(tmp)
        (data / "workspace").mkdir()

        def runner(db, metrics):  # type: ignore[no-untyped-def]
            return build_agent(
                db, workspace=data / "workspace", use_tool=False, metrics=metrics, model=model
            )

        async with core_stack(
            runner, data_dir=data, users=bench_users(1), max_concurrent=1, capabilities=caps
        ) as stack:
            await stack.dispatcher.handle(mention(0, text="write the long report"))
            await stack.wait_finished(1, timeout=tokens / rate + 60)
            writes = list(stack.bench.writes)
    if any("confidence" in w.text.lower() for w in writes):
        raise AssertionError("a confidence note was shown")
    return _analyse("live", platform, caps, rate, writes, arrived, tokens)


def _row(r: _Result) -> list[str]:
    interval = r.caps.min_edit_interval
    per_k = 1000 / r.tokens
    # Pacing allows one write per interval per message.
    allowed = math.floor(r.duration / interval + 1e-9) + 1 if interval > 0 else math.inf
    target = interval + VISIBLE_SLACK_S
    first_target = interval + FIRST_SLACK_S
    ok = (
        r.min_gap >= interval - _GAP_TOLERANCE
        and r.thread_gap >= interval - _GAP_TOLERANCE
        and r.max_delay <= target
        and r.first_visible <= first_target
    )
    both = r.answer_edits + r.other_edits
    return [
        r.path,
        r.platform,
        f"{r.rate:g}",
        f"{interval:g}",
        str(r.tokens),
        f"{r.answer_edits * per_k:.1f}",
        f"{allowed * per_k:.1f}",
        f"{r.other_edits * per_k:.1f}" if r.path != "renderer" else "-",
        f"{both * per_k:.1f}",
        "n/a" if math.isinf(r.min_gap) else f"{r.min_gap:.3f}",
        "n/a" if math.isinf(r.thread_gap) else f"{r.thread_gap:.3f}",
        ms(r.first_visible),
        ms(first_target),
        ms(r.max_delay),
        ms(target),
        verdict(ok),
    ]


HEADERS = [
    "path",
    "platform",
    "tok/s",
    "interval s",
    "tokens",
    "answer edits/1k",
    "allowed/1k",
    "card edits/1k",
    "card+answer edits/1k",
    "min gap s",
    "thread edit gap s",
    "first visible ms",
    "first target ms",
    "max delay ms",
    "target ms",
    "ok",
]


async def _main(smoke: bool) -> Table:
    caps = platform_capabilities()
    if smoke:
        caps = {
            name: dataclasses.replace(c, min_edit_interval=c.min_edit_interval * SMOKE_TIME_SCALE)
            for name, c in caps.items()
        }
    rates = SMOKE_RATES if smoke else RATES
    tokens = SMOKE_TOKENS if smoke else TOKENS
    results: list[_Result] = []
    # One path at a time: the agent path's database work must not delay the renderer path.
    for path in (_renderer, _agent, _live):
        jobs = [path(name, c, rate, tokens) for name, c in caps.items() for rate in rates]
        results += await asyncio.gather(*jobs)
    return HEADERS, [_row(r) for r in results]


def run(smoke: bool = False) -> Table:
    """Run the benchmark; returns (headers, rows)."""
    return asyncio.run(_main(smoke))
