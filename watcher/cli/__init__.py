"""The `watcher` command: global options, then one module per command discovered in this package."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from watcher import __version__, log
from watcher.cli.context import Context
from watcher.config import ConfigError

_INFRA = {"context", "output"}  # modules of this package that are not commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="watcher", description="Watch news sources for digital-cooperation articles.")
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    parser.add_argument("--config", metavar="PATH", help="configuration file (default: $WATCHER_CONFIG or config/watcher.yaml)")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name not in _INFRA:
            importlib.import_module(f"{__name__}.{info.name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
