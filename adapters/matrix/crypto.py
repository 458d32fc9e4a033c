"""End-to-end encryption upkeep for the Matrix adapter: keys, device trust, who is believed.

nio decrypts room events inside ``sync()`` once it holds the room keys; what it leaves to the
caller is the key traffic (upload, query, claim, to-device messages) and the trust decisions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import nio

log = logging.getLogger(__name__)

TrustPolicy = Literal["allowed", "all", "verified"]
TRUST_POLICIES: tuple[TrustPolicy, ...] = ("allowed", "all", "verified")
CRYPTO_DIR = "crypto"  # under the adapter's store dir (inside HEARTH_DATA_DIR, hidden from tools)

UNDECRYPTABLE_NOTICE = (
    "🔒 I could not decrypt your message. Please make sure your client shares room keys with "
    "this session (in Element: verify the session or re-send), then try again."
)
UNVERIFIED_NOTICE = (
    "🔒 I only act on messages from verified sessions here, and yours is not verified yet. "
    "An admin can trust it with `hearth matrix trust USER DEVICE` after comparing its key."
)


class CryptoStore(nio.store.DefaultStore):
    """nio's default crypto store, without a transaction per sync when nothing changed.

    nio saves the rooms that became encrypted after every sync, also when there are none: an
    empty SQLite transaction (a commit, on the event loop) per sync.
    """

    def save_encrypted_rooms(self, rooms: set[str]) -> None:
        """Save the room ids that became encrypted; nothing to do for none."""
        if rooms:
            super().save_encrypted_rooms(rooms)


@dataclass(frozen=True, slots=True)
class TrustView:
    """What the trust policy thinks of one device."""

    user_id: str
    device_id: str
    fingerprint: str
    trusted: bool
    blacklisted: bool


class CryptoKeeper:
    """Keeps nio's keys moving and applies the ``MATRIX_TRUST`` policy to known devices.

    - ``allowed``: devices of users allowed to use hearth are trusted on first use (a new device
      of such a user is logged and trusted); everyone else's devices still receive room keys.
    - ``all``: every device is trusted on first use.
    - ``verified``: only devices an admin verified are trusted, and only their messages are acted
      on; others are refused with a note. Room keys still go to every member's devices, so the
      people in a room can read what hearth says there, as in a plain room.
    """

    def __init__(self, policy: TrustPolicy, allowed_users: frozenset[str]) -> None:
        if policy not in TRUST_POLICIES:
            raise ValueError(f"unknown Matrix trust policy {policy!r}")
        self.policy = policy
        self._allowed = allowed_users  # "matrix:@user:server"

    async def upkeep(self, client: nio.AsyncClient) -> None:
        """Upload, query and claim keys as nio asks, flush to-device messages, apply trust."""
        if client.olm is None:
            return
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        self.apply(client)

    def apply(self, client: nio.AsyncClient) -> None:
        """Trust the devices the policy trusts on first use."""
        olm = client.olm
        if olm is None:
            return
        for device in client.device_store:
            if device.deleted or olm.is_device_verified(device):
                continue
            if self._trusts_on_first_use(device.user_id):
                client.verify_device(device)
                log.info(
                    "matrix: trusting device %s of %s (MATRIX_TRUST=%s)",
                    device.id,
                    device.user_id,
                    self.policy,
                )

    def believes(self, event: nio.Event) -> bool:
        """Whether a decrypted event may be acted on under the policy."""
        if self.policy != "verified" or not getattr(event, "decrypted", False):
            return True
        return bool(getattr(event, "verified", False))

    def trusted_count(self, client: nio.AsyncClient) -> int:
        """How many known devices are trusted."""
        olm = client.olm
        if olm is None:
            return 0
        return sum(1 for d in client.device_store if not d.deleted and olm.is_device_verified(d))

    def _trusts_on_first_use(self, user_id: str) -> bool:
        if self.policy == "all":
            return True
        return self.policy == "allowed" and f"matrix:{user_id}" in self._allowed


def devices_in_store(store_dir: Path, user_id: str, device_id: str) -> list[TrustView]:
    """The devices recorded in the crypto store, for the CLI (hearth must not be running)."""
    store = nio.store.DefaultStore(user_id, device_id, str(store_dir / CRYPTO_DIR))
    views = []
    for device in store.load_device_keys():
        if device.deleted:
            continue
        views.append(
            TrustView(
                device.user_id,
                device.id,
                device.ed25519,
                device.verified,
                device.blacklisted,
            )
        )
    return views


def trust_in_store(store_dir: Path, user_id: str, device_id: str, owner: str, device: str) -> bool:
    """Mark ``owner``'s ``device`` verified in the crypto store; False when it is unknown."""
    store = nio.store.DefaultStore(user_id, device_id, str(store_dir / CRYPTO_DIR))
    for known in store.load_device_keys():
        if known.user_id == owner and known.id == device and not known.deleted:
            store.verify_device(known)
            return True
    return False


def describe_encryption(store_dir: Path, policy: str) -> tuple[bool, str]:
    """One doctor line: whether encryption works, the store, the device and trusted devices."""
    from adapters.matrix.session import SessionStore

    if not nio.crypto.ENCRYPTION_ENABLED:
        return False, (
            "off: matrix-nio's e2e extra is missing, so encrypted rooms and DMs cannot be read; "
            "fix: pip install 'matrix-nio[e2e]'"
        )
    path = store_dir / CRYPTO_DIR
    session = SessionStore(store_dir).load()
    if session is None or not session.device_id:
        return True, f"on; store {path} is created at the first start; MATRIX_TRUST={policy}"
    return True, (
        f"on; store {path}; device {session.device_id}; "
        f"{session.trusted_devices} trusted devices; MATRIX_TRUST={policy}"
    )
