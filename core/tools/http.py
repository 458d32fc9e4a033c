"""The http_request tool: judged per hop, pinned to the judged addresses, capped, clear errors.

Its risk function (``risk``) resolves the host once and judges method and addresses
(core.tools.netrisk); the request then connects to exactly the addresses judged, so a name
cannot resolve elsewhere between the check and the request. Redirects are followed by hand:
every hop is judged again and must be low risk, and a redirect is never followed for a method
other than GET or HEAD (a 307 would replay a POST to the new URL).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

from core.errors import ToolError
from core.tools.netrisk import SAFE_METHODS, Resolver, judge, port_of, system_resolve
from core.tools.registry import ToolOutput
from core.tools.risk.verdict import LOW, Risk

if TYPE_CHECKING:  # imported on the first request: the process starts without it
    import httpx

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
DEFAULT_MAX_BYTES = 200_000
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SHOWN_HEADERS = ("content-type", "content-length", "location", "retry-after")
_PINS = 256


class HttpTool:
    """``http_request`` with its risk function; ``transport``/``resolve`` let tests stay local."""

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        resolve: Resolver = system_resolve,
        user_agent: str = "hearth/0.1",
    ) -> None:
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._transport = transport
        self._resolve = resolve
        self._user_agent = user_agent
        self._pins: OrderedDict[tuple[str, int], tuple[str, ...]] = OrderedDict()

    async def risk(self, args: Mapping[str, Any]) -> Risk:
        """The risk of one call; pins the addresses it judged for the request itself."""
        verb = str(args.get("method") or "GET").upper().strip()
        parts = urlsplit(str(args.get("url", "")).strip())
        if verb not in METHODS or parts.scheme not in {"http", "https"} or not parts.hostname:
            return LOW  # the tool refuses it with a clear error; nothing is sent
        destination = await judge(verb, parts, self._resolve)
        key = (destination.host, destination.port)
        self._pins[key] = destination.addresses
        self._pins.move_to_end(key)
        while len(self._pins) > _PINS:
            self._pins.popitem(last=False)
        return destination.risk

    @staticmethod
    def describe(args: Mapping[str, Any]) -> str:
        """What an approver sees: method, URL, header names and the whole body."""
        verb = str(args.get("method") or "GET").upper().strip()
        lines = [f"{verb} {str(args.get('url', '')).strip()}"]
        headers = args.get("headers") or {}
        if headers:
            lines.append("Headers: " + ", ".join(sorted(str(h) for h in headers)))
        body = args.get("body")
        if body:
            lines += ["Body:", str(body)]
        return "\n".join(lines)

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
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ToolError(f"refused: {url!r} is not an http:// or https:// URL with a host")
        import httpx

        try:
            async with httpx.AsyncClient(
                timeout=self._timeout,
                transport=self._transport,
                follow_redirects=False,  # by hand below: every hop is judged again
                headers={"User-Agent": self._user_agent},
                trust_env=False,  # proxies/credentials of the bot's environment stay out
            ) as client:
                async with asyncio.timeout(self._timeout * 2):
                    return await self._hops(client, verb, url, headers, body)
        except (httpx.TimeoutException, TimeoutError):
            raise ToolError(f"{verb} {url} timed out after {self._timeout:g}s") from None
        except httpx.ConnectError as exc:
            raise ToolError(f"could not connect to {parts.hostname}: {exc}") from None
        except httpx.HTTPError as exc:
            raise ToolError(f"{verb} {url} failed: {type(exc).__name__}: {exc}") from None

    async def _hops(
        self,
        client: httpx.AsyncClient,
        verb: str,
        url: str,
        headers: dict[str, str] | None,
        body: str | None,
    ) -> ToolOutput:
        notes: list[str] = []
        for hop in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            addresses = (
                self._pins.get((parts.hostname or "", port_of(parts))) if hop == 0 else None
            )
            if addresses is None:
                destination = await judge(verb, parts, self._resolve)
                # The first hop was approved (or judged low) before this call; a redirect
                # target was not, so it must be low on its own.
                refused = destination.risk.blocked or (hop > 0 and destination.risk.level != "low")
                if refused:
                    why = "; ".join(destination.risk.reasons)
                    if hop == 0:
                        raise ToolError(f"refused: {verb} {url} ({why})")
                    return ToolOutput(
                        "\n".join(
                            [
                                *notes,
                                f"Redirected to {url}, which was not followed: {why}.",
                                "To go there, call http_request with that URL; it will be "
                                "judged (and asked for approval if needed) on its own.",
                            ]
                        ),
                        is_error=True,
                    )
                addresses = destination.addresses
            response, data, truncated = await self._send(
                client, verb, parts, addresses, headers, body
            )
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return self._output(response, data, truncated, notes)
            target = urljoin(url, location)
            if verb not in SAFE_METHODS:
                notes.append(
                    f"(redirect to {target} not followed: a {verb} is never sent again to "
                    "another URL)"
                )
                return self._output(response, data, truncated, notes)
            notes.append(f"(redirected: HTTP {response.status_code} to {target})")
            if urlsplit(target).netloc != parts.netloc:
                headers = None  # the caller's headers (tokens) stay with the host they were for
            url = target
        raise ToolError(f"{verb}: more than {MAX_REDIRECTS} redirects")

    async def _send(
        self,
        client: httpx.AsyncClient,
        verb: str,
        parts: SplitResult,
        addresses: tuple[str, ...],
        headers: dict[str, str] | None,
        body: str | None,
    ) -> tuple[httpx.Response, bytearray, bool]:
        """Send to the first address that connects; the Host header and TLS name stay."""
        import httpx

        last: httpx.ConnectError | None = None
        for address in addresses or (parts.hostname or "",):
            literal = f"[{address}]" if ":" in address else address
            netloc = f"{literal}:{port_of(parts)}"
            pinned = urlunsplit(parts._replace(netloc=netloc))
            sent_headers = {"Host": parts.netloc.rpartition("@")[2], **(headers or {})}
            request = client.build_request(
                verb,
                pinned,
                headers=sent_headers,
                content=body.encode() if body else None,
                extensions={"sni_hostname": parts.hostname or ""},
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.ConnectError as exc:
                last = exc
                continue
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
            return response, data, truncated
        assert last is not None
        raise last

    def _output(
        self, response: httpx.Response, data: bytearray, truncated: bool, notes: list[str]
    ) -> ToolOutput:
        lines = [*notes, f"HTTP {response.status_code} {response.reason_phrase}".rstrip()]
        lines += [f"{h}: {response.headers[h]}" for h in _SHOWN_HEADERS if h in response.headers]
        if b"\x00" in data[:1024]:
            kind = response.headers.get("content-type", "unknown type")
            text = f"[binary body ({kind}), {len(data)} bytes read, not shown]"
        else:
            text = data.decode(response.encoding or "utf-8", errors="replace")
        if truncated:
            text += f"\n[truncated: only the first {self._max_bytes} bytes were read]"
        return ToolOutput("\n".join(lines) + "\n\n" + text, is_error=response.status_code >= 400)
