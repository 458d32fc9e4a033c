"""The inside of a skill run: ``python -m core.skills.child`` in the sandbox.

With ``--warm [module …]`` it is started ahead of its request (a pre-started worker): it
imports the contract and those modules, prints ``READY_MARKER``, then waits. Either way it
reads one JSON request on stdin (module source, file name, params, memory cap), runs the
module's ``run(params)``, and writes one JSON line after ``RESULT_MARKER`` on stdout. The
module's own prints go to stderr, so they can never forge the result line. The source comes on
stdin because the sandbox hides hearth's data directory, where user and generated skills live.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import types
from typing import Any

RESULT_MARKER = "\x1ehearth-skill-result:"
READY_MARKER = "\x1ehearth-skill-ready"


def _preload(modules: list[str]) -> None:
    """Import now what skills import, while no request waits (the worker serves one only)."""
    import core.skills.api  # noqa: F401

    for name in modules:
        try:
            __import__(name)
        except Exception:  # a module missing here fails the skill that needs it, as usual
            continue


def _limit_memory(mb: int) -> None:
    # Both limits: the skill cannot raise its own cap back (without CAP_SYS_RESOURCE).
    if mb > 0:
        cap = mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _run(request: dict[str, Any]) -> dict[str, Any]:
    from core.skills.api import MAX_TEXT, SkillResult

    module = types.ModuleType("hearth_skill")
    module.__file__ = request.get("filename", "<skill>")
    code = compile(request["source"], module.__file__, "exec")
    exec(code, module.__dict__)
    run = getattr(module, "run", None)
    if not callable(run):
        return {"ok": False, "text": "the skill module defines no run(params) function"}
    result = run(dict(request.get("params") or {}))
    if isinstance(result, SkillResult):
        text, ok = result.text, result.ok
    elif isinstance(result, str):
        text, ok = result, True
    else:
        return {"ok": False, "text": f"run() returned {type(result).__name__}, not SkillResult"}
    text = str(text)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"\n…[{len(text) - MAX_TEXT} more characters cut]"
    return {"ok": bool(ok), "text": text}


def main() -> int:
    """Run one skill request from stdin; the exit code is 0 whenever a result was written."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # the skill's prints must not reach the result stream
    if sys.argv[1:2] == ["--warm"]:
        _preload(sys.argv[2:])
    gc.freeze()  # what is loaded so far is never garbage: the collection at the end skips it
    if sys.argv[1:2] == ["--warm"]:
        out.write(READY_MARKER + "\n")
        out.flush()
    try:
        request = json.loads(sys.stdin.buffer.read())
        _limit_memory(int(request.get("max_memory_mb", 0)))
        reply = _run(request)
    except MemoryError:
        reply = {"ok": False, "error": "memory", "text": "the skill ran out of memory"}
    except SystemExit as exc:
        reply = {"ok": False, "text": f"the skill called exit({exc.code})"}
    except BaseException as exc:
        import traceback  # only on failure: every run pays for the imports at the top

        tb = traceback.extract_tb(exc.__traceback__)
        where = next((f" (line {f.lineno})" for f in reversed(tb) if f.filename != __file__), "")
        reply = {"ok": False, "error": "exception", "text": f"{type(exc).__name__}: {exc}{where}"}
    out.write(RESULT_MARKER + json.dumps(reply, ensure_ascii=False) + "\n")
    out.flush()
    return 0


def _exit_now() -> None:
    """End without the interpreter's teardown, which takes longer than most skills run, but
    with what of it a skill could notice: its threads joined, its atexit handlers run, its
    unreachable objects freed (files closed) and its prints flushed."""
    threading = sys.modules.get("threading")
    if threading is not None:
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
    import atexit

    atexit._run_exitfuncs()
    gc.collect()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed or broken stream: nothing left to keep
            continue
    os._exit(0)


if __name__ == "__main__":
    main()
    _exit_now()
