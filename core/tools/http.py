"""The http_request tool: httpx with a timeout, a response size cap and clear errors."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx

from core.errors import ToolError
from core.tools.registry import ToolOutput

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_MAX_BYTES = 200_000
_SHOWN_HEADERS = ("content-type", "content-length", "location", "retry-after")


class HttpTool:
    """``http_request`` with one shared client; ``transport`` lets tests stay in-process."""

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = "hearth/0.1",
    ) -> None:
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._transport = transport
        self._user_agent = user_agent

    async def http_request(
        self,
        url: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> ToolOutput:
        """Make an HTTP request and return the status, main headers and (capped) body.

        Args:
            url: full http:// or https:// URL.
            method: GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS.
            headers: extra request headers.
            body: request body text (for POST/PUT/PATCH).
        """
        verb = method.upper().strip()
        if verb not in METHODS:
            raise ToolError(
                f"unsupported method {method!r}; use one of {', '.join(sorted(METHODS))}"
            )
        parts = urlsplit(url.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ToolError(f"refused: {url!r} is not an http:// or https:// URL with a host")
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout,
                transport=self._transport,
                follow_redirects=True,
                max_redirects=5,
                headers={"User-Agent": self._user_agent},
                trust_env=False,  # proxies/credentials of the bot's environment stay out
            ) as client:
                async with asyncio.timeout(self._timeout * 2):
                    return await self._send(client, verb, url.strip(), headers, body)
        except (httpx.TimeoutException, TimeoutError):
            raise ToolError(f"{verb} {url} timed out after {self._timeout:g}s") from None
        except httpx.ConnectError as exc:
            raise ToolError(f"could not connect to {parts.hostname}: {exc}") from None
        except httpx.TooManyRedirects:
            raise ToolError(f"{verb} {url}: too many redirects") from None
        except httpx.HTTPError as exc:
            raise ToolError(f"{verb} {url} failed: {type(exc).__name__}: {exc}") from None

    async def _send(
        self,
        client: httpx.AsyncClient,
        verb: str,
        url: str,
        headers: dict[str, str] | None,
        body: str | None,
    ) -> ToolOutput:
        request = client.build_request(
            verb, url, headers=headers or None, content=body.encode() if body else None
        )
        response = await client.send(request, stream=True)
        try:
            data = bytearray()
            truncated = False
            async for chunk in response.aiter_bytes():
                room = self._max_bytes - len(data)
                data += chunk[:room]
                if len(chunk) > room:
                    truncated = True  # stop reading: the rest is never downloaded
                    break
        finally:
            await response.aclose()
        lines = [f"HTTP {response.status_code} {response.reason_phrase}".rstrip()]
        lines += [f"{h}: {response.headers[h]}" for h in _SHOWN_HEADERS if h in response.headers]
        if b"\x00" in data[:1024]:
            kind = response.headers.get("content-type", "unknown type")
            text = f"[binary body ({kind}), {len(data)} bytes read, not shown]"
        else:
            text = data.decode(response.encoding or "utf-8", errors="replace")
        if truncated:
            text += f"\n[truncated: only the first {self._max_bytes} bytes were read]"
        return ToolOutput("\n".join(lines) + "\n\n" + text, is_error=response.status_code >= 400)
