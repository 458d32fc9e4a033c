"""Parse who an `allow` / `revoke` is about: ``platform:id`` or a platform mention."""

from __future__ import annotations

import re

PLATFORMS = frozenset({"slack", "discord", "matrix", "console"})
_SLACK = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_DISCORD = re.compile(r"^<@!?(\d{5,25})>$")
_MATRIX = re.compile(r"^(?:https://matrix\.to/#/)?(@[^:\s]+:[^\s]+)$")


class SubjectError(ValueError):
    """The text names nobody we can identify; the message says what to write instead."""


def parse_subject(text: str, *, platform: str) -> str:
    """``platform:id`` for ``text``, resolving mentions on ``platform`` (the chat's)."""
    text = text.strip().strip("`")
    if not text:
        raise SubjectError("say who: `platform:id` or an @mention")
    slack = _SLACK.match(text)
    if slack:
        return f"slack:{slack[1]}"
    discord = _DISCORD.match(text)
    if discord:
        return f"discord:{discord[1]}"
    matrix = _MATRIX.match(text)
    if matrix:
        return f"matrix:{matrix[1]}"
    prefix, sep, uid = text.partition(":")
    if sep and prefix.lower() in PLATFORMS and uid:
        return f"{prefix.lower()}:{uid}"
    raise SubjectError(
        f"I can't tell who {text!r} is: write `platform:id` (e.g. slack:U0123ABC, "
        "discord:80351110224678912, matrix:@ana:example.org) or @mention them"
        + (" by their full Matrix id" if platform == "matrix" else "")
    )
