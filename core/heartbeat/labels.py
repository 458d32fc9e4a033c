"""👍/👎 on a posted report label its tick chosen/rejected (preference data for tuning)."""

from __future__ import annotations

LABEL_KEYS = {
    "👍": "chosen",
    "+1": "chosen",
    "thumbsup": "chosen",
    "👎": "rejected",
    "-1": "rejected",
    "thumbsdown": "rejected",
}
_SKIN_TONES = "\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff\ufe0f"


def label_for(key: str) -> str | None:
    """ "chosen" for 👍 (any skin tone, or the name +1), "rejected" for 👎, else None."""
    bare = key.strip().strip(":")
    for mark in _SKIN_TONES:
        bare = bare.replace(mark, "")
    return LABEL_KEYS.get(bare)
