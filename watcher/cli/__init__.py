"""The `watcher` command: global options, then one module per command discovered in this package."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import pkgutil
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from watcher import __version__, log

_INFRA = {"context", "output"}  # modules of this package that are not commands


def _global_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--config", metavar="PATH", help="configuration file (default: $WATCHER_CONFIG or config/watcher.yaml)")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    return parser


def _command_modules(argv: Sequence[str] | None) -> list[str]:
    """The command modules to load: only the one named on the command line when there is one.

    Each command imports what it needs (the pipeline, numpy, lxml, the web view...); loading all of them
    for every invocation doubled the start-up time and memory of a warm `watcher poll`.
    """
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in _INFRA)
    if argv is None:
        return names
    _, rest = _global_options(argparse.ArgumentParser(add_help=False)).parse_known_args(argv)
    wanted = rest[0].replace("-", "_") if rest and not rest[0].startswith("-") else None
    return [wanted] if wanted in names else names  # help, typos and no command list them all


@contextmanager
def _few_collections() -> Iterator[None]:
    """Importing a command's modules (SQLAlchemy, aiohttp...) creates a few hundred thousand long-lived
    objects and no garbage; at the default thresholds the cycle collector ran over them ~60 times (a
    warm `watcher poll` of 1,000 feeds: 294 collections, ~100 ms, before; 237 after). Normal thresholds
    again once the imports are done, so a long run keeps its memory in check."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def build_parser(argv: Sequence[str] | None = None, *, freeze: bool = False) -> argparse.ArgumentParser:
    """The parser with the named command's module (or all of them) loaded.

    `freeze` (the console entry point): the objects alive once the modules are imported are moved out
    of the garbage collector's reach (gc.freeze); they live as long as the process, and every full
    collection walked them all again: a warm `watcher poll` of 1,000 feeds ran one, 38 ms, and now none
    (its whole run is ~0.75 s; the gain is within the machine's noise), and a daemon's full collections
    skip them for good. Not for tests calling main() again and again: it would freeze their garbage.
    """
    parser = argparse.ArgumentParser(prog="watcher", description="Watch news sources for digital-cooperation articles.")
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    _global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    with _few_collections():
        for name in _command_modules(argv):
            importlib.import_module(f"{__name__}.{name}").register(sub)
    if freeze:
        gc.freeze()
    return parser


def main(argv: Sequence[str] | None = None, *, freeze: bool = False) -> int:
    # Imported here, not at the top: the console script imports this package, and so does the worker
    # process of watcher.prepare (a spawned child imports its parent's main module), which needs
    # neither pydantic nor SQLAlchemy (~23 MB).
    with _few_collections():
        from watcher.cli.context import Context
        from watcher.config import ConfigError

    parser = build_parser(sys.argv[1:] if argv is None else argv, freeze=freeze)
    args = parser.parse_args(argv)
    log.setup(args.log_format, args.log_level)
    ctx = Context(config_path=args.config, out=sys.stdout)
    try:
        return int(args.func(args, ctx) or 0)
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: say what failed, in one line, then exit 1
        logging.getLogger("watcher").debug("command failed", exc_info=True)
        print(f"watcher {args.command}: {log.redact(str(exc)) or type(exc).__name__}", file=sys.stderr)
        return 1
    finally:
        ctx.close()


def run() -> NoReturn:
    """The console entry point (`watcher`, `python -m watcher`): main(), then a quick exit.

    When a command returns, its output is written and its store closed; what is left is the interpreter
    freeing every module and object one by one, which took a warm `watcher poll` 0.2-0.4 s here, a fifth
    of its run. So once no other thread is alive (nothing can be lost), the process exits without that
    teardown, after flushing the logs and both output streams. Tests call main() and exit normally.
    """
    code = main(freeze=True)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`watcher articles | head`): nothing left to say
            pass
    if threading.active_count() > 1:
        raise SystemExit(code)
    os._exit(code)
