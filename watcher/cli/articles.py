"""`watcher articles`: list stored articles, one row per story (or every copy), as table, JSON or CSV."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from itertools import islice
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, defer

from watcher.cli.context import Context, since_argument
from watcher.cli.output import Column, render
from watcher.matching import Query
from watcher.store.models import Article

COLUMNS = [
    Column("id", "ID", 5), Column("date", "DATE", 10), Column("source", "SOURCE", 16),
    Column("relevance", "REL", 4), Column("copies", "CP", 2), Column("title", "TITLE"),
]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("articles", help="list stored articles (one row per story)")
    parser.add_argument("--since", type=since_argument, metavar="DATE", help="published since DATE (2024-05-01) or for a duration (7d)")
    parser.add_argument("--source", action="append", metavar="NAME", help="only from this source (repeatable)")
    parser.add_argument("--match", metavar="TEXT", help="words that must appear (case- and accent-insensitive)")
    parser.add_argument("--status", choices=("relevant", "ignored", "all"), default="relevant")
    parser.add_argument("--limit", type=int, default=50, help="at most this many rows (0: no limit)")
    parser.add_argument("--all-copies", action="store_true", help="one row per copy instead of per story")
    parser.add_argument("--full", action="store_true", help="include the body")
    parser.add_argument("--explain", action="store_true", help="show the relevance score and the terms that fired")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(func=run)


def _query(args: argparse.Namespace) -> Select[tuple[Article]]:
    when = func.coalesce(Article.published_at, Article.fetched_at)
    stmt = select(Article).order_by(when.desc(), Article.id.desc())
    if args.status != "all":
        stmt = stmt.where(Article.status == args.status)
    if args.since:
        stmt = stmt.where(when >= args.since)
    if args.source:
        stmt = stmt.where(Article.source.in_(args.source))
    return stmt


def _copies(session: Session, story_ids: set[int]) -> dict[int, tuple[int, list[str]]]:
    """Per story: how many stored copies, and from which sources."""
    rows = session.execute(
        select(Article.story_id, Article.source).where(Article.story_id.in_(story_ids)).order_by(Article.id)
    ).all()
    copies: dict[int, tuple[int, list[str]]] = {}
    for story_id, source in rows:
        count, sources = copies.get(story_id, (0, []))
        copies[story_id] = (count + 1, sources if source in sources else sources + [source])
    return copies


def _passing(session: Session, stmt: Select[tuple[Article]], args: argparse.Namespace) -> Iterator[Article]:
    """Rows of `stmt` that also pass --match; bodies are loaded only when something reads them."""
    query = Query(args.match) if args.match else None
    if not (query or args.full):
        stmt = stmt.options(defer(Article.body))
    for article in session.scalars(stmt.execution_options(yield_per=500)):
        if query is None or query.matches(article.title, article.body):
            yield article


def select_articles(session: Session, args: argparse.Namespace) -> list[Article]:
    """Articles that pass the filters, newest first; per story, its first copy unless --all-copies.

    Stories are chosen by their newest passing copy (a story republished today surfaces), and each is
    shown by its earliest passing copy: the story's representative, as the first site reported it.
    """
    newest_first = _query(args)
    if args.all_copies:
        return list(islice(_passing(session, newest_first, args), args.limit or None))
    story_ids: list[int] = []
    for article in _passing(session, newest_first, args):
        if article.story_id not in story_ids:
            story_ids.append(article.story_id)  # type: ignore[arg-type]  # every stored article has a story
            if args.limit and len(story_ids) >= args.limit:
                break
    earliest: dict[int, Article] = {}
    for chunk in range(0, len(story_ids), 400):
        stmt = _query(args).where(Article.story_id.in_(story_ids[chunk:chunk + 400])).order_by(None).order_by(Article.id)
        for article in _passing(session, stmt, args):
            earliest.setdefault(article.story_id, article)  # type: ignore[arg-type]
    rows = list(earliest.values())
    rows.sort(key=lambda a: (a.published_at or a.fetched_at, a.id), reverse=True)
    return rows


def to_row(article: Article, copies: tuple[int, list[str]], args: argparse.Namespace) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": article.id, "url": article.url, "canonical_url": article.canonical_url, "source": article.source,
        "title": article.title, "published_at": article.published_at, "fetched_at": article.fetched_at,
        "relevance": round(article.relevance, 3), "story_id": article.story_id, "status": article.status,
        "copies": copies[0], "sources": copies[1],
    }
    if args.explain:
        row["relevance_terms"] = list(article.relevance_terms or [])
    if args.full:
        row["body"] = article.body
    return row


def run(args: argparse.Namespace, ctx: Context) -> int:
    with ctx.store.session() as session:
        articles = select_articles(session, args)
        copies = _copies(session, {a.story_id for a in articles if a.story_id is not None})
        rows = [to_row(a, copies.get(a.story_id or -1, (1, [a.source])), args) for a in articles]
    if args.format != "table":
        render(rows, COLUMNS, args.format, ctx.out)
        return 0
    for row in rows:
        row["date"] = (row["published_at"] or row["fetched_at"]).strftime("%Y-%m-%d")
    render(rows, COLUMNS, "table", ctx.out)
    if args.explain or args.full:
        _details(rows, args, ctx)
    return 0


def _details(rows: list[dict[str, Any]], args: argparse.Namespace, ctx: Context) -> None:
    for row in rows:
        ctx.out.write(f"\n#{row['id']} {row['title']}\n  {row['url'] or '(no URL)'}  sources: {', '.join(row['sources'])}\n")
        if args.explain:
            terms = ", ".join(row["relevance_terms"]) or "none"
            ctx.out.write(f"  relevance {row['relevance']:.2f} ({row['status']}): {terms}\n")
        if args.full:
            ctx.out.write("\n".join("  " + line for line in row["body"].splitlines()) + "\n")
