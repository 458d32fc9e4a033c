"""Where an HTTP request goes and what it does: the risk of ``http_request``, judged per hop.

GET and HEAD to a public address are low. Any other method is high (it can change or delete
data). Loopback, private and link-local addresses, or names that resolve to them, are high:
services on this machine or network (Ollama's ``DELETE /api/delete``) trust their neighbours.
Cloud metadata addresses are refused outright: they hand out the machine's credentials.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import SplitResult

from core.tools.risk.verdict import Risk, Verdict

SAFE_METHODS = frozenset({"GET", "HEAD"})
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
RESOLVE_TIMEOUT = 5.0

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, through the system resolver."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def address_problem(address: str) -> tuple[str, str] | None:
    """(level, reason) when ``address`` is not a plain public one, else None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        return "blocked", f"a cloud metadata address ({ip}), which hands out credentials"
    if ip.is_loopback:
        return "high", f"a loopback address ({ip}): a service on this machine"
    if ip.is_link_local:
        return "high", f"a link-local address ({ip})"
    if not ip.is_global:
        return "high", f"a private or reserved network address ({ip})"
    return None


@dataclass(frozen=True, slots=True)
class Destination:
    """A URL's host and port, the addresses they were judged at, and the verdict."""

    host: str
    port: int
    addresses: tuple[str, ...]
    risk: Risk


def port_of(parts: SplitResult) -> int:
    """The URL's port, or the scheme's default."""
    return parts.port or (443 if parts.scheme == "https" else 80)


async def judge(method: str, parts: SplitResult, resolve: Resolver) -> Destination:
    """Judge one request: its method and every address its host resolves to."""
    verdict = Verdict()
    verb = method.upper().strip()
    if verb not in SAFE_METHODS:
        verdict.flag("high", f"sends a {verb} request, which can change or delete data")
    host = parts.hostname or ""
    port = port_of(parts)
    addresses: tuple[str, ...] = ()
    try:
        addresses = (str(ipaddress.ip_address(host)),)
    except ValueError:
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                addresses = tuple(await resolve(host, port))
        except (OSError, TimeoutError, UnicodeError):
            verdict.flag("high", f"{host} could not be resolved, so its address is unknown")
    if not addresses and verdict.level == "low":
        verdict.flag("high", f"{host} resolves to no address")
    for address in addresses:
        problem = address_problem(address)
        if problem is not None:
            level, reason = problem
            where = "the destination is" if host in addresses else f"{host} resolves to"
            verdict.flag(level, f"{where} {reason}")
    return Destination(host, port, addresses, verdict.result())
