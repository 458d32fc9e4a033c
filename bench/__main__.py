"""``python -m bench [name ...] [--smoke]``: run benchmarks, print tables, record results.

Every benchmark module exposes ``run(smoke: bool = False) -> (headers, rows)``. Full runs
append each table to bench/RESULTS.md with the date and machine; ``--smoke`` runs a tiny,
fast version (what ``make test`` exercises) and records nothing.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
import time

from bench.common import append_results, format_table

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
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (choose from {', '.join(names)})")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    failed = 0
    for name in args.names or names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        try:
            table = module.run(smoke=args.smoke)
        except Exception:
            logging.getLogger("bench").exception("benchmark %s failed", name)
            failed += 1
            continue
        took = time.perf_counter() - started
        print(f"\n## {name}{' (smoke)' if args.smoke else ''} — {took:.1f}s\n")
        print(format_table(*table))
        if not (args.smoke or args.no_save):
            append_results(name, table, note=getattr(module, "NOTE", ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
