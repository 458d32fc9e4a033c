"""`hearth run` as a process, killed and started again, then stopped with SIGTERM, per platform.

Killed with a task running and an approval pending, hearth comes back and the thread is told
the task was interrupted, the old prompt shows it expired, and a click on it is answered. A
SIGTERM then stops it within 5 s with code 0, closing the platform session properly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.ollama import FakeOllama

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0
COMMAND = "rm -rf build"


async def until(check: Any, timeout: float = WAIT) -> Any:
    """Poll ``check`` (sync or async) until truthy."""
    async with asyncio.timeout(timeout):
        while True:
            value = check()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(0.05)


class Hearth:
    """One `hearth run` process writing its logs under the test's directory."""

    def __init__(self, tmp_path: Path, env: dict[str, str], name: str) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.log = tmp_path / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HEARTH_", "SLACK_", "DISCORD_", "MATRIX_", "HEARTBEAT_"))
        }
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=base | {"PYTHONPATH": str(ROOT)} | self.env,
            cwd=self.tmp_path,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self.log.open("ab"),
            stderr=asyncio.subprocess.STDOUT,
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()

    async def terminate(self) -> tuple[int, float]:
        """SIGTERM; (exit code, seconds it took)."""
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), 20)
        return code, time.monotonic() - began

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _env(tmp_path: Path, ollama: FakeOllama, user: str) -> dict[str, str]:
    (tmp_path / "ws").mkdir(exist_ok=True)
    return {
        "HEARTH_DATA_DIR": str(tmp_path / "data"),
        "HEARTH_WORKSPACE": str(tmp_path / "ws"),
        "OLLAMA_HOST": ollama.url,
        "ALLOWED_USERS": user,
        "APPROVERS": user,
        "ADMINS": user,
        "VERIFICATION_ENABLED": "false",
        "ESCALATION_ENABLED": "false",
        "HEARTBEAT_INTERVAL": "3600",
    }


def _script(ollama: FakeOllama) -> None:
    # First run: a plan, then a risky command that waits for an approval (killed meanwhile).
    ollama.queue_json({"subtasks": ["delete the build directory"]})
    ollama.queue_tool_calls([("shell", {"command": COMMAND})])
    # Second run: a task that is still thinking when SIGTERM arrives.
    ollama.queue_json({"subtasks": ["think for a long time"]})
    ollama.queue_hang()


def _prompt_stored(db: Path) -> bool:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT count(*) FROM approvals WHERE prompt_id IS NOT NULL").fetchone()
    return bool(row and row[0])


# -- platforms ----------------------------------------------------------------------------------


