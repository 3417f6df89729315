"""`watcher sources`: each source's health (state, last success, last error, failures, next poll)."""

from __future__ import annotations

import argparse
import io
from typing import Any

from watcher.cli.context import Context
from watcher.cli.output import Column, render
from watcher.clock import now
from watcher.store import sources as source_store
from watcher.store.sources import short_error

COLUMNS = [
    Column("name", "SOURCE", 24), Column("state", "STATE", 12), Column("last_success", "LAST SUCCESS", 16),
    Column("failures", "FAIL", 4), Column("next_poll", "NEXT POLL", 16), Column("error_shown", "LAST ERROR"),
]
_RED, _RESET = "\x1b[31m", "\x1b[0m"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sources", help="show each source's health: last success, last error, next poll")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=run)


def rows(ctx: Context) -> list[dict[str, Any]]:
    """One dict per source: the config's sources first synced into the store, removed ones last."""
    config = ctx.config
    configured = {s.name for s in config.sources}
    with ctx.store.session() as session:
        source_store.sync_sources(session, config.sources, now())
        found = source_store.health(session)
    out = []
    for row in found:
        out.append({
            "name": row.name, "kind": row.kind, "url": row.url, "state": source_store.state(row, row.name in configured),
            "last_status": row.last_status, "last_polled": row.last_polled_at, "last_success": row.last_success_at,
            "failures": row.consecutive_failures, "last_error": row.last_error if row.consecutive_failures else None,
            "last_error_kind": row.last_error_kind, "last_error_at": row.last_error_at,
            "next_poll": row.next_poll_at if row.enabled and row.name in configured else None,
        })
    out.sort(key=lambda r: (r["state"] == "removed", r["name"]))
    return out


def run(args: argparse.Namespace, ctx: Context) -> int:
    data = rows(ctx)
    if args.format == "json":
        render(data, COLUMNS, "json", ctx.out)
        return 0
    buffer = io.StringIO()
    shown = [dict(row, error_shown=short_error(row["last_error"], row["url"])) for row in data]
    render(shown, COLUMNS, "table", buffer, total_width=120)
    lines = buffer.getvalue().splitlines()
    colour = ctx.out.isatty() if hasattr(ctx.out, "isatty") else False
    ctx.out.write(lines[0] + "\n")
    for row, line in zip(data, lines[1:]):
        failing = row["state"] == "failing"
        ctx.out.write((f"{_RED}{line}{_RESET}" if colour and failing else line) + "\n")
    failing = [r for r in data if r["state"] == "failing"]
    if failing and not colour:
        ctx.out.write(f"{len(failing)} failing: {', '.join(r['name'] for r in failing)}\n")
    return 0
