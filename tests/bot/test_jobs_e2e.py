"""Scheduled jobs from chat through the whole wiring on the loopback Slack, in virtual time.

The FakeClock starts on Friday 2024-03-29 12:00 UTC (13:00 in Berlin); Europe/Berlin moves its
clocks forward on Sunday 2024-03-31 at 02:00, so "every day at 9:00" must fire at 08:00 UTC
before the change and 07:00 UTC after it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import App
from bot.cli_jobs import jobs_cli
from bot.config import Settings
from bot.wiring import build_app
from core.storage import MIGRATIONS, Database
from core.storage.jobs import JobStore
from tests.fakes.clock import FakeClock
from tests.fakes.ollama import FakeOllama, ScriptedReply
from tests.fakes.slack import FakeSlack, SlackMessage

CHANNEL = "C0OPS"
BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2024, 3, 29, 12, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0
JOB_ID = re.compile(r"Scheduled job `([0-9a-f]{6})`")


class World:
    """Slack, Ollama, the app and the virtual clock of one test."""

    def __init__(self, slack: FakeSlack, ollama: FakeOllama, app: App, clock: FakeClock) -> None:
        self.slack, self.ollama, self.app, self.clock = slack, ollama, app, clock

    async def until(self, predicate: Callable[[], object], *, step: float = 0.2) -> None:
        """Let the app work, moving virtual time in small steps, until ``predicate`` holds."""
        async with asyncio.timeout(20):
            while not predicate():
                await asyncio.sleep(0.005)
                self.clock.advance(step)

    @property
    def jobs(self):
        return next(s for s in self.app.services if hasattr(s, "jobs")).jobs

    async def advance(self, seconds: float) -> None:
        """Jump virtual time forward, then let what became due run to its end."""
        self.clock.advance(seconds)
        await self.settle()

    async def settle(self) -> None:
        """Wait until no run is starting or running (tasks get virtual time in small steps)."""
        pool = self.app.pool
        async with asyncio.timeout(20):
            while True:
                await asyncio.sleep(0.005)
                if pool.running_count() or pool.queue_depth():
                    self.clock.advance(0.2)
                elif not self.jobs.busy():
                    return

    async def say(self, text: str, user: str = "UANA") -> str:
        """Mention hearth in the channel; returns its first reply in the thread."""
        event = self.slack.mention(CHANNEL, user, text)
        root = event["event"]["ts"]
        await self.slack.send_envelope(event)
        await self.until(lambda: self.slack.in_thread(CHANNEL, root))
        return self.slack.in_thread(CHANNEL, root)[0].text

    def headers(self, job_id: str) -> list[SlackMessage]:
        """The top-level messages that start each run's thread, in order."""
        return [
            m
            for m in self.slack.messages.values()
            if m.channel == CHANNEL
            and m.thread_ts is None
            and m.text.startswith(f"⏰ Scheduled job `{job_id}`")
        ]

    def thread(self, header: SlackMessage) -> list[str]:
        return [m.text for m in self.slack.in_thread(CHANNEL, header.ts)]


def _settings(tmp_path: Path, slack: FakeSlack, ollama: FakeOllama, **env: str) -> Settings:
    return Settings.from_env(
        {
            "HEARTH_DATA_DIR": str(tmp_path / "data"),
            "HEARTH_WORKSPACE": str(tmp_path / "ws"),
            "OLLAMA_HOST": ollama.url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.base_url,
            "ALLOWED_USERS": "slack:UANA",
            "ADMINS": "slack:UBOSS",
            "ADMIN_CHANNEL": "slack:C0ADMIN",
            "VERIFICATION_ENABLED": "false",
            "SCHEDULE_TZ": "Europe/Berlin",
            **env,
        }
    )


@asynccontextmanager
async def world(
    tmp_path: Path, clock: FakeClock | None = None, **env: str
) -> AsyncIterator[World]:
    clock = clock or FakeClock(START, auto_advance=False)
    async with FakeSlack() as slack, FakeOllama(fallback_text="All fine.\nCONFIDENCE: 0.9") as ol:
        (tmp_path / "ws").mkdir(exist_ok=True)
        app = build_app(_settings(tmp_path, slack, ol, **env), console=False, clock=clock)
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop))
        w = World(slack, ol, app, clock)
        try:
            await app.ready.wait()
            await slack.wait_socket()
            yield w
        finally:
            stop.set()
            await w.until(task.done)


