"""`hearth matrix devices|trust`: the encryption store's devices and manual verification."""

from __future__ import annotations

import argparse

from bot.config import Settings
from core.errors import ConfigError, HearthError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `hearth matrix …`."""
    mx = sub.add_parser(
        "matrix",
        help="Matrix encryption: list devices, trust a device",
        description="Matrix encryption: list devices, trust a device.",
    )
    msub = mx.add_subparsers(dest="matrix_command", required=True, metavar="ACTION")
    msub.add_parser("devices", help="devices hearth knows in encrypted rooms, with their keys")
    trust = msub.add_parser(
        "trust", help="verify a device after comparing its key (for MATRIX_TRUST=verified)"
    )
    trust.add_argument("user", help="the device owner, e.g. @ana:example.org")
    trust.add_argument("device", help="the device id, as `hearth matrix devices` shows it")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Carry out `hearth matrix …`; the store is read while hearth is stopped."""
    from adapters.matrix.crypto import devices_in_store, trust_in_store
    from adapters.matrix.session import SessionStore

    if settings.matrix is None:
        raise ConfigError("Matrix is not configured (set MATRIX_HOMESERVER and MATRIX_USER_ID)")
    store_dir = settings.data_dir / "matrix"
    session = SessionStore(store_dir).load()
    if session is None or not session.device_id:
        raise HearthError(f"no Matrix session in {store_dir} yet: start `hearth run` once first")
    if args.matrix_command == "devices":
        views = devices_in_store(store_dir, session.user_id, session.device_id)
        for v in views:
            state = "trusted" if v.trusted else ("blocked" if v.blacklisted else "unverified")
            print(f"{v.user_id}  {v.device_id}  {state:10}  key {v.fingerprint}")
        print(f"{len(views)} devices; this bot is {session.user_id} device {session.device_id}")
        return 0
    if not trust_in_store(store_dir, session.user_id, session.device_id, args.user, args.device):
        raise HearthError(f"no device {args.device} of {args.user} in the store")
    print(f"trusted {args.user} {args.device}; restart hearth for it to take effect")
    return 0
