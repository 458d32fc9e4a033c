"""An HTTP endpoint check: status, latency, TLS expiry."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx

from core.skills.api import SkillResult, fail, tls_certificate

NAME = "http_check"
DESCRIPTION = "Check an HTTP(S) endpoint: status code, latency, and TLS certificate expiry."
PARAMS = {
    "type": "object",
    "properties": {
        "url": {
            "type": "string",
            "description": "e.g. https://example.org/health",
            "pattern": r"^(https?://\S+|[\w-]+(\.[\w-]+)+(:\d+)?(/\S*)?)$",
        },
        "expect_status": {"type": "integer", "default": 200},
        "timeout": {"type": "number", "default": 10},
    },
    "required": ["url"],
}
EXAMPLES = [
    "check {url}",
    "is {url} up",
    "is {url} reachable",
    "check the endpoint {url}",
    "http check {url}",
    "ping {url}",
]


def run(params: dict) -> SkillResult:
    url = str(params["url"]).strip("<>")
    if "://" not in url:
        url = "https://" + url
    expect = int(params.get("expect_status", 200))
    timeout = float(params.get("timeout", 10))
    started = time.monotonic()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, verify=True) as client:
            resp = client.get(url)
    except httpx.HTTPError as exc:
        took = (time.monotonic() - started) * 1000
        return fail(f"❌ {url} did not answer after {took:.0f} ms: {type(exc).__name__}: {exc}")
    took = (time.monotonic() - started) * 1000
    good = resp.status_code == expect
    lines = [
        f"{'✅' if good else '❌'} {url} → HTTP {resp.status_code} {resp.reason_phrase} "
        f"in {took:.0f} ms" + ("" if good else f" (expected {expect})"),
    ]
    if resp.history:
        lines.append(f"redirected to {resp.url}")
    parts = urlsplit(str(resp.url))
    if parts.scheme == "https" and parts.hostname:
        try:
            cert = tls_certificate(parts.hostname, parts.port or 443, timeout)
            lines.append(
                f"TLS certificate for {cert['subject']} expires in {cert['days_left']:.0f} days"
            )
        except (OSError, ValueError) as exc:
            lines.append(f"TLS certificate could not be read: {exc}")
    return SkillResult("\n".join(lines), good)
