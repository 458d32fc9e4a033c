"""http_request against a loopback aiohttp server: caps, timeouts, clear errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
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


# ---- risk, pinning and redirects -----------------------------------------------------------

PUBLIC = "93.184.216.34"


def resolver(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    ("method", "url", "table", "level", "reason"),
    [
        ("GET", "http://public.test/x", {"public.test": [PUBLIC]}, "low", ""),
        ("HEAD", "https://public.test/x", {"public.test": [PUBLIC]}, "low", ""),
        ("POST", "http://public.test/x", {"public.test": [PUBLIC]}, "high", "sends a POST"),
        ("DELETE", "http://public.test/x", {"public.test": [PUBLIC]}, "high", "sends a DELETE"),
        ("OPTIONS", "http://public.test/x", {"public.test": [PUBLIC]}, "high", "OPTIONS"),
        ("GET", "http://127.0.0.1:11434/api/tags", {}, "high", "loopback"),
        ("GET", "http://[::1]/", {}, "high", "loopback"),
        ("GET", "http://10.1.2.3/", {}, "high", "private"),
        ("GET", "http://192.168.1.1/", {}, "high", "private"),
        ("GET", "http://169.254.1.1/", {}, "high", "link-local"),
        ("GET", "http://intranet.test/", {"intranet.test": ["10.0.0.5"]}, "high", "resolves to"),
        ("GET", "http://sneaky.test/", {"sneaky.test": [PUBLIC, "127.0.0.1"]}, "high", "loopback"),
        ("GET", "http://169.254.169.254/latest/meta-data/", {}, "blocked", "metadata"),
        ("GET", "http://[fd00:ec2::254]/", {}, "blocked", "metadata"),
        ("GET", "http://meta.test/", {"meta.test": ["169.254.169.254"]}, "blocked", "metadata"),
        ("GET", "http://[::ffff:169.254.169.254]/", {}, "blocked", "metadata"),
        ("GET", "http://nowhere.test/", {}, "high", "could not be resolved"),
    ],
)
async def test_risk_of_a_request(method, url, table, level, reason) -> None:
    risk = await HttpTool(resolve=resolver(table)).risk({"url": url, "method": method})
    assert risk.level == level, risk
    assert reason in "; ".join(risk.reasons)


def test_approver_sees_method_url_header_names_and_the_whole_body() -> None:
    body = '{"name": "llama3"}\n' + "x" * 900
    shown = HttpTool.describe(
        {
            "url": "http://127.0.0.1:11434/api/delete",
            "method": "delete",
            "headers": {"Authorization": "Bearer abc", "X-Trace": "1"},
            "body": body,
        }
    )
    assert shown.startswith("DELETE http://127.0.0.1:11434/api/delete\n")
    assert "Headers: Authorization, X-Trace" in shown and "Bearer abc" not in shown
    assert shown.endswith(body)


class Hits:
    """A loopback server that only counts what reaches it."""

    def __init__(self) -> None:
        self.requests: list[str] = []


@pytest.fixture
async def loopback() -> AsyncIterator[tuple[str, Hits]]:
    hits = Hits()

    async def anything(request: web.Request) -> web.Response:
        hits.requests.append(f"{request.method} {request.path}")
        return web.Response(text="reached")

    app = web.Application()
    app.add_routes([web.route("*", "/{tail:.*}", anything)])
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", hits
    finally:
        await runner.cleanup()


def public_site(
    redirect_to: str, status: int, seen: list[httpx.Request]
) -> httpx.AsyncBaseTransport:
    """public.test answers with a redirect; anything else goes to the real network stack."""
    real = httpx.AsyncHTTPTransport()

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.headers.get("host") == "public.test":
            seen.append(request)
            return httpx.Response(status, headers={"Location": redirect_to})
        return await real.handle_async_request(request)

    return httpx.MockTransport(handle)


async def test_a_redirect_to_loopback_is_judged_again_and_not_followed(loopback) -> None:
    base, hits = loopback
    seen: list[httpx.Request] = []
    tool = HttpTool(
        transport=public_site(f"{base}/admin", 307, seen),
        resolve=resolver({"public.test": [PUBLIC]}),
    )
    args = {"url": "http://public.test/start", "method": "GET"}
    assert (await tool.risk(args)).level == "low"
    out = await tool.http_request(**args)
    assert out.is_error and "not followed" in out.text and "loopback" in out.text
    assert hits.requests == []  # nothing reached the loopback service
    assert [r.url.host for r in seen] == [PUBLIC]  # connected to the judged address


async def test_a_redirected_post_is_never_replayed(loopback) -> None:
    base, hits = loopback
    seen: list[httpx.Request] = []
    tool = HttpTool(
        transport=public_site(f"{base}/admin", 307, seen),
        resolve=resolver({"public.test": [PUBLIC]}),
    )
    out = await tool.http_request("http://public.test/form", method="POST", body="a=1")
    assert "never sent again" in out.text
    assert hits.requests == [] and len(seen) == 1


async def test_the_request_goes_to_the_address_that_was_judged() -> None:
    """A name that resolves elsewhere after the check still goes to the judged address."""
    table = {"public.test": [PUBLIC]}
    seen: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    tool = HttpTool(transport=httpx.MockTransport(handle), resolve=resolver(table))
    assert (await tool.risk({"url": "http://public.test/x"})).level == "low"
    table["public.test"] = ["127.0.0.1"]  # rebinding after the check
    await tool.http_request("http://public.test/x")
    assert seen[0].url.host == PUBLIC and seen[0].headers["host"] == "public.test"


async def test_a_metadata_address_is_refused_even_when_called_directly() -> None:
    with pytest.raises(ToolError, match="metadata"):
        await HttpTool().http_request("http://169.254.169.254/latest/meta-data/")
