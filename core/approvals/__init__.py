"""Approvals: the broker, its text commands, and the neutral pieces adapters use.

broker (asks and waits) · ledger (pending approvals, decisions into the audit trail) ·
decisions (clicks, reactions and the replies to them) · restart (closing what a previous run
left open) · commands (``approve``/``deny``) · payload (button codec, deciding reactions) ·
prompt (the prompt's words). Adapters import only ``payload`` and ``prompt``; the other
names are re-exported here lazily so importing those stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "ApprovalBroker": "core.approvals.broker",
    "Resolution": "core.approvals.decisions",
    "RESTART_REASON": "core.approvals.restart",
    "MAX_SHOWN_COMMAND": "core.approvals.broker",
    "refusal_note": "core.approvals.decisions",
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
