"""Tests of the Slack adapter against a loopback Slack."""

from __future__ import annotations
