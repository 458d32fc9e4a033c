"""The code-skill contract: what a skill module defines and what ``run`` returns.

A code skill is one Python module with these top-level names, all plain literals except ``run``::

    NAME = "disk_usage"                       # lowercase letters, digits, _ or -
    DESCRIPTION = "Disk usage by mount point"  # one line, shown in lists and to the executor
    PARAMS = {"type": "object", "properties": {...}, "required": [...]}  # JSON schema
    EXAMPLES = ["how full is the disk", "disk usage of {path}"]  # requests it answers
    def run(params: dict) -> SkillResult: ...

``EXAMPLES`` use ``{param}`` placeholders where a parameter's value sits in a request. Skill
modules import only the standard library, httpx, psutil and this module.
"""

from __future__ import annotations

import re
import time

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_TEXT = 8000  # characters of a skill's answer kept


class SkillResult:
    """What a skill answers: the text shown in chat, and whether it did its job."""

    # A plain class, not a dataclass: every skill run imports this module in a fresh child,
    # and dataclasses and typing are a fifth of that child's start-up time.
    __slots__ = ("ok", "text")

    def __init__(self, text: str, ok: bool = True) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "ok", ok)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SkillResult is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SkillResult) and (self.text, self.ok) == (other.text, other.ok)

    def __hash__(self) -> int:
        return hash((self.text, self.ok))

    def __repr__(self) -> str:
        return f"SkillResult(text={self.text!r}, ok={self.ok!r})"


def ok(text: str) -> SkillResult:
    """A successful result."""
    return SkillResult(text, True)


def fail(text: str) -> SkillResult:
    """A failed result (the skill ran, but could not do its job)."""
    return SkillResult(text, False)


def table(rows: list[list[object]], header: list[str]) -> str:
    """A plain monospace table in a code fence (readable on every platform)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "```\n" + "\n".join(lines) + "\n```"


def human_bytes(n: float) -> str:
    """1536 → '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def tls_certificate(host: str, port: int = 443, timeout: float = 10.0) -> dict[str, object]:
    """The certificate a TLS server presents: subject, issuer, not_after (epoch), days_left.

    The certificate is read even when it does not verify (self-signed, expired), so its
    expiry can still be reported; ``verified`` says whether the default trust store accepted it.
    """
    import ssl  # here, not at the top: every skill run imports this module, few need TLS
    import tempfile

    verified = True
    try:
        der = _peer_der(ssl.create_default_context(), host, port, timeout)
    except ssl.SSLCertVerificationError:
        verified = False
        der = _peer_der(ssl._create_unverified_context(), host, port, timeout)
    if not der:
        raise ValueError(f"{host}:{port} presented no certificate")
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as pem:
        pem.write(ssl.DER_cert_to_PEM_cert(der))
        pem.flush()
        # The stdlib decodes a certificate only from a file, through this helper.
        info = ssl._ssl._test_decode_cert(pem.name)  # type: ignore[attr-defined]
    not_after = ssl.cert_time_to_seconds(info["notAfter"])

    def _name(parts: object) -> str:
        flat = dict(item for rdn in parts for item in rdn)
        return str(flat.get("commonName") or flat.get("organizationName") or "?")

    return {
        "subject": _name(info.get("subject", ())),
        "issuer": _name(info.get("issuer", ())),
        "not_after": not_after,
        "days_left": (not_after - time.time()) / 86400,
        "verified": verified,
    }


def _peer_der(context: object, host: str, port: int, timeout: float) -> bytes | None:
    import socket

    with (
        socket.create_connection((host, port), timeout=timeout) as sock,
        context.wrap_socket(sock, server_hostname=host) as tls,
    ):
        return tls.getpeercert(binary_form=True)
