"""Approvals: the broker, its text commands, and the neutral pieces adapters use.

broker (asks and waits, audit trail) · commands (``approve``/``deny``) · payload (button codec,
deciding reactions) · prompt (the prompt's words). Adapters import only ``payload`` and
``prompt``; the broker's names are re-exported here lazily so importing those stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "ApprovalBroker": "core.approvals.broker",
    "Resolution": "core.approvals.broker",
    "RESTART_REASON": "core.approvals.broker",
    "MAX_SHOWN_COMMAND": "core.approvals.broker",
    "refusal_note": "core.approvals.broker",
    "approval_commands": "core.approvals.commands",
    "PAYLOAD_PREFIX": "core.approvals.payload",
    "REACTION_DECISIONS": "core.approvals.payload",
    "pack_payload": "core.approvals.payload",
    "unpack_payload": "core.approvals.payload",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'core.approvals' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = sorted(_LAZY)
