"""The `hearth` command: run, chat, doctor, heartbeat, usage, export. Errors are one line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import cli_matrix
from bot.config import Settings
from core.errors import ConfigError, HearthError

EXIT_OK, EXIT_FAIL, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hearth", description="A local-first AI agent that lives in your team chat."
    )
    p.add_argument("--env-file", type=Path, default=None, help="read this .env (default ./.env)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="start every configured platform (terminal chat when none)")
    sub.add_parser("chat", help="talk to hearth in this terminal")
    sub.add_parser("doctor", help="check configuration, Ollama, models and credentials")
    hb = sub.add_parser("heartbeat", help="run the health check")
    hb.add_argument("--once", action="store_true", help="run one tick and print it")
    hb.add_argument(
        "--digest", action="store_true", help="print the digest and draw its PNG timeline"
    )
    hb.add_argument("--since", default="24h", help="digest: e.g. 24h, 7d or an ISO date")
    hb.add_argument(
        "--out", type=Path, default=None, help="digest: PNG path (default heartbeat-digest.png)"
    )
    sub.add_parser("usage", help="LLM usage and cost: today, 7 days, all time")
    ex = sub.add_parser("export", help="export stored data as JSONL")
    ex.add_argument("what", choices=["ticks", "tasks"])
    ex.add_argument("--labeled", action="store_true", help="ticks: only those with a 👍/👎 label")
    ex.add_argument("--since", default=None, help="ticks: e.g. 7d, 24h or an ISO date")
    ex.add_argument("--out", type=Path, default=None, help="write here instead of stdout")
    cli_matrix.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "doctor":
            return asyncio.run(_doctor(args.env_file))
        settings = Settings.load(dotenv=args.env_file)
        if args.command in ("run", "chat"):
            return asyncio.run(_serve(settings, console_only=args.command == "chat"))
        if args.command == "heartbeat" and args.digest:
            return asyncio.run(_heartbeat_digest(settings, args))
        if args.command == "heartbeat":
            return asyncio.run(_heartbeat_once(settings))
        if args.command == "usage":
            return asyncio.run(_usage(settings))
        if args.command == "export":
            return asyncio.run(_export(settings, args))
        if args.command == "matrix":
            return cli_matrix.run(settings, args)
    except ConfigError as exc:
        print(f"hearth: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except HearthError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except OSError as exc:
        print(f"hearth: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_FAIL
    except ValueError as exc:  # bad command-line values, e.g. --since
        print(f"hearth: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:  # never a traceback on the terminal; the log has it
        if logging.getLogger().handlers:  # configured: the traceback goes to the log only
            logging.getLogger("hearth").exception("unexpected error")
        print(f"hearth: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_FAIL


async def _doctor(env_file: Path | None) -> int:
    from bot.doctor import run_doctor

    checks = await run_doctor(dotenv=env_file)
    for check in checks:
        print(check.line())
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAIL


async def _serve(settings: Settings, *, console_only: bool) -> int:
    from bot.wiring import build_app, configure_logging

    console = console_only or not settings.platforms
    configure_logging(settings, console=console)
    app = build_app(settings, console=console, platforms=not console_only)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await app.run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return EXIT_OK


async def _heartbeat_once(settings: Settings) -> int:
    from bot.wiring import configure_logging, heartbeat_once

    configure_logging(settings, console=True)
    report, severity = await heartbeat_once(settings)
    print(report)
    return EXIT_OK if severity == "ok" else EXIT_FAIL


async def _heartbeat_digest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.wiring import heartbeat_digest

    digest = await heartbeat_digest(settings, since=args.since)
    print(digest.text)
    if digest.png is None:
        print("hearth: the digest picture could not be drawn (see the log)", file=sys.stderr)
        return EXIT_FAIL
    out = args.out or Path("heartbeat-digest.png")
    out.write_bytes(digest.png)
    print(f"wrote {out} ({len(digest.png) / 1024:.0f} KiB)", file=sys.stderr)
    return EXIT_OK


async def _usage(settings: Settings) -> int:
    from bot.wiring import usage_report

    print(await usage_report(settings))
    return EXIT_OK


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.wiring import export

    out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
    try:
        count = await export(settings, args.what, out, labeled=args.labeled, since=args.since)
    finally:
        if args.out:
            out.close()
    print(f"exported {count} {args.what}", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
