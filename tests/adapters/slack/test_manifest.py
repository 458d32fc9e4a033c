"""The Slack app manifest asks for exactly what the adapter uses."""

from __future__ import annotations

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

MANIFEST = Path(__file__).resolve().parents[3] / "adapters" / "slack" / "manifest.yaml"


def test_manifest_scopes_and_events() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
        "reaction_added",
    }
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "im:history",
        "mpim:history",
        "chat:write",
        "reactions:read",
        "reactions:write",
        "files:write",
        "files:read",
        "commands",
    }
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/hearth"]
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
