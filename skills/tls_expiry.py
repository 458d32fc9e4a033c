"""A TLS certificate's expiry for a host."""

from __future__ import annotations

import time

from core.skills.api import SkillResult, fail, tls_certificate

NAME = "tls_expiry"
DESCRIPTION = "When the TLS certificate of a host expires (days left, issuer, trust)."
PARAMS = {
    "type": "object",
    "properties": {
        "host": {
            "type": "string",
            "description": "host name, optionally host:port",
            "pattern": r"^(https://)?[\w-]+(\.[\w-]+)*(:\d+)?/?$",
        },
        "port": {"type": "integer", "default": 443},
        "warn_days": {"type": "integer", "default": 14},
    },
    "required": ["host"],
}
EXAMPLES = [
    "when does the certificate of {host} expire",
    "tls expiry {host}",
    "check the certificate of {host}",
    "ssl certificate expiry for {host}",
    "when does {host} cert expire",
]


def run(params: dict) -> SkillResult:
    host = str(params["host"]).strip("<>")
    host = host.split("://", 1)[-1].split("/", 1)[0]
    port = int(params.get("port", 443))
    if ":" in host:
        host, _, given = host.rpartition(":")
        port = int(given) if given.isdigit() else port
    warn = int(params.get("warn_days", 14))
    try:
        cert = tls_certificate(host, port)
    except (OSError, ValueError) as exc:
        return fail(f"❌ could not read the certificate of {host}:{port}: {exc}")
    days = cert["days_left"]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(cert["not_after"]))
    if days < 0:
        mark, state = "❌", f"EXPIRED {-days:.0f} days ago ({when})"
    elif days < warn:
        mark, state = "⚠️", f"expires in {days:.0f} days ({when})"
    else:
        mark, state = "✅", f"expires in {days:.0f} days ({when})"
    trust = "trusted" if cert["verified"] else "NOT trusted by the system store"
    text = (
        f"{mark} {host}:{port} certificate for {cert['subject']} {state}; "
        f"issued by {cert['issuer']}, {trust}."
    )
    return SkillResult(text, days >= 0)
