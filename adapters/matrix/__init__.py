"""Matrix adapter (matrix-nio): rooms, DMs, threads, m.replace streaming, reaction approvals."""

from __future__ import annotations

from adapters.matrix.adapter import DEFAULT_CAPABILITIES, MatrixAdapter

__all__ = ["DEFAULT_CAPABILITIES", "MatrixAdapter"]
