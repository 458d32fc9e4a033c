"""Access managed from chat, through the whole wiring on the loopback Slack: DM pairing,
allow / revoke, per-channel settings, and the approval audit in view and in the export."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

import bot.services
from bot.app import App
from bot.cli_access import access_cli
from bot.cli_data import export
from bot.config import Settings
from bot.wiring import build_app
from tests.fakes.clock import FakeClock
from tests.fakes.ollama import FakeOllama
from tests.fakes.slack import FakeSlack, SlackMessage

CHANNEL = "C0DEV"
ADMIN = "UBOSS"
CODE = re.compile(r"pairing code is `([A-Z0-9]{8})`")


async def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


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
            "ADMINS": f"slack:{ADMIN}",
            "VERIFICATION_ENABLED": "false",
            **env,
        }
    )


@asynccontextmanager
async def running(
    tmp_path: Path, clock: FakeClock | None = None, **env: str
) -> AsyncIterator[tuple[FakeSlack, FakeOllama, App]]:
    async with FakeSlack() as slack, FakeOllama() as ollama:
        (tmp_path / "ws").mkdir(exist_ok=True)
        app = build_app(_settings(tmp_path, slack, ollama, **env), console=False, clock=clock)
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop))
        try:
            await app.ready.wait()
            await slack.wait_socket()
            yield slack, ollama, app
        finally:
            stop.set()
            await task


def _in(slack: FakeSlack, channel: str) -> list[SlackMessage]:
    return [m for m in slack.messages.values() if m.channel == channel and m.bot_id]


async def _dm(slack: FakeSlack, user: str, text: str) -> list[SlackMessage]:
    """DM hearth as ``user`` in D<user>; returns hearth's new messages there (waits for one)."""
    channel = f"D{user}"
    before = len(_in(slack, channel))
    await slack.send_envelope(slack.dm(channel, user, text))
    await until(lambda: len(_in(slack, channel)) > before)
    return _in(slack, channel)[before:]


def _code_of(messages: list[SlackMessage]) -> str:
    match = CODE.search("\n".join(m.text for m in messages))
    assert match, [m.text for m in messages]
    return match[1]


async def test_pairing_on_slack_from_dm_to_first_task(tmp_path: Path) -> None:
    async with running(tmp_path) as (slack, ollama, _):
        # An unknown user DMs hearth: a code, and the admin is told in their DM.
        code = _code_of(await _dm(slack, "UNEW", "hi, can I use you?"))
        assert all(c in "ABCDEFGHJKMNPQRSTUVWXYZ23456789" for c in code)
        await until(lambda: any(code in m.text for m in _in(slack, f"D{ADMIN}")))
        assert "slack:UNEW" in _in(slack, f"D{ADMIN}")[-1].text
        # Asking again while it is valid gives the same code.
        assert _code_of(await _dm(slack, "UNEW", "hello?")) == code
        # A stranger who learned the code gets their own, not access.
        other = _code_of(await _dm(slack, "UEVE", f"pair approve {code}"))
        assert other != code

        # The admin approves in chat; the user is told.
        [reply] = await _dm(slack, ADMIN, f"pair approve {code}")
        assert "Paired" in reply.text and "slack:UNEW" in reply.text
        await until(lambda: any("approved your pairing" in m.text for m in _in(slack, "DUNEW")))

        # The user's next message is a task that runs.
        ollama.queue_json({"subtasks": ["report disk usage"]})
        ollama.queue_text("The disk is 42% full.\nCONFIDENCE: 0.9")
        await slack.send_envelope(slack.dm("DUNEW", "UNEW", "why is the disk so full?"))
        await until(lambda: any("42% full" in m.text for m in _in(slack, "DUNEW")))
        # The stranger is still refused: their code waits, bound to them.
        [still] = await _dm(slack, "UEVE", "how full is the disk?")
        assert _code_of([still]) == other

    _, users = await access_cli(_settings(tmp_path, slack, ollama), "users", "list")
    assert "slack:UNEW  user  pairing  allowed" in users


async def test_two_dms_at_once_get_one_code(tmp_path: Path) -> None:
    """slack-bolt handles events concurrently: two quick DMs must not be given two codes."""
    async with running(tmp_path) as (slack, _, _app):
        await asyncio.gather(
            slack.send_envelope(slack.dm("DUNEW", "UNEW", "hi")),
            slack.send_envelope(slack.dm("DUNEW", "UNEW", "hello?")),
        )
        await until(lambda: len(_in(slack, "DUNEW")) == 2)
        codes = {_code_of([m]) for m in _in(slack, "DUNEW")}
        assert len(codes) == 1
        await until(lambda: any("slack:UNEW" in m.text for m in _in(slack, f"D{ADMIN}")))
        assert sum("slack:UNEW" in m.text for m in _in(slack, f"D{ADMIN}")) == 1


