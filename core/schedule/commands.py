"""Scheduled jobs from chat: `every`, `at`, `jobs`, `job`, `pause`, `resume`, `unschedule`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from core.clock import SystemClock, utc
from core.commands import Command, CommandContext
from core.events import ChatRef, IncomingMessage
from core.ports import Clock
from core.schedule.grammar import EXAMPLES, ScheduleError, parse_at, parse_every
from core.schedule.service import JobService
from core.storage.jobs import JobRecord

TimezoneOf = Callable[[ChatRef], Awaitable[str]]
MayStart = Callable[[IncomingMessage], Awaitable[str | None]]


def _when(moment: datetime) -> str:
    return f"{moment:%a %Y-%m-%d %H:%M}"


def job_commands(
    jobs: JobService,
    timezone_of: TimezoneOf,
    *,
    may_start: MayStart | None = None,
    clock: Clock | None = None,
) -> list[Command]:
    """The job commands, bound to ``jobs``; ``timezone_of`` gives a channel's zone.

    ``may_start`` applies the channel's task policy (`settings tasks approvers`) to new jobs.
    """
    clock = clock or SystemClock()

    async def create(ctx: CommandContext, every: bool) -> str:
        if may_start is not None and (refusal := await may_start(ctx.message)):
            return refusal
        tz = await timezone_of(ctx.chat)
        try:
            if every:
                parsed = parse_every(ctx.args)
            else:
                parsed = parse_at(ctx.args, now=utc(clock.now()), tz=ZoneInfo(tz))
            job = await jobs.create(
                parsed, creator=ctx.user, chat=ctx.chat, tz=tz, is_admin=ctx.is_admin
            )
        except ScheduleError as exc:
            return f"I couldn't schedule that: {exc}"
        runs = jobs.next_runs(job)
        times = ", ".join(_when(t) for t in runs)
        return (
            f"⏰ Scheduled job `{job.id}`: {job.describe} ({tz}) — {job.task}\n"
            f"Next run{'s' if len(runs) > 1 else ''}: {times}. Each run is a new thread here; "
            f"`pause {job.id}`, `unschedule {job.id}`."
        )

    async def every(ctx: CommandContext) -> str:
        return await create(ctx, every=True)

    async def at(ctx: CommandContext) -> str:
        return await create(ctx, every=False)

    async def list_jobs(ctx: CommandContext) -> str:
        found = await jobs.in_channel(ctx.chat)
        if not found:
            return f"No jobs in this channel. Make one: {EXAMPLES}."
        lines = ["Jobs in this channel:"]
        for job in found:
            runs = await jobs.runs(job.id)
            last = runs[0].status if runs else "not run yet"
            nxt = jobs.next_runs(job, 1) if job.status == "active" else []
            when = _when(nxt[0]) if nxt else f"paused ({job.pause_reason or 'by hand'})"
            lines.append(f"• `{job.id}` {job.describe} · next: {when} · last: {last} · {job.task}")
        return "\n".join(lines)

    async def show(ctx: CommandContext) -> str:
        job = await _find(ctx)
        if isinstance(job, str):
            return job
        lines = [
            f"Job `{job.id}` by {job.creator_name or job.creator} (`{job.creator}`): {job.task}",
            f"Schedule: {job.describe} ({job.tz}) · status: {job.status}"
            + (f" — {job.pause_reason}" if job.pause_reason else ""),
        ]
        if job.status == "active":
            lines.append("Next runs: " + ", ".join(_when(t) for t in jobs.next_runs(job)))
        runs = await jobs.runs(job.id)
        lines.append("Last runs:" if runs else "No runs yet.")
        for run in runs:
            when = utc(run.fire_at).astimezone(ZoneInfo(job.tz))
            where = f" · thread {run.thread_id}" if run.thread_id else ""
            task = f" · task `{run.task_id}`" if run.task_id else ""
            lines.append(f"• {_when(when)} {run.status}{task}{where}")
        return "\n".join(lines)

    async def _find(ctx: CommandContext) -> JobRecord | str:
        job_id = ctx.args.strip().strip("`")
        if not job_id:
            return f"Usage: `{ctx.name} <id>` (see `jobs`)."
        job = await jobs.get(job_id)
        if job is None or job.status == "removed":
            return f"No job `{job_id}`; `jobs` lists this channel's jobs."
        return job

    def manage(action: str, done: str) -> Callable[[CommandContext], Awaitable[str]]:
        async def handler(ctx: CommandContext) -> str:
            job = await _find(ctx)
            if isinstance(job, str):
                return job
            if job.creator != ctx.user.qualified and not ctx.is_admin:
                return f"Only the job's creator or an admin can {ctx.name} `{job.id}`."
            changed = await jobs.set_state(job.id, action, reason=f"by {ctx.user.qualified}")
            if changed is None:
                return f"Job `{job.id}` is {job.status}; nothing to {ctx.name}."
            return f"Job `{job.id}` {done}."

        return handler

    return [
        Command("every", "every <when> <task>", "schedule a recurring task here", every),
        Command("at", "at <time> <task>", "schedule a task once, e.g. at 17:00 tomorrow", at),
        Command("jobs", "jobs", "this channel's scheduled jobs", list_jobs),
        Command("job", "job <id>", "a job's details and its last 5 runs", show),
        Command("pause", "pause <id>", "pause a scheduled job", manage("pause", "paused")),
        Command("resume", "resume <id>", "resume a paused job", manage("resume", "resumed")),
        Command(
            "unschedule", "unschedule <id>", "remove a scheduled job", manage("remove", "removed")
        ),
    ]
