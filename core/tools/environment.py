"""The environment of tool subprocesses: the parent's, minus anything that looks secret."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# Names that carry credentials by convention, whatever their value.
_SECRET_NAME = re.compile(
    r"(_TOKEN|_KEY|_SECRET|_PASSWORD|_PASS|_PASSWD|_CREDENTIALS?|_PRIVATE)$|API_?KEY|"
    r"^(TOKEN|SECRET|PASSWORD|PASSWD)$|ACCESS_KEY|_AUTH$|^AUTH_|COOKIE",
    re.IGNORECASE,
)
# Without a parent environment: enough for ordinary commands, nothing else.
MINIMAL_ENV: Mapping[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}
# Short values would match by accident and redact everything; real secrets are longer.
MIN_SECRET_LEN = 6


def is_secret_name(name: str) -> bool:
    """True for variable names that conventionally hold credentials."""
    return bool(_SECRET_NAME.search(name))


def scrubbed_env(
    base: Mapping[str, str] | None,
    secrets: Iterable[str],
    *,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``base`` (or, when empty, a minimal one) without secret-named variables or values.

    A variable is dropped when its name looks like a credential or when its value equals or
    contains any of ``secrets`` (so ``FOO=<token>`` under an innocent name is dropped too).
    """
    values = [s for s in secrets if s and len(s) >= MIN_SECRET_LEN]
    env: dict[str, str] = {}
    for name, value in (base or MINIMAL_ENV).items():
        if is_secret_name(name) or any(s in value for s in values):
            continue
        env[name] = value
    env.setdefault("PATH", MINIMAL_ENV["PATH"])
    if extra:
        env.update(extra)
    return env
