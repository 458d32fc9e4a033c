"""The approval button payload codec and the reactions that decide: neutral, for adapters."""

from __future__ import annotations

from collections.abc import Mapping

from core.events import Decision

PAYLOAD_PREFIX = "appr"
REACTION_DECISIONS: Mapping[str, Decision] = {
    "✅": Decision.APPROVE,
    "✔️": Decision.APPROVE,
    "☑️": Decision.APPROVE,
    "❌": Decision.DENY,
    "✖️": Decision.DENY,
}


def pack_payload(approval_id: str, decision: Decision) -> str:
    """Button payload ``appr:<id>:approve|deny``; fits Discord's 100-char custom_id."""
    return f"{PAYLOAD_PREFIX}:{approval_id}:{decision.value}"


def unpack_payload(payload: str) -> tuple[str, Decision] | None:
    """Inverse of pack_payload; None for anything that is not exactly ours."""
    if not isinstance(payload, str) or len(payload) > 100:
        return None
    parts = payload.split(":")
    if len(parts) != 3 or parts[0] != PAYLOAD_PREFIX or not valid_id(parts[1]):
        return None
    try:
        return parts[1], Decision(parts[2])
    except ValueError:
        return None


def valid_id(approval_id: str) -> bool:
    """True for ids hearth makes: 1-16 url-safe characters."""
    return 0 < len(approval_id) <= 16 and all(c.isalnum() or c in "-_" for c in approval_id)