async def test_expired_code_and_the_fourth_request_are_refused(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running(tmp_path, clock=clock) as (slack, _, _):
        codes = [_code_of(await _dm(slack, f"UNEW{i}", "hello")) for i in range(3)]
        [fourth] = await _dm(slack, "UNEW3", "hello")
        assert "too many pairing requests are waiting" in fourth.text
        assert not CODE.search(fourth.text)

        clock.advance(3601)  # every code is an hour old now
        [expired] = await _dm(slack, ADMIN, f"pair approve {codes[0]}")
        assert "expired" in expired.text
        [refused] = await _dm(slack, "UNEW0", "let me in")  # not allowed: a new code
        assert _code_of([refused]) != codes[0]
        # Expired codes no longer count: the fourth user gets one now.
        assert _code_of(await _dm(slack, "UNEW3", "hello again"))


async def test_reject_tells_the_user_and_cli_approval_reaches_the_running_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.services, "ACCESS_SYNC", 0.2)  # pick up CLI changes quickly
    async with running(tmp_path) as (slack, ollama, _):
        code = _code_of(await _dm(slack, "UNEW", "hi"))
        [reply] = await _dm(slack, ADMIN, f"pair reject {code}")
        assert "Rejected" in reply.text
        await until(lambda: any("declined" in m.text for m in _in(slack, "DUNEW")))

        second = _code_of(await _dm(slack, "UCLI", "hi"))
        settings = _settings(tmp_path, slack, ollama)
        ok, said = await access_cli(settings, "pair", "approve", second, "approver")
        assert ok
        assert "Paired" in said
        # The running hearth tells the user and lets them in once it syncs (ACCESS_SYNC).
        await until(
            lambda: any("approved your pairing" in m.text for m in _in(slack, "DUCLI")),
            timeout=30,
        )


async def test_revoke_stops_the_running_task_and_refuses_the_next(tmp_path: Path) -> None:
    async with running(tmp_path) as (slack, ollama, app):
        [ok] = await _dm(slack, ADMIN, "allow <@UDEV>")
        assert "Allowed `slack:UDEV`" in ok.text
        ollama.queue_json({"subtasks": ["count to a million"]})
        ollama.queue_hang()  # the executor's call hangs: the task stays running
        event = slack.mention(CHANNEL, "UDEV", "count to a million")
        root = event["event"]["ts"]
        await slack.send_envelope(event)
        await until(lambda: app.pool.running_count() == 1)

        [done] = await _dm(slack, ADMIN, "revoke slack:UDEV")
        assert "stopped 1 running task" in done.text
        await until(lambda: any("revoked" in m.text for m in slack.in_thread(CHANNEL, root)))
        await until(lambda: app.pool.running_count() == 0)

        again = slack.mention(CHANNEL, "UDEV", "and now?")
        await slack.send_envelope(again)
        await until(lambda: slack.in_thread(CHANNEL, again["event"]["ts"]))
        [refusal] = slack.in_thread(CHANNEL, again["event"]["ts"])
        assert "allowlist" in refusal.text
        assert app.pool.running_count() == 0


async def test_settings_tasks_approvers_and_the_approval_export(tmp_path: Path) -> None:
    async with running(tmp_path) as (slack, ollama, app):
        admin = slack.mention(CHANNEL, ADMIN, "settings tasks approvers")
        await slack.send_envelope(admin)
        await until(lambda: slack.in_thread(CHANNEL, admin["event"]["ts"]))
        assert "`tasks` approvers" in slack.in_thread(CHANNEL, admin["event"]["ts"])[0].text

        asked = slack.mention(CHANNEL, "UANA", "how full is the disk?")
        await slack.send_envelope(asked)
        await until(lambda: slack.in_thread(CHANNEL, asked["event"]["ts"]))
        [no] = slack.in_thread(CHANNEL, asked["event"]["ts"])
        assert "only approvers may start tasks" in no.text
        job = slack.mention(CHANNEL, "UANA", "every day at 9:00 check the backups")
        await slack.send_envelope(job)
        await until(lambda: slack.in_thread(CHANNEL, job["event"]["ts"]))
        assert "only approvers" in slack.in_thread(CHANNEL, job["event"]["ts"])[0].text

        shown = slack.mention(CHANNEL, "UANA", "settings")
        await slack.send_envelope(shown)
        await until(lambda: slack.in_thread(CHANNEL, shown["event"]["ts"]))
        assert "`local-only` off" in slack.in_thread(CHANNEL, shown["event"]["ts"])[0].text
        assert app.pool.running_count() == 0

    out = io.StringIO()
    settings = _settings(tmp_path, slack, ollama)
    assert await export(settings, "approvals", out, labeled=False, since="7d") == 0
    assert [json.loads(line) for line in out.getvalue().splitlines()] == []
