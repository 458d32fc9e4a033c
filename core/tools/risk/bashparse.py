"""bashlex, imported on the first parse, with its LALR tables built once and kept on disk.

bashlex's bundled yacc rebuilds the parser tables on every import (about 0.1 s) and never reads
a parsetab. So the first import here builds them through bashlex's own ``yacc.yacc`` and writes
the tables (JSON, atomically) to the directory given with ``cache_in``, keyed by a hash of
bashlex's grammar and yacc sources; later imports rebuild only the parser object from them.
A missing, stale or unreadable cache is ignored and rebuilt: a cache never changes a parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the cached layout changes
_lock = threading.Lock()
_cache_dir: Path | None = None
_bashlex: ModuleType | None = None


class ParseError(ValueError):
    """The command line is not valid shell (bashlex's ParsingError, same message)."""


def cache_in(directory: Path | None) -> None:
    """Keep the parser tables in ``directory`` (None: build them in memory each time)."""
    global _cache_dir
    _cache_dir = directory


def parse(text: str) -> list[Any]:
    """bashlex.parse(text); a syntax error raises ParseError."""
    bashlex = _bashlex or _load()
    try:
        return bashlex.parse(text)
    except bashlex.errors.ParsingError as exc:
        raise ParseError(str(exc)) from exc


def load() -> None:
    """Import bashlex now (e.g. in a thread once the app is up), not on the first parse."""
    _load()


def _load() -> ModuleType:
    global _bashlex
    with _lock:
        if _bashlex is None:
            if "bashlex" in sys.modules or _cache_dir is None:
                import bashlex
                import bashlex.errors
            else:
                bashlex = _import_with_cache(_cache_dir)
            _bashlex = bashlex
        return _bashlex


class _Production:
    """What bashlex's LRParser reads of a grammar rule (name, length, action)."""

    def __init__(self, name: str, length: int, func: str | None, text: str) -> None:
        self.name, self.len, self.func, self.str = name, length, func, text
        self.callable = None

    def __str__(self) -> str:
        return self.str


class _Tables:
    """The shape of yacc's LRTable that LRParser takes."""

    def __init__(self, data: dict[str, Any], pdict: dict[str, Any]) -> None:
        self.lr_action = {int(k): v for k, v in data["action"].items()}
        self.lr_goto = {int(k): v for k, v in data["goto"].items()}
        self.lr_productions = [_Production(*p) for p in data["productions"]]
        for p in self.lr_productions:
            if p.func:
                p.callable = pdict[p.func]


def _import_with_cache(directory: Path) -> ModuleType:
    """Import bashlex with ``yacc.yacc`` answered from the cache while its parser module runs."""
    spec = importlib.util.find_spec("bashlex")
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        raise ImportError("bashlex is not installed")
    where = Path(spec.submodule_search_locations[0])
    digest = hashlib.sha256(f"{FORMAT} {sys.version_info[:2]}".encode())
    for source in ("parser.py", "yacc.py"):
        digest.update((where / source).read_bytes())
    path = directory / f"bashlex-tables-{digest.hexdigest()[:16]}.json"
    # The package object first, its __init__ (which imports the parser) after yacc is wrapped.
    package = importlib.util.module_from_spec(spec)
    sys.modules["bashlex"] = package
    try:
        from bashlex import yacc

        build = yacc.yacc

        def cached_yacc(**kwargs: Any) -> Any:
            parser_module = sys.modules["bashlex.parser"]
            data = _read(path)
            if data is not None:
                pdict = vars(parser_module)
                try:
                    return yacc.LRParser(_Tables(data, pdict), pdict.get("p_error"))
                except (KeyError, TypeError, ValueError):
                    log.warning("bashlex tables in %s do not fit; rebuilding", path)
            parser = build(module=parser_module, **kwargs)
            _write(path, parser)
            return parser

        yacc.yacc = cached_yacc
        try:
            spec.loader.exec_module(package)
        finally:
            yacc.yacc = build
    except BaseException:
        for name in [n for n in sys.modules if n == "bashlex" or n.startswith("bashlex.")]:
            del sys.modules[name]
        raise
    import bashlex.errors  # noqa: F401  (bound on the package for parse())

    return package


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and {"action", "goto", "productions"} <= data.keys()
    return data if ok else None


def _write(path: Path, parser: Any) -> None:
    """The tables as built (before bashlex patches its action table), written atomically."""
    data = {
        "action": {str(k): dict(v) for k, v in parser.action.items()},
        "goto": {str(k): dict(v) for k, v in parser.goto.items()},
        "productions": [(p.name, p.len, p.func, p.str) for p in parser.productions],
    }
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bashlex-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not keep bashlex's tables in %s: %s", path.parent, exc)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
