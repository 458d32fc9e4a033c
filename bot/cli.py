"""The `hearth` command: run, chat, doctor, heartbeat, usage, export. Errors are one line."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import cli_matrix, cli_memory
from bot.config import Settings, ensure_data_dir
from bot.instance import AlreadyRunning, DataDirLock, harden_process
from core.errors import ConfigError, HearthError

EXIT_OK, EXIT_FAIL, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130


NO_PLATFORM = (
    "no chat platform is configured (set SLACK_BOT_TOKEN, DISCORD_TOKEN or MATRIX_HOMESERVER "
    "and the rest, see .env.example) and stdin is not a terminal"
)
EXPORTS = {
    "ticks": "heartbeat ticks (prompt, decision, 👍/👎 label) for preference tuning",
    "tasks": "tasks: who asked what, in which chat, how it ended",
    "approvals": "the approvals audit trail: each request, decision and click",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hearth")
    except PackageNotFoundError:  # run from a checkout without installing
        return "unknown (not installed)"


class _Version(argparse.Action):
    """--version: the installed version, looked up only when asked (the lookup takes ~20 ms)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show program's version number and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"hearth {_version()}")
        parser.exit()


def _command(sub: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    # help= is the line in `hearth --help`; description= heads `hearth NAME --help`.
    return sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hearth", description="A local-first AI agent that lives in your team chat."
    )
    p.add_argument("--version", action=_Version)
    p.add_argument("--env-file", type=Path, default=None, help="read this .env (default ./.env)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _command(sub, "run", "start every configured platform (the terminal chat when none)")
    _command(sub, "chat", "talk to hearth in this terminal")
    _command(sub, "doctor", "check configuration, Ollama, models and credentials")
    hb = _command(sub, "heartbeat", "run one heartbeat tick now and print its report")
    hb.add_argument("--once", action="store_true", help="the default; kept for old scripts")
    hb.add_argument(
        "--digest", action="store_true", help="print the digest and draw its PNG timeline"
    )
    hb.add_argument("--since", default="24h", help="digest: e.g. 24h, 7d or an ISO date")
    hb.add_argument(
        "--out", type=Path, default=None, help="digest: PNG path (default heartbeat-digest.png)"
    )
    _command(sub, "usage", "LLM usage and cost: today, 7 days, all time")
    sk = _command(sub, "skills", "list, show, enable or disable skills")
    sk_sub = sk.add_subparsers(dest="action", required=True, metavar="ACTION")
    sk_sub.add_parser("list", help="every skill with status and counters, and load problems")
    for action, text in (
        ("show", "one skill's details"),
        ("enable", "make a skill ACTIVE"),
        ("disable", "make a skill DISABLED"),
        ("history", "every stored version of a skill"),
    ):
        sk_sub.add_parser(action, help=text).add_argument("name")
    rb = sk_sub.add_parser("rollback", help="use an earlier version of a generated skill")
    rb.add_argument("name")
    rb.add_argument("version", type=int)
    ex = _command(sub, "export", "export stored data as JSONL (without WHAT: list what can be)")
    ex.add_argument(
        "what",
        nargs="?",
        choices=list(EXPORTS),
        metavar="WHAT",
        help="one of: " + ", ".join(EXPORTS),
    )
    ex.add_argument("--labeled", action="store_true", help="ticks: only those with a 👍/👎 label")
    ex.add_argument("--since", default=None, help="only newer than this: 7d, 24h or an ISO date")
    ex.add_argument("--out", type=Path, default=None, help="write here instead of stdout")
    cli_matrix.add_parser(sub)
    cli_memory.add_parser(sub)
    pair = _command(sub, "pair", "DM pairing requests: list, approve or reject")
    pair_sub = pair.add_subparsers(dest="action", required=True, metavar="ACTION")
    pair_sub.add_parser("list", help="codes waiting for an admin")
    pa = pair_sub.add_parser("approve", help="allow the user who asked for CODE")
    pa.add_argument("code")
    pa.add_argument("--as", dest="role", choices=["user", "approver"], default="user")
    pair_sub.add_parser("reject", help="decline CODE").add_argument("code")
    users = _command(sub, "users", "who may use hearth: list, allow, revoke")
    users_sub = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    users_sub.add_parser("list", help="everyone allowed, with role and source")
    ua = users_sub.add_parser("allow", help="allow platform:id")
    ua.add_argument("user", help="platform:id, e.g. slack:U0123ABC")
    ua.add_argument("--as", dest="role", choices=["user", "approver"], default="user")
    users_sub.add_parser("revoke", help="revoke platform:id").add_argument("user")
    jobs = sub.add_parser("jobs", help="jobs scheduled from chat: list, pause, resume, remove")
    jobs_sub = jobs.add_subparsers(dest="action", required=True, metavar="ACTION")
    jobs_sub.add_parser("list", help="every active or paused job")
    for verb in ("pause", "resume", "remove"):
        jobs_sub.add_parser(verb, help=f"{verb} job ID").add_argument("job_id")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    _pause_gc()
    try:
        return _main(argv)
    finally:
        _resume_gc()


_gc_paused = False


def _pause_gc() -> None:
    """Starting up (imports, the wiring) makes many objects and little garbage: the collector's
    passes would only delay the prompt (~20 ms). It is on again before the app runs."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def _resume_gc() -> None:
    global _gc_paused
    if _gc_paused:
        gc.enable()
        _gc_paused = False


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command not in ("run", "chat"):
        _resume_gc()  # one-shot commands: as ever
    if args.env_file is not None and not args.env_file.is_file():
        print(f"hearth: --env-file {args.env_file}: no such file", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if args.command == "doctor":
            return asyncio.run(_doctor(args.env_file))
        settings = Settings.load(dotenv=args.env_file)
        for warning in settings.warnings:
            print(f"hearth: warning: {warning}", file=sys.stderr)
        ensure_data_dir(settings)
        if args.command in ("run", "chat"):
            harden_process()
            # Before any recovery: a second hearth would expire the first one's approvals.
            with DataDirLock(settings.data_dir):
                return asyncio.run(_serve(settings, console_only=args.command == "chat"))
        if args.command == "heartbeat" and args.digest:
            return asyncio.run(_heartbeat_digest(settings, args))
        if args.command == "heartbeat":
            return asyncio.run(_heartbeat_once(settings))
        if args.command == "usage":
            return asyncio.run(_usage(settings))
        if args.command == "skills":
            return asyncio.run(
                _skills(
                    settings,
                    args.action,
                    getattr(args, "name", None),
                    getattr(args, "version", None),
                )
            )
        if args.command == "export":
            return asyncio.run(_export(settings, args))
        if args.command == "matrix":
            return cli_matrix.run(settings, args)
        if args.command == "memory":
            return cli_memory.run(settings, args)
        if args.command in ("pair", "users"):
            return asyncio.run(_access(settings, args))
        if args.command == "jobs":
            return asyncio.run(_jobs(settings, args))
    except ConfigError as exc:
        print(f"hearth: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AlreadyRunning as exc:
        print(f"hearth: {exc}", file=sys.stderr)
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
    from bot.serve import serve

    console = console_only or not settings.platforms
    if console and not console_only and not sys.stdin.isatty():
        print(f"hearth: {NO_PLATFORM}", file=sys.stderr)
        return EXIT_CONFIG
    # The collector is on again once hearth is built: from then on objects come and go.
    return await serve(settings, console=console, platforms=not console_only, on_built=_resume_gc)


async def _heartbeat_once(settings: Settings) -> int:
    from bot.cli_heartbeat import heartbeat_once
    from bot.logging import configure_logging
    from core.llm.ollama import close_clients

    configure_logging(settings, console=True)
    try:
        report, severity = await heartbeat_once(settings)
    finally:
        await close_clients()
    _print_markdown(report)
    return EXIT_OK if severity == "ok" else EXIT_FAIL


async def _heartbeat_digest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_heartbeat import heartbeat_digest
    from core.llm.ollama import close_clients

    try:
        digest = await heartbeat_digest(settings, since=args.since)
    finally:
        await close_clients()
    print(digest.text)
    if digest.png is None:
        print("hearth: the digest picture could not be drawn (see the log)", file=sys.stderr)
        return EXIT_FAIL
    out = args.out or Path("heartbeat-digest.png")
    out.write_bytes(digest.png)
    print(f"wrote {out} ({len(digest.png) / 1024:.0f} KiB)", file=sys.stderr)
    return EXIT_OK


async def _usage(settings: Settings) -> int:
    from bot.cli_data import usage_report

    _print_markdown(await usage_report(settings))
    return EXIT_OK


def _print_markdown(text: str) -> None:
    """Core's Markdown rendered for this terminal (plain text into a pipe)."""
    from adapters.console.screen import Screen

    Screen(None, interactive=sys.stdout.isatty()).message(None, text)


async def _skills(settings: Settings, action: str, name: str | None, version: int | None) -> int:
    from bot.cli_skills import skills_cli

    text, ok = await skills_cli(settings, action, name, version)
    print(text, file=sys.stdout if ok else sys.stderr)
    return EXIT_OK if ok else EXIT_FAIL


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_data import export

    if args.what is None:
        print("What can be exported (hearth export WHAT [--since 7d] [--out FILE]):")
        for name, text in EXPORTS.items():
            print(f"  {name:<10} {text}")
        return EXIT_OK
    out = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
    try:
        count = await export(settings, args.what, out, labeled=args.labeled, since=args.since)
    finally:
        if args.out:
            out.close()
    print(f"exported {count} {args.what}", file=sys.stderr)
    return EXIT_OK


async def _access(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_access import access_cli

    extra = [v for v in (getattr(args, "code", None), getattr(args, "user", None)) if v]
    if getattr(args, "role", None):
        extra.append(args.role)
    ok, text = await access_cli(settings, args.command, args.action, *extra)
    print(text)
    return EXIT_OK if ok else EXIT_FAIL


async def _jobs(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli_jobs import jobs_cli

    ok, text = await jobs_cli(settings, args.action, getattr(args, "job_id", None))
    print(text)
    return EXIT_OK if ok else EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
