"""`watcher poll`: one poll cycle over the due (or named) sources, then a summary table."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from watcher.cli.context import Context
from watcher.cli.output import Column, render
from watcher.pipeline import PollResult, poll_selected, select_sources
from watcher.store.sources import short_error

COLUMNS = [
    Column("source", "SOURCE", 24), Column("status", "STATUS", 12), Column("new", "NEW", 4),
    Column("seen", "SEEN", 5), Column("errors", "ERR", 4), Column("seconds", "SECONDS", 7),
    Column("error_shown", "ERROR"),
]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("poll", help="poll the due sources once (or the named ones) and store new articles")
    parser.add_argument("--source", action="append", metavar="NAME",
                        help="poll this source now, due or not (repeatable)")
    parser.add_argument("--all", action="store_true", help="poll every enabled source now, due or not")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--no-worker", dest="worker", action="store_false",
                        help="do all the work in this process, even for over 1,000 new entries "
                             "(a worker process is faster there but holds ~70 MB more while it runs)")
    parser.set_defaults(func=run)


class Progress:
    """A one-line progress bar on a terminal; silent when `stream` is not one (logs, pipes, CI)."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.enabled = total > 0 and stream.isatty()

    def __call__(self, result: PollResult) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // self.total
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                          f"{result.source[:30]:30s}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 80 + "\r")
            self.stream.flush()


def _row(result: PollResult, url: str) -> dict[str, Any]:
    shown = short_error(result.error, url)
    if not shown and result.item_errors:
        shown = result.item_errors[0] + (f" (+{result.errors - 1} more)" if result.errors > 1 else "")
    return {"source": result.source, "status": result.status, "new": result.new, "seen": result.seen,
            "errors": result.errors + (result.status == "error"), "seconds": round(result.seconds, 2),
            "error": result.error, "error_kind": result.error_kind, "item_errors": result.item_errors,
            "pages": result.pages, "ignored": result.ignored, "copies": result.copies, "alerts": result.alerts,
            "next_poll": result.next_poll_at, "error_shown": shown}


def run(args: argparse.Namespace, ctx: Context) -> int:
    config = ctx.config  # an invalid config raises ConfigError: exit 2
    names = args.source or None
    try:
        planned = select_sources(config, ctx.store, names, due_only=not (names or args.all))
    except KeyError as exc:
        print(f"watcher poll: {exc.args[0]}", file=sys.stderr)
        return 2
    if not planned:
        ctx.out.write("no source is due; `watcher sources` shows when each is next polled "
                      "(--all polls them all now)\n")
        return 0
    progress = Progress(len(planned), sys.stderr)
    try:
        results = poll_selected(config, ctx.store, planned, on_result=progress, worker=args.worker)
    finally:
        progress.close()
    urls = {s.name: str(s.url) for s in planned}
    rows = [_row(r, urls.get(r.source, "")) for r in results]
    if args.format == "json":
        rows = [{k: v for k, v in row.items() if k != "error_shown"} for row in rows]
    render(rows, COLUMNS, args.format, ctx.out, total_width=120)
    if args.format == "table":
        failed = [r for r in results if r.status == "error"]
        ctx.out.write(f"{len(results)} sources polled: {sum(r.new for r in results)} new articles, "
                      f"{len(failed)} failed\n")
        for result in failed:  # the table cuts long errors; here they are whole
            ctx.out.write(f"  {result.source}: {result.error_kind} error: {result.error}\n")
    return 0