async def test_each_grammar_form_runs_at_the_right_times_across_dst(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        forms = {
            "daily": "every day at 9:00 check the backups",
            "weekday": "every weekday at 9 count the tickets",
            "monday": "every monday 08:30 plan the week",
            "hours": "every 6 hours check the disk",
            "once": "at 17:00 tomorrow send the report",
            "cron": 'every "0 9 * * 0" rotate the logs',
        }
        ids: dict[str, str] = {}
        for name, text in forms.items():
            reply = await w.say(text)
            match = JOB_ID.search(reply)
            assert match, reply
            ids[name] = match[1]
        daily_reply = await w.say(f"job {ids['daily']}")
        assert "Next runs: Sat 2024-03-30 09:00, Sun 2024-03-31 09:00, Mon 2024-04-01 09:00" in (
            daily_reply
        )

        end = START + 2 * 24 * HOUR + 20 * HOUR  # Monday 10:00 in Berlin
        while w.clock.now() < end:
            await w.advance(15 * 60)
        usage = await w.say("usage")
        headers = {name: len(w.headers(job_id)) for name, job_id in ids.items()}
        threads = [w.thread(h) for h in w.headers(ids["daily"])]

    fired = {name: await _fired(tmp_path, job_id) for name, job_id in ids.items()}
    assert fired["daily"] == ["Sat 09:00", "Sun 09:00", "Mon 09:00"]
    assert fired["weekday"] == ["Mon 09:00"]
    assert fired["monday"] == ["Mon 08:30"]
    assert fired["once"] == ["Sat 17:00"]
    assert fired["cron"] == ["Sun 09:00"]
    # Every 6 hours is elapsed time: from Fri 13:00 local, the DST night is one hour shorter.
    assert fired["hours"][:5] == ["Fri 19:00", "Sat 01:00", "Sat 07:00", "Sat 13:00", "Sat 19:00"]
    assert fired["hours"][5:7] == ["Sun 01:00", "Sun 08:00"]
    # Each run is a task in a new thread of the channel, answered there.
    assert headers == {name: len(times) for name, times in fired.items()}
    assert all(any("All fine." in text for text in thread) for thread in threads)
    # Their model calls are counted apart in `usage`.
    assert "scheduled jobs:" in usage


async def _fired(tmp_path: Path, job_id: str) -> list[str]:
    """When each run of ``job_id`` was due, in Berlin time, oldest first."""
    db = Database(tmp_path / "data" / "hearth.db", MIGRATIONS)
    await db.start()
    try:
        runs = await JobStore(db).runs(job_id, limit=1000)
    finally:
        await db.close()
    return [f"{datetime.fromtimestamp(r.fire_at, BERLIN):%a %H:%M}" for r in reversed(runs)]


async def _make(w: World, text: str, user: str = "UANA") -> str:
    reply = await w.say(text, user)
    match = JOB_ID.search(reply)
    assert match, reply
    return match[1]


def _in_channel(w: World, channel: str) -> list[str]:
    return [m.text for m in w.slack.messages.values() if m.channel == channel]


async def test_a_risky_step_asks_in_the_runs_thread_and_its_timeout_denies(
    tmp_path: Path,
) -> None:
    build = tmp_path / "ws" / "build"
    build.mkdir(parents=True)
    async with world(tmp_path, SCHEDULE_APPROVAL_TIMEOUT="600") as w:
        job_id = await _make(w, "every day at 9:00 clean the build dir")
        w.ollama.queue_json({"subtasks": ["delete the build directory"]})
        w.ollama.queue_tool_calls([("shell", {"command": "rm -r build"})])
        w.ollama.queue_text("I could not delete it.\nCONFIDENCE: 0.9")
        w.clock.advance(20 * HOUR + 60)  # Saturday 09:01 in Berlin
        # Small steps: the run reaches its prompt long before the 10 minutes pass.
        await w.until(lambda: any(m.buttons for m in w.slack.messages.values()), step=0.01)
        [header] = w.headers(job_id)
        [prompt] = [m for m in w.slack.messages.values() if m.buttons]
        assert prompt.thread_ts == header.ts and "rm -r build" in prompt.block_text
        w.clock.advance(601)  # nobody answers within SCHEDULE_APPROVAL_TIMEOUT
        await w.settle()
        assert not prompt.buttons and "Expired (after 10 min)" in prompt.text + prompt.block_text
    assert build.exists()  # a timeout is a denial: nothing ran


async def test_three_failed_runs_pause_the_job_and_tell_the_creator(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        job_id = await _make(w, "every 2 hours check the disk")
        w.ollama.fallback = ScriptedReply("error", status=500, message="model runner crashed")
        for _ in range(4):
            await w.advance(2 * HOUR)
        told = [t for t in _in_channel(w, CHANNEL) if "failed 3 times in a row" in t]
        runs = await w.jobs.runs(job_id)
        assert [r.status for r in runs] == ["failed"] * 3
        assert len(w.headers(job_id)) == 3  # the fourth fire time found it paused
        assert told and job_id in told[0]
        listing = await w.say("jobs")
        assert f"`{job_id}`" in listing and "paused (3 failed runs in a row)" in listing


async def test_misfires_run_once_within_the_grace_and_are_skipped_after_it(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START, auto_advance=False)
    async with world(tmp_path, clock) as w:
        job_id = await _make(w, "every day at 9:00 check the backups")
    clock.advance(20 * HOUR + 30 * 60)  # down over Saturday 09:00; back at 09:30
    async with world(tmp_path, clock) as w:
        await w.until(lambda: w.jobs.started)
        await w.settle()
        assert len(w.headers(job_id)) == 1  # the missed run, once, at startup
    clock.advance(26 * HOUR)  # down over Sunday 09:00; back at 12:30 (DST), past the 1 h grace
    async with world(tmp_path, clock) as w:
        await w.until(lambda: w.jobs.started)
        await w.settle()
        assert w.headers(job_id) == []  # skipped
        await w.advance(21 * HOUR)  # Monday 09:30: 09:00 runs, and says what was skipped
        [header] = w.headers(job_id)
        assert any("were skipped while hearth was down" in t for t in w.thread(header))
    fired = await _fired(tmp_path, job_id)
    assert fired == ["Sat 09:00", "Sun 09:00", "Mon 09:00"]
    ok, text = await jobs_cli(_settings(tmp_path, w.slack, w.ollama), "list", None)
    assert ok and job_id in text and "active" in text


async def test_revoking_the_creator_pauses_their_jobs_and_tells_the_admins(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        assert "Allowed" in await w.say("allow <@UDEV>", "UBOSS")
        refused = await w.say("every 2 minutes ping the router", "UDEV")
        assert "at most every 5 minutes" in refused
        job_id = await _make(w, "every day at 9:00 ping the router", "UDEV")
        assert "Revoked" in await w.say("revoke <@UDEV>", "UBOSS")
        await w.until(lambda: any(job_id in t for t in _in_channel(w, "C0ADMIN")))
        [note] = [t for t in _in_channel(w, "C0ADMIN") if job_id in t]
        assert "Paused 1 scheduled job(s) of `slack:UDEV`" in note
        await w.advance(20 * HOUR)  # Saturday 09:00 passes
        assert w.headers(job_id) == []
        assert "paused" in await w.say(f"job {job_id}", "UBOSS")


async def test_limits_and_management_from_chat(tmp_path: Path) -> None:
    async with world(tmp_path, MAX_JOBS_PER_USER="1", ALLOWED_USERS="slack:UANA,slack:UBOB") as w:
        job_id = await _make(w, "every monday 08:30 plan the week")
        assert "MAX_JOBS_PER_USER" in await w.say("every day at 9 more")
        assert "Only the job's creator or an admin" in await w.say(f"pause {job_id}", "UBOB")
        assert "paused" in await w.say(f"pause {job_id}")
        assert "resumed" in await w.say(f"resume {job_id}", "UBOSS")
        assert "removed" in await w.say(f"unschedule {job_id}")
        assert "No jobs in this channel" in await w.say("jobs")
        assert "`tz` America/New_York" in await w.say("settings tz America/New_York", "UBOSS")
        made = await w.say("every day at 7:00 make coffee", "UBOSS")
        assert "(America/New_York)" in made and "Sat 2024-03-30 07:00" in made
        bad = await w.say("every sometimes do it")
        assert "I couldn't schedule that" in bad and "every day at 9:00" in bad
