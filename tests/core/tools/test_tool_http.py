"""http_request against a loopback aiohttp server: caps, timeouts, clear errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from core.errors import ToolError
from core.tools.http import HttpTool


@pytest.fixture
async def server() -> AsyncIterator[str]:
    sent = {"bytes": 0}

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello world", headers={"X-Secret-Header": "nope"})

    async def echo(request: web.Request) -> web.Response:
        body = await request.text()
        return web.Response(text=f"{request.method} {body} {request.headers.get('X-Test')}")

    async def huge(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        try:
            for _ in range(2000):  # up to 128 MB if nobody stops reading
                await resp.write(b"x" * 65536)
                sent["bytes"] += 65536
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def blob(request: web.Request) -> web.Response:
        return web.Response(body=b"\x00\x01" * 2048, content_type="application/octet-stream")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="no such thing")

    app = web.Application()
    app.add_routes(
        [
            web.get("/hello", hello),
            web.route("*", "/echo", echo),
            web.get("/huge", huge),
            web.get("/slow", slow),
            web.get("/missing", missing),
            web.get("/blob", blob),
        ]
    )
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_get(server: str) -> None:
    out = await HttpTool().http_request(f"{server}/hello")
    assert out.text.startswith("HTTP 200 OK")
    assert "content-type: text/plain" in out.text
    assert out.text.endswith("hello world")
    assert "X-Secret-Header" not in out.text
    assert not out.is_error


async def test_post_with_headers_and_body(server: str) -> None:
    out = await HttpTool().http_request(
        f"{server}/echo", method="post", headers={"X-Test": "yes"}, body="payload"
    )
    assert out.text.endswith("POST payload yes")


async def test_response_is_capped_and_not_downloaded_further(server: str) -> None:
    out = await HttpTool(max_bytes=100_000).http_request(f"{server}/huge")
    body = out.text.split("\n\n", 1)[1]
    assert body.startswith("x" * 1000)
    assert "[truncated: only the first 100000 bytes were read]" in body
    assert body.count("x") == 100_000


async def test_timeout_is_a_clear_error(server: str) -> None:
    with pytest.raises(ToolError, match=r"timed out after 0\.3s"):
        await HttpTool(timeout=0.3).http_request(f"{server}/slow")


async def test_refused_connection_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(ToolError, match=r"could not connect to 127\.0\.0\.1"):
            await HttpTool(timeout=2).http_request(f"http://127.0.0.1:{port}/")


async def test_http_error_status_is_an_error_result(server: str) -> None:
    out = await HttpTool().http_request(f"{server}/missing")
    assert out.is_error and out.text.startswith("HTTP 404")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x", "http://", "/relative"]
)
async def test_only_http_and_https(url: str) -> None:
    with pytest.raises(ToolError, match="not an http"):
        await HttpTool().http_request(url)


async def test_unknown_method(server: str) -> None:
    with pytest.raises(ToolError, match="unsupported method 'TRACE'"):
        await HttpTool().http_request(f"{server}/hello", method="TRACE")


async def test_binary_body_is_not_dumped(server: str) -> None:
    out = await HttpTool().http_request(f"{server}/blob")
    assert out.text.endswith(
        "[binary body (application/octet-stream), 4096 bytes read, not shown]"
    )
    assert "\x00" not in out.text
