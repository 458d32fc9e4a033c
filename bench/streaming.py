"""streaming: edits per 1,000 streamed tokens and token-to-visible delay, per platform pacing.

Tokens (``w0 w1 …``, a newline every 12) arrive at 20 and 100 tokens/s, with each
platform's capabilities (Slack, Discord, Matrix, as their adapters declare them), along two
paths:

* ``renderer``: straight into the real ``StreamRenderer``;
* ``agent``: a mention goes through the real dispatcher, task pool, storage and agent; a
  two-step plan makes the agent stream its final answer from the scripted model at the rate,
  while the progress card is edited in the same thread.

From the timestamped writes: edits per 1,000 tokens (answer and, for the agent, the card)
against the most one message's pacing allows; the shortest gap between two writes of one
message (must be >= ``min_edit_interval``); and the longest delay from a token arriving to it
being visible (target: ``min_edit_interval`` + 100 ms). Everything streams concurrently.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    BenchAdapter,
    ScriptedModel,
    Table,
    Write,
    ms,
    platform_capabilities,
    verdict,
)
from bench.stack import agent_script, bench_users, build_agent, core_stack, is_summary, mention
from core.events import ChatRef
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


def _row(r: _Result) -> list[str]:
    interval = r.caps.min_edit_interval
    per_k = 1000 / r.tokens
    # Pacing allows one write per interval per message.
    allowed = math.floor(r.duration / interval + 1e-9) + 1 if interval > 0 else math.inf
    target = interval + VISIBLE_SLACK_S
    ok = r.min_gap >= interval - _GAP_TOLERANCE and r.max_delay <= target
    return [
        r.path,
        r.platform,
        f"{r.rate:g}",
        f"{interval:g}",
        str(r.tokens),
        f"{r.answer_edits * per_k:.1f}",
        f"{allowed * per_k:.1f}",
        f"{r.other_edits * per_k:.1f}" if r.path == "agent" else "-",
        "n/a" if math.isinf(r.min_gap) else f"{r.min_gap:.3f}",
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
    "min gap s",
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
    for path in (_renderer, _agent):
        jobs = [path(name, c, rate, tokens) for name, c in caps.items() for rate in rates]
        results += await asyncio.gather(*jobs)
    return HEADERS, [_row(r) for r in results]


def run(smoke: bool = False) -> Table:
    """Run the benchmark; returns (headers, rows)."""
    return asyncio.run(_main(smoke))
