"""`watcher match NAME`: dry run of one subscription over the stored articles, with the terms that fired.

Nothing is sent and nothing is written: the command shows what the subscription would alert on, so a
user can tune its keywords before enabling it. The subscription is compiled exactly as the pipeline
compiles it (watcher.matching.Matcher), its `sources` and `min_relevance` apply (against the stored
relevance score), and articles are read newest first in batches.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import func, select

from watcher.cli.context import Context, since_argument
from watcher.cli.output import Column, render
from watcher.matching import Matcher
from watcher.store.models import Article

BATCH = 500

COLUMNS = [
    Column("id", "ID", 5), Column("date", "DATE", 10), Column("source", "SOURCE", 12),
    Column("relevance", "REL", 4), Column("terms", "TERMS", 20), Column("title", "TITLE"),
]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("match", help="dry run: stored articles a subscription would match, and why")
    parser.add_argument("name", metavar="NAME", help="subscription name from the config")
    parser.add_argument("--since", type=since_argument, metavar="DATE", help="published since DATE (2024-05-01) or for a duration (30d)")
    parser.add_argument("--status", choices=("relevant", "ignored", "all"), default="relevant",
                        help="which stored articles to try (only relevant ones are ever alerted)")
    parser.add_argument("--all-copies", action="store_true", help="one row per copy instead of per story")
    parser.add_argument("--limit", type=int, default=50, help="at most this many rows (0: no limit)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    subscriptions = ctx.config.subscriptions
    subscription = next((s for s in subscriptions if s.name == args.name), None)
    if subscription is None:
        known = ", ".join(s.name for s in subscriptions) or "none defined"
        print(f"watcher match: no subscription named {args.name!r} in {ctx.config.path} (known: {known})",
              file=sys.stderr)
        return 2
    matcher = Matcher([subscription])
    rows, scanned = _matching_rows(ctx, matcher, args)
    if args.format != "table":
        render(rows, COLUMNS, args.format, ctx.out)
        return 0
    render(rows, COLUMNS, "table", ctx.out)
    kind = "" if args.status == "all" else f"{args.status} "
    limit = "; --limit reached" if args.limit and len(rows) >= args.limit else ""
    ctx.out.write(f"{len(rows)} matching for subscription {args.name!r} ({scanned} stored {kind}articles tried{limit})\n")
    return 0


def _matching_rows(ctx: Context, matcher: Matcher, args: argparse.Namespace) -> tuple[list[dict[str, Any]], int]:
    """Rows of the articles the matcher accepts, newest first, and how many articles were tried."""
    when = func.coalesce(Article.published_at, Article.fetched_at)
    stmt = select(
        Article.id, Article.source, Article.title, Article.body, Article.url, Article.published_at,
        Article.fetched_at, Article.relevance, Article.status, Article.story_id,
    ).order_by(when.desc(), Article.id.desc())
    if args.status != "all":
        stmt = stmt.where(Article.status == args.status)
    if args.since:
        stmt = stmt.where(when >= args.since)
    rows: list[dict[str, Any]] = []
    stories: set[int] = set()
    scanned = 0
    with ctx.store.session() as session:
        for article in session.execute(stmt.execution_options(yield_per=BATCH)):
            scanned += 1
            matches = matcher.match(article.title, article.body, article.source, article.relevance or 0.0)
            if not matches:
                continue
            if not args.all_copies and article.story_id is not None:
                if article.story_id in stories:
                    continue
                stories.add(article.story_id)
            rows.append(_row(article, matches[0].terms))
            if args.limit and len(rows) >= args.limit:
                break
    return rows, scanned


def _row(article: Any, terms: list[str]) -> dict[str, Any]:
    published = article.published_at or article.fetched_at
    return {
        "id": article.id, "date": published.strftime("%Y-%m-%d") if published else "",
        "source": article.source, "relevance": round(article.relevance or 0.0, 3), "terms": terms,
        "title": article.title, "url": article.url, "published_at": article.published_at,
        "status": article.status, "story_id": article.story_id,
    }
