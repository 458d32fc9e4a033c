"""Confidence parsing and clamping."""

from __future__ import annotations

import pytest

from core.agent.confidence import assess, failure_signals, is_refusal, parse_confidence


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Done.\nCONFIDENCE: 0.85", 0.85),
        ("Done.\nConfidence = 0.4", 0.4),
        ("Done.\n**Confidence:** 90%", 0.9),
        ("Done.\nconfidence: 7", 0.07),
        ("Done.\nCONFIDENCE: 1.0", 1.0),
        ("Done, no stated confidence.", None),
    ],
)
def test_parse_confidence(text: str, value: float | None) -> None:
    answer, parsed = parse_confidence(text)
    assert parsed == pytest.approx(value) if value is not None else parsed is None
    assert "onfidence" not in answer or value is None


@pytest.mark.parametrize(
    "output",
    [
        "web   Up 2 minutes (unhealthy)",
        "api   Exited (1) 3 seconds ago",
        "pod/x   0/1   CrashLoopBackOff   5",
        "ERROR 1045 (28000): Access denied for user 'root'@'localhost'",
        "Error response from daemon: No such container: web",
        "bash: kubectl: command not found",
    ],
)
def test_failure_signals_clamp(output: str) -> None:
    signals = failure_signals([output])
    assert signals
    assert assess(0.95, answer="All fine.", signals=signals, default=0.7, clamp=0.3) == 0.3


def test_refusal_clamps_and_clean_answer_keeps_its_confidence() -> None:
    assert is_refusal("I'm sorry, but I cannot access that server.")
    assert is_refusal("")
    assert assess(0.9, answer="I cannot do that.", signals=[], default=0.7, clamp=0.3) == 0.3
    assert assess(0.9, answer="Port is 8080.", signals=[], default=0.7, clamp=0.3) == 0.9
    assert assess(None, answer="Port is 8080.", signals=[], default=0.7, clamp=0.3) == 0.7
    assert failure_signals(["Up 3 hours (healthy)"]) == []