class Slack:
    """The loopback Slack fake seen by a `hearth run` in Socket Mode."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.user = "slack:UANA"
        self.root = ""

    def env(self) -> dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": self.fake.bot_token,
            "SLACK_APP_TOKEN": self.fake.app_token,
            "SLACK_API_URL": self.fake.base_url,
        }

    async def connected(self, nth: int) -> None:
        await until(lambda: self.fake.socket_connections >= nth)

    async def mention(self, text: str) -> None:
        event = self.fake.mention("C1", "UANA", text)
        self.root = event["event"]["ts"]
        await self.fake.send_envelope(event)

    def texts(self) -> list[str]:
        return [m.text for m in self.fake.in_thread("C1", self.root)]

    def prompt(self) -> Any:
        return next((m for m in self.fake.in_thread("C1", self.root) if m.buttons), None)

    def remember_prompt(self, prompt: Any) -> None:
        self.old = prompt
        self.action = next(b["action_id"] for b in prompt.buttons if "approve" in b["action_id"])

    def prompt_expired(self) -> bool:
        return not self.old.buttons and "expired" in self.old.block_text.lower()

    async def click_old_prompt(self) -> None:
        await self.fake.send_envelope(self.fake.button_click("UANA", self.old, self.action))

    async def closed_cleanly(self) -> bool:
        return True


class Discord:
    """The loopback Discord fake seen by a `hearth run` through DISCORD_API_URL/GATEWAY_URL."""

    def __init__(self, fake: Any) -> None:
        from tests.fakes.discord import ALICE

        self.fake = fake
        self.user = f"discord:{ALICE['id']}"
        self.thread = ""

    def env(self) -> dict[str, str]:
        from tests.fakes.discord import TOKEN

        return {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_URL": f"{self.fake.url}/api/v10",
            "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{self.fake.port}/gw/",
        }

    async def connected(self, nth: int) -> None:
        await until(lambda: len(self.fake.identify) >= nth and self.fake.sessions)

    async def mention(self, text: str) -> None:
        from tests.fakes.discord import GENERAL_ID

        asked = await self.fake.user_message(GENERAL_ID, text)
        self.thread = asked.id  # the task's thread is started from the message

    def texts(self) -> list[str]:
        return [m.content for m in self.fake.messages_in(self.thread)]

    def prompt(self) -> Any:
        return next((m for m in self.fake.messages_in(self.thread) if m.has_buttons), None)

    def remember_prompt(self, prompt: Any) -> None:
        self.old = prompt
        self.custom = next(c for c in prompt.custom_ids() if "approve" in c)

    def prompt_expired(self) -> bool:
        return not self.old.has_buttons and "expired" in self.old.content.lower()

    async def click_old_prompt(self) -> None:
        await self.fake.click(self.old.id, self.custom)

    async def closed_cleanly(self) -> bool:
        await until(lambda: len(self.fake.close_codes) >= 2)
        return self.fake.close_codes[-1] == 1000  # 1006 would be an abnormal close


class Matrix:
    """A real Synapse seen by a `hearth run`; a person with an unmodified nio client."""

    def __init__(self, server: Any, bot: Any, human: Any, room: str) -> None:
        self.synapse = server
        self.bot = bot
        self.human = human
        self.room = room
        self.user = f"matrix:{human.user_id}"
        self.root = ""

    def env(self) -> dict[str, str]:
        return {
            "MATRIX_HOMESERVER": self.synapse.url,
            "MATRIX_USER_ID": self.bot.user_id,
            "MATRIX_ACCESS_TOKEN": self.bot.access_token,
        }

    async def connected(self, nth: int) -> None:
        if nth == 1:
            await self.human.wait_joined(self.room, self.bot.user_id)
        marker = await self.human.say(self.room, f"{self.bot.user_id} status")
        await self.human.wait_for(
            lambda e: (
                e.get("sender") == self.bot.user_id
                and e.get("content", {}).get("m.relates_to", {}).get("event_id") == marker
            )
        )

    async def mention(self, text: str) -> None:
        self.root = await self.human.say(self.room, f"{self.bot.user_id} {text}")

    def _events(self) -> list[dict[str, Any]]:
        return [
            e
            for e in self.human.timeline
            if e.get("sender") == self.bot.user_id
            and e.get("type") == "m.room.message"
            and e.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.thread"
            and e["content"]["m.relates_to"].get("event_id") == self.root
        ]

    def texts(self) -> list[str]:
        return [self.human.content_of(e["event_id"]).get("body", "") for e in self._events()]

    def prompt(self) -> Any:
        return next(
            (e for e in self._events() if COMMAND in e.get("content", {}).get("body", "")), None
        )

    def remember_prompt(self, prompt: Any) -> None:
        self.old = prompt

    def prompt_expired(self) -> bool:
        return "expired" in self.human.content_of(self.old["event_id"]).get("body", "").lower()

    async def click_old_prompt(self) -> None:
        await self.human.react(self.room, self.old["event_id"], "✅")

    async def closed_cleanly(self) -> bool:
        return True


@asynccontextmanager
async def platform(name: str, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if name == "slack":
        from tests.fakes.slack import FakeSlack

        async with FakeSlack() as fake:
            yield Slack(fake)
    elif name == "discord":
        from tests.fakes.discord import FakeDiscord

        fake = FakeDiscord()
        await fake.start()  # not redirected: the process finds it through its environment
        try:
            yield Discord(fake)
        finally:
            await fake.stop()
    else:
        from tests.adapters.matrix.conftest import Human

        synapse = request.getfixturevalue("synapse")
        bot = await synapse.aregister("hearth")
        human = Human(synapse, await synapse.aregister("ana"))
        await human.start()
        try:
            room = await human.create_room(invite=[bot.user_id])
            yield Matrix(synapse, bot, human, room)
        finally:
            await human.close()


from tests.adapters.matrix.conftest import synapse  # noqa: E402, F401  (the real Synapse)


@pytest.mark.parametrize("name", ["slack", "discord", "matrix"])
async def test_killed_then_restarted_then_stopped(
    name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async with FakeOllama() as ollama, platform(name, request) as side:
        _script(ollama)
        env = _env(tmp_path, ollama, side.user) | side.env()
        first = Hearth(tmp_path, env, "first")
        second = Hearth(tmp_path, env, "second")
        try:
            await first.start()
            await side.connected(1)
            await side.mention("delete the build directory")
            prompt = await until(side.prompt)
            side.remember_prompt(prompt)
            # hearth notes which message shows the prompt just after posting it; kill it after.
            await until(lambda: _prompt_stored(tmp_path / "data" / "hearth.db"))
            first.kill()  # a running task and a pending approval die with it
            await first.proc.wait()  # type: ignore[union-attr]

            await second.start()
            await side.connected(2)
            await until(
                lambda: any(
                    "hearth restarted while this task was running" in t for t in side.texts()
                )
            )
            await until(lambda: any("hearth restarted while approval" in t for t in side.texts()))
            await until(side.prompt_expired)
            await side.click_old_prompt()
            await until(lambda: any("expired when hearth restarted" in t for t in side.texts()))
            assert not any("approved by" in t.lower() for t in side.texts())

            await side.mention("think about it")
            await until(lambda: len(ollama.requests) >= 4)  # the second task is thinking
            code, took = await second.terminate()
            assert code == 0, second.logs()
            assert took < 5.0, (took, second.logs())
            assert await side.closed_cleanly()
            await until(lambda: any("hearth is shutting down" in t for t in side.texts()))
        except BaseException:
            print(first.logs()[-4000:], second.logs()[-4000:], sep="\n-----\n")
            raise
        finally:
            await first.stop()
            await second.stop()


async def test_the_terminal_chat_stops_on_sigterm_too(tmp_path: Path) -> None:
    async with FakeOllama() as ollama:
        ollama.queue_json({"subtasks": ["think for a long time"]})
        ollama.queue_hang()
        env = _env(tmp_path, ollama, "console:ana")
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HEARTH_", "SLACK_", "DISCORD_", "MATRIX_", "HEARTBEAT_"))
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "chat",
            env=base | {"PYTHONPATH": str(ROOT)} | env,
            cwd=tmp_path,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(b"think about it\n")
            await proc.stdin.drain()
            await until(lambda: len(ollama.requests) >= 2)  # the task is thinking
            began = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            out = await asyncio.wait_for(proc.stdout.read(), 20)
            code = await proc.wait()
            took = time.monotonic() - began
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert code == 0, out.decode(errors="replace")
    assert took < 5.0
    assert b"hearth is shutting down" in out


async def test_sigterm_with_every_platform_running(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async with (
        FakeOllama() as ollama,
        platform("slack", request) as slack,
        platform("discord", request) as discord,
        platform("matrix", request) as matrix,
    ):
        ollama.queue_json({"subtasks": ["think for a long time"]})
        ollama.queue_hang()
        sides = (slack, discord, matrix)
        env = _env(tmp_path, ollama, ",".join(side.user for side in sides))
        for side in sides:
            env |= side.env()
        hearth = Hearth(tmp_path, env, "all")
        try:
            await hearth.start()
            for side in sides:
                await side.connected(1)
            await slack.mention("think about it")
            await until(lambda: len(ollama.requests) >= 2)  # the task is thinking
            code, took = await hearth.terminate()
            assert code == 0, hearth.logs()
            assert took < 5.0, (took, hearth.logs())
            assert discord.fake.close_codes[-1:] == [1000]  # a proper close, not 1006
            assert any("hearth is shutting down" in t for t in slack.texts())
        finally:
            await hearth.stop()
