"""EnvReader: typed access to the environment's strings; every error names the variable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from core.errors import ConfigError

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
PLATFORMS = {"slack", "discord", "matrix", "console"}


class EnvReader:
    """Typed access to a string mapping; every error names the variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def optional(self, name: str) -> str | None:
        value = self._env.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def str(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def _parse(self, name: str, default: T, parse: Callable[[str], T], expected: str) -> T:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except (ValueError, TypeError):
            raise ConfigError(f"{name}={raw!r} is invalid: expected {expected}") from None

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        value = self._parse(name, default, int, "a whole number")
        self._check_min(name, value, minimum)
        return value

    def float(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        value = self._parse(name, default, float, "a number")
        self._check_min(name, value, minimum)
        if maximum is not None and value > maximum:
            raise ConfigError(f"{name}={value} is invalid: expected at most {maximum}")
        return value

    def optional_float(self, name: str) -> float | None:
        value = self._parse(name, None, float, "a number of US dollars, e.g. 5 or 0.50")
        if value is not None and value < 0:
            raise ConfigError(f"{name}={value} is invalid: expected a number >= 0")
        return value

    @staticmethod
    def _check_min(name: str, value: Any, minimum: Any) -> None:
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name}={value} is invalid: expected at least {minimum}")

    def bool(self, name: str, default: bool) -> bool:
        raw = self.optional(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ConfigError(f"{name}={raw!r} is invalid: expected true or false")

    def choice(self, name: str, default: str, options: set[str], *, upper: bool = False) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        value = raw.upper() if upper else raw.lower()
        if value not in options:
            raise ConfigError(
                f"{name}={raw!r} is invalid: expected one of {', '.join(sorted(options))}"
            )
        return value

    def url(self, name: str, default: str) -> str:
        return self.optional_url(name) or default

    def optional_url(self, name: str) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        if not raw.startswith(("http://", "https://")):
            raise ConfigError(f"{name}={raw!r} is invalid: expected an http:// or https:// URL")
        return raw

    def users(self, name: str) -> frozenset[str]:
        raw = self.optional(name)
        if raw is None:
            return frozenset()
        out: set[str] = set()
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            platform, _, uid = item.partition(":")
            if uid and platform.lower() not in PLATFORMS:
                raise ConfigError(
                    f"{name} entry {item!r} is invalid: unknown platform {platform!r} "
                    f"(expected one of {', '.join(sorted(PLATFORMS))})"
                )
            if platform.lower() not in PLATFORMS or not uid:
                raise ConfigError(
                    f"{name} entry {item!r} is invalid: expected platform:id, e.g. "
                    "slack:U123ABC, discord:80351110224678912, matrix:@ana:example.org"
                )
            out.add(f"{platform.lower()}:{uid}")
        return frozenset(out)

    def channel(self, name: str) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        platform, _, channel = raw.partition(":")
        if channel and platform.lower() not in PLATFORMS:
            raise ConfigError(
                f"{name}={raw!r} is invalid: unknown platform {platform!r} "
                f"(expected one of {', '.join(sorted(PLATFORMS))})"
            )
        if platform.lower() not in PLATFORMS or not channel:
            raise ConfigError(
                f"{name}={raw!r} is invalid: expected platform:channel, e.g. "
                "slack:C0123ABC or matrix:!room:example.org"
            )
        return f"{platform.lower()}:{channel}"

    def addr(self, name: str) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        host, sep, port = raw.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(
                f"{name}={raw!r} is invalid: expected host:port, e.g. 127.0.0.1:8080"
            )
        return raw

    def timezone(self, name: str, default: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        raw = self.optional(name) or default
        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{name}={raw!r} is invalid: expected an IANA timezone, e.g. Europe/Berlin or UTC"
            ) from None
        return raw

    def cron(self, name: str) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        if len(raw.split()) != 5:
            raise ConfigError(
                f"{name}={raw!r} is invalid: expected a 5-field cron expression, e.g. '0 9 * * *'"
            )
        return raw
