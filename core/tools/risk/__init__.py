"""Shell command risk: ``classify(command)`` is the face of the package.

verdict (Risk, the judge interface) · walker (parse and walk) · plain (plain lines parsed
without bashlex) · checks (per-command rules) · rules (command tables) · options (known-safe
options) · words (shell words) · endless (never-ending commands).
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.tools.risk.verdict import LOW, Level, Risk

log = logging.getLogger(__name__)


def classify(command: str, *, workspace: Path | str | None = None) -> Risk:
    """Judge ``command``; with ``workspace``, writes are checked against that directory."""
    # The walker and its command tables come with the first command, not with this package:
    # `hearth chat` draws its prompt without them.
    from core.tools.risk.walker import Walker

    walker = Walker(Path(workspace) if workspace is not None else None)
    try:
        walker.script(command, 0)
    except Exception:  # a walker bug must deny (ask a human), never wave a command through
        log.exception("risk check failed for %.200r", command)
        walker.flag("high", "could not be checked")
    return walker.result()


def warm() -> None:
    """Import the walker and its tables now (in a thread once the app is up), not on the first
    command."""
    from core.tools.risk import walker  # noqa: F401


__all__ = ["LOW", "Level", "Risk", "classify"]
