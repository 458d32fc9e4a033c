"""Probes: each check measured concurrently, each under its own timeout, into a ProbeResult.

prober (all checks of a tick, hearth's own health) · network (Ollama, HTTP, TCP) · host
(system load and memory, disk, processes, shell checks).
"""

from core.heartbeat.probes.prober import Prober

__all__ = ["Prober"]
