"""`watcher alerts`: the outbox as a table or JSON; `alerts retry ID...|--failed`; `alerts send` (dispatch once)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import sys
import uuid
from typing import Any

from sqlalchemy import select

from watcher import outbox
from watcher.cli.context import Context
from watcher.cli.output import Column, render
from watcher.log import redact
from watcher.store.models import Alert, Article

# The table keeps to what fits 80 columns; JSON carries every field (times, target, full error).
COLUMNS = [
    Column("id", "ID", 4),
    Column("status", "STATUS", 7),
    Column("subscription", "SUBSCRIPTION", 15),
    Column("channel", "CHANNEL", 14),
    Column("attempts", "TRIES", 5),
    Column("detail", "TITLE / LAST ERROR"),
]
_WHERE = re.compile(r"^notifier '[^']*' \([^)]*\): ")  # the CHANNEL column already says which


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "alerts", help="show the alert outbox; `alerts retry ID...|--failed` sends failed alerts again",
        description="Without an action: list alerts (newest first). `retry ID...` or `retry --failed`: "
                    "make failed (or pending) alerts due now, with their attempts reset. `send`: deliver "
                    "the due alerts and digests once, without the daemon (e.g. from cron after `watcher poll`).")
    parser.add_argument("action", nargs="?", choices=("list", "retry", "send"), default="list")
    parser.add_argument("ids", nargs="*", type=int, metavar="ID", help="alert ids (retry)")
    parser.add_argument("--status", choices=outbox.STATUSES, help="only alerts in this state")
    parser.add_argument("--failed", action="store_true", help="retry: every failed alert")
    parser.add_argument("--limit", type=int, default=200, help="at most this many rows (default 200)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.action == "retry":
        return _retry(args, ctx)
    if args.action == "send":
        return _send(ctx)
    if args.ids or args.failed:
        print("watcher alerts: ids and --failed go with `retry` (watcher alerts retry ID|--failed)", file=sys.stderr)
        return 2
    width = max(80, shutil.get_terminal_size((80, 24)).columns)
    render(list_alerts(ctx.store, status=args.status, limit=args.limit), COLUMNS, args.format, ctx.out,
           total_width=width)
    return 0


def list_alerts(store: Any, *, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Outbox rows as plain dicts (newest first), with the story title; secrets redacted."""
    query = select(Alert, Article.title).join(Article, Article.id == Alert.article_id, isouter=True)
    if status:
        query = query.where(Alert.status == status)
    rows = []
    with store.session() as session:
        for alert, title in session.execute(query.order_by(Alert.id.desc()).limit(limit)):
            error = redact(alert.last_error) if alert.last_error else None
            rows.append({
                "id": alert.id,
                "status": alert.status,
                "subscription": alert.subscription,
                "notifier": alert.notifier,
                "target": alert.target,
                "channel": alert.notifier + (f" {alert.target}" if alert.target else ""),
                "story_id": alert.story_id,
                "article_id": alert.article_id,
                "title": title,
                "matched_terms": alert.matched_terms,
                "attempts": alert.attempts,
                "created_at": alert.created_at,
                "next_attempt_at": alert.next_attempt_at if alert.status in (outbox.PENDING, outbox.DIGEST) else None,
                "sent_at": alert.sent_at,
                "digest_key": alert.digest_key,
                "last_error": error,
                "detail": _WHERE.sub("", error) if alert.status != outbox.SENT and error else (title or ""),
            })
    return rows


def _retry(args: argparse.Namespace, ctx: Context) -> int:
    if not args.ids and not args.failed:
        print("watcher alerts retry: give alert ids or --failed", file=sys.stderr)
        return 2
    with ctx.store.session() as session:
        if args.ids:
            known = dict(session.execute(select(Alert.id, Alert.status).where(Alert.id.in_(args.ids))).all())
        count = outbox.retry(session, ids=args.ids, failed=args.failed)
    ctx.out.write(f"{count} alert{'s' if count != 1 else ''} scheduled to be sent again\n")
    problems = []
    for alert_id in args.ids:
        if alert_id not in known:
            problems.append(f"alert {alert_id}: no such alert")
        elif known[alert_id] == outbox.SENT:
            problems.append(f"alert {alert_id}: already sent, not sent again")
    for problem in problems:
        print(f"watcher alerts retry: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _send(ctx: Context) -> int:
    """Dispatch until nothing due is left (each batch is claimed, so a running daemon is not disturbed)."""
    config, store = ctx.config, ctx.store
    owner = f"cli-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    total = outbox.DispatchResult()
    batch = 50
    while True:
        result = outbox.dispatch(store, config, owner=owner, batch=batch)
        total += result
        if result.sent + result.retried + result.failed < batch:
            break
    digests = outbox.dispatch_digests(store, config, owner=owner)
    ctx.out.write(f"sent {total.sent}, retried {total.retried}, failed {total.failed}; digests sent {digests}\n")
    return 0
