"""The whole process as `hearth run` builds it: Slack (Socket Mode) + agent + tools + approvals.

Everything real but the servers: the wiring's adapters, dispatcher, agent, tool registry, risk
classifier and approval broker, against the loopback Slack and Ollama fakes.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import App
from bot.config import Settings
from bot.wiring import build_app
from tests.fakes.ollama import FakeOllama
from tests.fakes.slack import FakeSlack, SlackMessage

CHANNEL = "C0DEV"


async def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@asynccontextmanager
async def running(tmp_path: Path, **env: str) -> AsyncIterator[tuple[FakeSlack, FakeOllama, App]]:
    async with FakeSlack() as slack, FakeOllama() as ollama:
        settings = Settings.from_env(
            {
                "HEARTH_DATA_DIR": str(tmp_path / "data"),
                "HEARTH_WORKSPACE": str(tmp_path / "ws"),
                "OLLAMA_HOST": ollama.url,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_APP_TOKEN": slack.app_token,
                "SLACK_API_URL": slack.base_url,
                "ALLOWED_USERS": "slack:UANA",
                "ADMINS": "slack:UBOSS",
                "VERIFICATION_ENABLED": "false",
                **env,
            }
        )
        (tmp_path / "ws").mkdir()
        app = build_app(settings, console=False)
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop))
        try:
            await app.ready.wait()
            await slack.wait_socket()
            yield slack, ollama, app
        finally:
            stop.set()
            await task


def _thread(slack: FakeSlack, root: str) -> list[SlackMessage]:
    return slack.in_thread(CHANNEL, root)


async def test_mention_to_streamed_answer_in_its_thread(tmp_path: Path) -> None:
    async with running(tmp_path) as (slack, ollama, _):
        ollama.queue_json({"subtasks": ["report disk usage"]})
        ollama.queue_text("The disk is 42% full.\nCONFIDENCE: 0.9")
        # Not a skill's example ("how full is the disk?" is answered by disk_usage, no model).
        event = slack.mention(CHANNEL, "UANA", "why is the disk so full?")
        root = event["event"]["ts"]
        await slack.send_envelope(event)
        await until(lambda: any("42% full" in m.text for m in _thread(slack, root)))
        await until(lambda: any("✅ Done" in m.text for m in _thread(slack, root)))
    texts = [m.text for m in _thread(slack, root)]
    assert any(t.startswith("The disk is 42% full.") for t in texts), texts
    assert not any("CONFIDENCE" in t for t in texts)


async def test_risky_command_waits_for_the_approver_then_runs(tmp_path: Path) -> None:
    async with running(tmp_path) as (slack, ollama, _):
        build = tmp_path / "ws" / "build"
        build.mkdir()
        (build / "out.o").write_text("x")
        ollama.queue_json({"subtasks": ["delete the build directory"]})
        ollama.queue_tool_calls([("shell", {"command": "rm -r build"})])
        ollama.queue_text("Deleted the build directory.\nCONFIDENCE: 0.9")
        event = slack.mention(CHANNEL, "UANA", "clean up the build dir")
        root = event["event"]["ts"]
        await slack.send_envelope(event)
        await until(lambda: any(m.buttons for m in _thread(slack, root)))
        prompt = next(m for m in _thread(slack, root) if m.buttons)
        assert "rm -r build" in prompt.block_text + prompt.text
        assert build.exists()  # nothing runs before a human decides
        approve = next(
            b["action_id"] for b in prompt.buttons if b["action_id"].endswith("approve")
        )
        await slack.send_envelope(slack.button_click("UANA", prompt, approve))  # requester: no
        await until(lambda: any("only approvers" in m.text for m in _thread(slack, root)))
        assert build.exists() and slack.messages[prompt.ts].buttons
        await slack.send_envelope(slack.button_click("UBOSS", prompt, approve))
        await until(lambda: not build.exists())
        await until(lambda: any("Deleted the build" in m.text for m in _thread(slack, root)))
    assert not slack.messages[prompt.ts].buttons  # closed: nobody can click twice
    assert "Approved" in slack.messages[prompt.ts].text + slack.messages[prompt.ts].block_text


async def test_stopping_closes_every_http_session_to_ollama(tmp_path: Path) -> None:
    """No "Unclosed client session" in the log once a stopped app's clients are collected."""
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context["message"]))
    try:
        async with running(tmp_path) as (slack, ollama, app):
            ollama.queue_json({"subtasks": ["report disk usage"]})
            ollama.queue_text("The disk is 42% full.\nCONFIDENCE: 0.9")
            event = slack.mention(CHANNEL, "UANA", "why is the disk so full?")
            root = event["event"]["ts"]
            await slack.send_envelope(event)
            await until(lambda: any("✅ Done" in m.text for m in _thread(slack, root)))
        assert ollama.requests  # the model was asked over HTTP
        del app  # the stopped app and its clients are collected
        gc.collect()
        assert not [m for m in reported if "Unclosed" in m], reported
    finally:
        loop.set_exception_handler(None)
