"""``python -m bench [name ...] [--smoke]``: run benchmarks, print tables, record results.

Every benchmark module exposes ``run(smoke: bool = False) -> (headers, rows)``; one with several
tables (e2e: one per chat platform, ``--platform`` picks) also ``tables(smoke, platforms)``
yielding ``(title, table, note)``, and that is what runs. Full runs append each table to
bench/RESULTS.md with the date and machine; ``--smoke`` runs a tiny, fast version (what
``make test`` exercises) and records nothing.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

from bench.common import Table, append_results, format_table

PLATFORMS = ("slack", "discord", "matrix")  # the legs of e2e (``--platform``)

# Order matters for a full run: the cheap, noise-sensitive ones first.
BENCHMARKS = (
    "e2e",
    "startup",
    "scale",
    "footprint",
    "overhead",
    "classifier",
    "sandbox",
    "throughput",
    "streaming",
    "longanswer",
    "agent",
    "memory",
    "chroma",
    "skills",
)


def available() -> list[str]:
    """Benchmarks whose module exists in this checkout."""
    return [name for name in BENCHMARKS if importlib.util.find_spec(f"bench.{name}") is not None]


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    names = available()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help=f"any of: {', '.join(names)}")
    parser.add_argument("--smoke", action="store_true", help="tiny fast run; records nothing")
    parser.add_argument("--no-save", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument(
        "--platform",
        action="append",
        choices=PLATFORMS,
        help="e2e only: the platform legs to run (repeatable; default all three)",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (choose from {', '.join(names)})")
    if args.platform and args.names and "e2e" not in args.names:
        parser.error("--platform applies to e2e only")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    failed = 0
    for name in args.names or names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        try:
            for title, table, note in _tables(module, args):
                took = time.perf_counter() - started
                print(f"\n## {title}{' (smoke)' if args.smoke else ''} — {took:.1f}s\n")
                print(format_table(*table))
                if not (args.smoke or args.no_save):
                    append_results(title, table, note=note)
                started = time.perf_counter()
        except Exception:
            logging.getLogger("bench").exception("benchmark %s failed", name)
            failed += 1
            continue
    return 1 if failed else 0


def _tables(module: Any, args: argparse.Namespace) -> Iterator[tuple[str, Table, str]]:
    """``(title, table, note)``: a module's ``tables`` (one per platform, e2e) or its ``run``."""
    name = module.__name__.removeprefix("bench.")
    several = getattr(module, "tables", None)
    if several is not None:
        yield from several(smoke=args.smoke, platforms=args.platform)
        return
    yield name, module.run(smoke=args.smoke), getattr(module, "NOTE", "")


if __name__ == "__main__":
    sys.exit(main())
