"""`watcher db upgrade|current`: schema migrations by hand (they also run at every start)."""

from __future__ import annotations

import argparse

from watcher.cli.context import Context
from watcher.store.db import current_revision, make_engine, upgrade


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="database schema: upgrade or show the current revision")
    parser.add_argument("action", choices=("upgrade", "current"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    engine = make_engine(ctx.config.store.url)
    try:
        if args.action == "upgrade":
            upgrade(engine)
        ctx.out.write(f"{current_revision(engine) or 'empty (no migration applied)'}\n")
    finally:
        engine.dispose()
    return 0
