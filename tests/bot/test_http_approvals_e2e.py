"""http_request through the whole wiring with the loopback Slack: writes and private hosts ask.

Effects are asserted on the loopback service itself: what reached it, and when.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.app import App
from bot.config import Settings
from bot.wiring import build_app
from tests.fakes.ollama import FakeOllama
from tests.fakes.slack import FakeSlack, SlackMessage

CHANNEL = "C0DEV"
PUBLIC = "93.184.216.34"


async def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@pytest.fixture
async def service() -> AsyncIterator[tuple[str, list[str]]]:
    """A loopback service (think Ollama's DELETE /api/delete) that records what reaches it."""
    received: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        received.append(f"{request.method} {request.path} {await request.text()}".rstrip())
        return web.Response(text="done")

    app = web.Application()
    app.add_routes([web.route("*", "/{tail:.*}", anything)])
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


@asynccontextmanager
async def running(
    tmp_path: Path, **build: Any
) -> AsyncIterator[tuple[FakeSlack, FakeOllama, App]]:
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
            }
        )
        (tmp_path / "ws").mkdir()
        app = build_app(settings, console=False, **build)
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


async def _ask(slack: FakeSlack, ollama: FakeOllama, call: dict[str, Any]) -> str:
    ollama.queue_json({"subtasks": ["call the service"]})
    ollama.queue_tool_calls([("http_request", call)])
    ollama.queue_text("Finished with the service.\nCONFIDENCE: 0.9")
    event = slack.mention(CHANNEL, "UANA", "tidy the model server")
    await slack.send_envelope(event)
    return event["event"]["ts"]


def _button(prompt: SlackMessage, decision: str) -> str:
    return next(b["action_id"] for b in prompt.buttons if b["action_id"].endswith(decision))


async def test_a_delete_to_loopback_asks_and_sends_nothing_until_approved(
    tmp_path: Path, service
) -> None:
    base, received = service
    async with running(tmp_path) as (slack, ollama, _):
        call = {"url": f"{base}/api/delete", "method": "DELETE", "body": '{"name": "llama3"}'}
        root = await _ask(slack, ollama, call)
        await until(lambda: any(m.buttons for m in _thread(slack, root)))
        prompt = next(m for m in _thread(slack, root) if m.buttons)
        shown = prompt.block_text
        assert f"DELETE {base}/api/delete" in shown and '{"name": "llama3"}' in shown
        assert "sends a DELETE" in shown and "loopback" in shown
        assert received == []  # nothing is sent before a human decides
        await slack.send_envelope(slack.button_click("UBOSS", prompt, _button(prompt, "approve")))
        await until(lambda: received)
        await until(lambda: any("Finished with" in m.text for m in _thread(slack, root)))
    assert received == ['DELETE /api/delete {"name": "llama3"}']


async def test_a_rejected_delete_sends_nothing_at_all(tmp_path: Path, service) -> None:
    base, received = service
    async with running(tmp_path) as (slack, ollama, _):
        root = await _ask(slack, ollama, {"url": f"{base}/api/delete", "method": "DELETE"})
        await until(lambda: any(m.buttons for m in _thread(slack, root)))
        prompt = next(m for m in _thread(slack, root) if m.buttons)
        await slack.send_envelope(slack.button_click("UBOSS", prompt, _button(prompt, "deny")))
        # The task ends only after the tool result came back: a positive signal that the
        # denied call was handled, after which nothing may have reached the service.
        await until(lambda: any("Finished with" in m.text for m in _thread(slack, root)))
        await until(lambda: not slack.messages[prompt.ts].buttons)
    assert received == []
    assert "Rejected by" in slack.messages[prompt.ts].text


async def test_a_307_to_loopback_after_a_public_get_is_judged_again(
    tmp_path: Path, service
) -> None:
    base, received = service
    public_hits: list[httpx.Request] = []
    real = httpx.AsyncHTTPTransport()

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.headers.get("host") == "public.test":
            public_hits.append(request)
            return httpx.Response(307, headers={"Location": f"{base}/api/delete"})
        return await real.handle_async_request(request)  # a wrongly followed hop lands here

    async def resolve(host: str, port: int) -> list[str]:
        return [PUBLIC] if host == "public.test" else []

    async with running(tmp_path, http_transport=httpx.MockTransport(handle), resolve=resolve) as (
        slack,
        ollama,
        _,
    ):
        root = await _ask(slack, ollama, {"url": "http://public.test/start"})
        await until(lambda: any("Finished with" in m.text for m in _thread(slack, root)))
        prompts = [m for m in _thread(slack, root) if m.buttons]
    assert len(public_hits) == 1  # the public GET ran without asking
    assert received == [] and prompts == []  # the loopback hop was judged, not followed
    # The executor's next call carries the tool result (later calls, e.g. the task's memory
    # note, may follow it).
    tool_result = next(
        m["content"] for r in ollama.requests for m in r["messages"] if m["role"] == "tool"
    )
    assert "not followed" in tool_result and "loopback" in tool_result


async def test_a_body_too_long_to_show_is_refused_without_a_prompt(
    tmp_path: Path, service
) -> None:
    """An approver must read every character: a write whose body is over the cap is refused
    before any prompt is posted, and nothing reaches the service."""
    base, received = service
    body = '{"name": "' + "x" * 2000 + '"}'
    async with running(tmp_path) as (slack, ollama, _):
        call = {"url": f"{base}/api/pull", "method": "POST", "body": body}
        root = await _ask(slack, ollama, call)

        def prompted_or_done() -> bool:
            thread = _thread(slack, root)
            return any(m.buttons for m in thread) or any(
                m.text.startswith("⚠️ Done") for m in slack.messages.values()
            )

        await until(prompted_or_done)
        assert not any(m.buttons for m in _thread(slack, root)), "a prompt was posted"
        await until(lambda: any("Finished with" in m.text for m in _thread(slack, root)))
        card = next(m for m in slack.messages.values() if m.text.startswith("⚠️ Done"))
    assert received == []  # nothing was sent
    # No prompt was ever posted: Slack never saw the URL, let alone part of the body.
    assert not any("/api/pull" in str(c.params) for c in slack.calls)
    assert "1 command was not approved" in card.text
    tool_result = next(
        m["content"] for r in ollama.requests for m in r["messages"] if m["role"] == "tool"
    )
    assert tool_result.startswith("Not run:") and "too long to show an approver" in tool_result
