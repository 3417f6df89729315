"""The HTML pages: `/` (stories, filters, pages), `/stories/<id>` (every copy, the agreement), `/sources`.

Filters come from a GET form: `party` and `domain` as the user spells them (resolved through the
gazetteer), `source`, `subscription`, `q` (accent-insensitive words), `since` (a date or a duration),
`page`. A filter that cannot be understood is shown on the page with a 400, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from watcher.config import Config, parse_since
from watcher.http import Request, Response
from watcher.matching import TermError
from watcher.store import Store
from watcher.store import sources as source_store
from watcher.store import stories as story_store
from watcher.store.models import Article, Source
from watcher.store.stories import StoryFilter
from watcher.web.render import not_found, page, param, query_string

PER_PAGE = 30
FILTERS = ("party", "domain", "source", "subscription", "q", "since")


@dataclass
class Filters:
    """The form as submitted, what it resolved to, and what could not be understood."""

    values: dict[str, str]
    query: StoryFilter
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_filters(request: Request, *, limit: int | None, page_number: int = 1) -> Filters:
    """The filters of `request` as a StoryFilter (party and domain resolved, since parsed)."""
    values = {name: param(request, name) for name in FILTERS}
    party, domain, notes = story_store.resolve_filters(values["party"] or None, values["domain"] or None)
    errors: list[str] = []
    since: datetime | None = None
    if values["since"]:
        try:
            since = parse_since(values["since"])
        except ValueError as exc:
            errors.append(f"since: {exc}")
    offset = (page_number - 1) * limit if limit else 0
    query = StoryFilter(party=party, domain=domain, sources=[values["source"]] if values["source"] else (),
                        subscription=values["subscription"] or None, search=values["q"] or None, since=since,
                        limit=limit, offset=offset)
    return Filters(values, query, notes, errors)


def _page_number(request: Request) -> int:
    text = param(request, "page")
    return int(text) if text.isdigit() and 0 < int(text) < 100000 else 1


class Pages:
    """Page handlers over one store; `config()` is the daemon's current configuration."""

    def __init__(self, store: Store, config: Callable[[], Config]) -> None:
        self.store = store
        self.config = config

    def index(self, request: Request) -> Response:
        number = _page_number(request)
        filters = read_filters(request, limit=PER_PAGE, page_number=number)
        result = None
        if not filters.errors:
            try:
                with self.store.session() as session:
                    result = story_store.list_stories(session, filters.query)
            except TermError as exc:
                filters.errors.append(f"q: {exc}")
        with self.store.session() as session:
            sources = list(session.scalars(select(Source.name).order_by(Source.name)))
        kept = {k: v for k, v in filters.values.items() if v}
        links = {
            "previous": "/" + query_string({**kept, "page": number - 1 if number > 2 else ""}) if number > 1 else None,
            "next": "/" + query_string({**kept, "page": number + 1}) if result and result.has_more else None,
        }
        from watcher import agreements

        return page("stories.html.j2", 400 if filters.errors else 200, title="Actualités", filters=filters,
                    domains=agreements.domains(),
                    result=result, sources=sources, subscriptions=[s.name for s in self.config().subscriptions],
                    links=links, number=number, export=query_string(kept), scan=story_store.SEARCH_SCAN)

    def story(self, request: Request) -> Response:
        ident = request.path.rstrip("/").rpartition("/")[2]
        if not ident.isdigit():
            return not_found(f"aucune histoire à l'adresse {request.path}")
        with self.store.session() as session:
            detail = story_store.get_story(session, int(ident))
        if detail is None:
            return not_found(f"aucune histoire n° {ident}")
        return page("story.html.j2", title=detail.story.title or f"Histoire {ident}", detail=detail)

    def sources(self, _request: Request) -> Response:
        configured = {s.name for s in self.config().sources}
        with self.store.session() as session:
            rows = source_store.health(session)
            counts = dict(session.execute(select(Article.source, func.count()).group_by(Article.source)).all())
        shown = [_source(row, row.name in configured, counts.get(row.name, 0)) for row in rows]
        shown.sort(key=lambda r: (r["state"] == "removed", r["name"]))
        failing = [r["name"] for r in shown if r["state"] == "failing"]
        return page("sources.html.j2", title="Sources", sources=shown, failing=failing)


def _source(row: Source, configured: bool, articles: int) -> dict[str, Any]:
    return {"name": row.name, "kind": row.kind, "url": row.url, "state": source_store.state(row, configured),
            "last_success": row.last_success_at, "last_polled": row.last_polled_at,
            "failures": row.consecutive_failures, "articles": articles,
            "error": source_store.short_error(row.last_error, row.url) if row.consecutive_failures else None,
            "next_poll": row.next_poll_at if row.enabled and configured else None}
