"""The one Sandbox, as hearth builds it from Settings."""

from __future__ import annotations

import logging

from bot.config import Settings
from core.storage.processes import ProcessStore
from core.tools.sandbox import Sandbox, default_hidden

log = logging.getLogger(__name__)


def build_sandbox(settings: Settings, ledger: ProcessStore | None = None) -> Sandbox:
    """The one Sandbox; it hides the data dir, .env files, HOME's credentials, SANDBOX_HIDE."""
    settings.workspace.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox(
        settings.tool_sandbox,
        workspace=settings.workspace,
        hide=[
            settings.data_dir,
            *settings.env_files,
            *default_hidden(settings.home),
            *settings.sandbox_hide,
        ],
        network=settings.sandbox_network,
        ledger=ledger,
    )
    if sandbox.confines:
        log.info("%s", sandbox.describe())
    else:
        log.warning("%s", sandbox.describe())
    return sandbox
