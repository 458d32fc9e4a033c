"""Tests of core/heartbeat."""
