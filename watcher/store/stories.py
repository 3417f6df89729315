"""Queries on stories for `watcher stories` and the web view: filtered listing, one story with every copy,
a subscription's matched stories (its Atom feed) and the agreements export.

A story is listed when its representative (first copy, the one its agreement is extracted from) is
relevant, newest first (publication date, else the day it was stored). Filters run in SQL where the schema allows it:

- `source`, `subscription` (stories the subscription alerted on, from the `alerts` table), `since`: SQL.
- `party`, `domain`: the agreement is a JSON column, queried the same way on SQLite and PostgreSQL by a
  LIKE on its text (the JSON-quoted name, as the JSON serialiser writes it), then confirmed in Python on
  the parsed list, so "Niger" never matches "Nigeria" and a summary quoting a name matches nothing.
- `search`: accent- and case-insensitive words and phrases (`watcher.matching.Query`, the rules of
  `watcher articles --match`) over the story's title, its representative's body and the agreement's
  summary. Folding has no SQL equivalent on both backends, so it runs in Python on the rows the SQL
  filters let through, newest first, and stops as soon as the page is full. A search for something rare
  would read every story; it reads at most `SEARCH_SCAN` stories (about 2 s of tokenising) and then says
  so (`Page.truncated`), so that narrowing the search (`since`, a party, a source) is the user's call
  rather than a hung page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Select, Text, cast, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from watcher.matching import Query
from watcher.store.models import Alert, Article, Story

# The columns of a story as exported (`to_dict`), in order.
EXPORT_FIELDS = ("id", "date", "title", "published_at", "url", "source", "sources", "copies", "parties",
                 "party_kinds", "instrument", "domains", "signed_on", "summary")
SEARCH_SCAN = 5000  # stories read by one search at most (each costs ~0.5 ms of tokenising per 3 KB)
_CHUNK = 200  # rows fetched (and bodies loaded) at a time when Python has to filter


@dataclass
class StoryFilter:
    """What to list. `party` and `domain` are canonical (see `watcher.agreements.resolve_party`)."""

    party: str | None = None
    domain: str | None = None
    sources: Sequence[str] = ()
    subscription: str | None = None
    search: str | None = None  # a `watcher.matching.Query`; raises TermError when it has no terms
    since: datetime | None = None
    limit: int | None = 50  # None: no limit (exports)
    offset: int = 0
    with_agreement: bool = False  # only stories whose agreement has been extracted


@dataclass
class StoryRow:
    """One story as listed: its title, dates, agreement, representative link and copies."""

    id: int
    title: str
    published_at: datetime | None
    created_at: datetime
    agreement: dict[str, Any] | None
    url: str | None  # the representative copy's URL
    source: str | None  # the representative copy's source
    guid: str | None  # the representative copy's guid: with its source, the story's lasting identity
    copies: int = 1
    sources: list[str] = field(default_factory=list)

    @property
    def date(self) -> datetime:
        return self.published_at or self.created_at

    @property
    def parties(self) -> list[str]:
        return list((self.agreement or {}).get("parties") or [])

    @property
    def domains(self) -> list[str]:
        return list((self.agreement or {}).get("domains") or [])

    @property
    def instrument(self) -> str | None:
        return (self.agreement or {}).get("instrument")

    def to_dict(self) -> dict[str, Any]:
        """The story as a JSON/CSV row (`watcher stories`, the web view's agreements export)."""
        agreement = self.agreement or {}
        return {
            "id": self.id, "date": self.date.strftime("%Y-%m-%d"), "title": self.title,
            "published_at": self.published_at, "url": self.url, "source": self.source, "sources": self.sources,
            "copies": self.copies, "parties": self.parties, "party_kinds": agreement.get("party_kinds") or {},
            "instrument": self.instrument, "domains": self.domains, "signed_on": agreement.get("signed_on"),
            "summary": agreement.get("summary"),
        }


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A `to_dict` row for CSV and tables: lists joined with "; " (party names may hold commas)."""
    out = dict(row)
    for key in ("sources", "parties", "domains"):
        out[key] = "; ".join(row[key])
    out["party_kinds"] = "; ".join(f"{name}={kind}" for name, kind in row["party_kinds"].items())
    return out


@dataclass
class Page:
    rows: list[StoryRow]
    has_more: bool  # another page follows
    truncated: bool = False  # a search stopped after SEARCH_SCAN stories without filling the page
    scanned: int = 0  # stories read by a Python-side filter


@dataclass
class StoryDetail:
    story: StoryRow
    copies: list[Article]  # every stored copy, first stored first
    subscriptions: list[str]  # subscriptions that alerted on it


@dataclass
class FeedEntry:
    story: StoryRow
    matched_at: datetime  # when the subscription first matched it
    terms: list[str]


# ---- listing -------------------------------------------------------------------------------------

def _when() -> Any:
    return func.coalesce(Story.published_at, Story.created_at)


def _json_contains(value: str) -> Any:
    """The agreement's JSON text contains `value` as a JSON string (either escaping of non-ASCII)."""
    text = cast(Story.agreement, Text)
    quoted = {json.dumps(value), json.dumps(value, ensure_ascii=False)}
    return or_(*(text.contains(q, autoescape=True) for q in quoted))


def _select(f: StoryFilter, *, ids_only: bool = False) -> Select[Any]:
    """The SQL half of `f`, newest first: story ids only (cheap to sort), or whole rows."""
    rep = aliased(Article)
    stmt = (select(Story.id) if ids_only else select(*_columns(rep)))
    stmt = (stmt.join(rep, rep.id == Story.representative_id)
            .where(rep.status == "relevant")
            .order_by(_when().desc(), Story.id.desc()))
    if f.since is not None:
        stmt = stmt.where(_when() >= f.since)
    if f.sources:
        stmt = stmt.where(exists().where(Article.story_id == Story.id, Article.source.in_(list(f.sources))))
    if f.subscription:
        stmt = stmt.where(Story.id.in_(select(Alert.story_id).where(Alert.subscription == f.subscription)))
    if f.with_agreement:
        # A JSON column stores Python None as JSON null unless told otherwise: test both.
        stmt = stmt.where(Story.agreement.is_not(None), cast(Story.agreement, Text) != "null")
    if f.party:
        stmt = stmt.where(_json_contains(f.party))
    if f.domain:
        stmt = stmt.where(_json_contains(f.domain))
    return stmt


def _columns(rep: Any) -> list[Any]:
    return [Story.id, Story.title, Story.published_at, Story.created_at, Story.agreement, rep.url, rep.source, rep.guid]


def _rows(session: Session, ids: list[int]) -> list[StoryRow]:
    """Whole rows of the stories `ids`, in that order."""
    rep = aliased(Article)
    found: dict[int, StoryRow] = {}
    for start in range(0, len(ids), 500):
        stmt = (select(*_columns(rep)).outerjoin(rep, rep.id == Story.representative_id)
                .where(Story.id.in_(ids[start:start + 500])))
        found.update((row.id, row) for row in map(_row, session.execute(stmt)))
    return [found[i] for i in ids if i in found]


def _row(values: Any) -> StoryRow:
    story_id, title, published_at, created_at, agreement, url, source, guid = values[:8]
    return StoryRow(story_id, title or "", published_at, created_at, _as_dict(agreement), url, source, guid)


def _as_dict(agreement: Any) -> dict[str, Any] | None:
    if isinstance(agreement, str):  # a JSON column read through a plain text cast
        agreement = json.loads(agreement)
    return agreement if isinstance(agreement, dict) and agreement else None


def _confirm(row: StoryRow, f: StoryFilter) -> bool:
    """The exact test behind the SQL prefilter on the agreement's JSON text."""
    if f.party and f.party not in row.parties:
        return False
    if f.domain and f.domain not in row.domains:
        return False
    return True


def _bodies(session: Session, story_ids: list[int]) -> dict[int, str]:
    """The representative's body of each story."""
    rows = session.execute(select(Story.id, Article.body).join(Article, Article.id == Story.representative_id)
                           .where(Story.id.in_(story_ids)))
    return {story_id: body or "" for story_id, body in rows}


def _searched(session: Session, rows: list[StoryRow], query: Query) -> list[StoryRow]:
    bodies = _bodies(session, [r.id for r in rows])
    return [r for r in rows if query.matches(r.title, bodies.get(r.id, ""), (r.agreement or {}).get("summary") or "")]


def iter_stories(session: Session, f: StoryFilter) -> Iterator[StoryRow]:
    """Every story passing `f`, newest first, without copies filled in (offset and limit ignored)."""
    yield from _scan(session, f, Query(f.search) if f.search else None, None)


def _scan(session: Session, f: StoryFilter, query: Query | None, budget: list[int] | None) -> Iterator[StoryRow]:
    """Rows of the SQL query that pass the Python-side filters; `budget[0]` counts down stories read."""
    result = session.execute(_select(f).execution_options(yield_per=_CHUNK))
    for chunk in result.partitions(_CHUNK):
        rows = [r for r in map(_row, chunk) if _confirm(r, f)]
        if budget is not None:
            rows = rows[:budget[0]]
            budget[0] -= len(rows)
        if query is not None and rows:
            rows = _searched(session, rows, query)
        yield from rows
        if budget is not None and budget[0] <= 0:
            return


def list_stories(session: Session, f: StoryFilter) -> Page:
    """One page of stories passing `f`, with their copies and sources."""
    query = Query(f.search) if f.search else None
    wanted = f.offset + (f.limit or 0) + 1 if f.limit else None
    if query is None and not (f.party or f.domain):
        # Sort ids alone, then read the page's rows: at 100k stories that halves the time.
        stmt = _select(f, ids_only=True).offset(f.offset)
        stmt = stmt.limit(f.limit + 1) if f.limit else stmt
        rows = _rows(session, list(session.scalars(stmt)))
        page = Page(rows[:f.limit] if f.limit else rows, has_more=bool(f.limit) and len(rows) > (f.limit or 0))
    else:
        budget = [SEARCH_SCAN] if query is not None else None
        found: list[StoryRow] = []
        for row in _scan(session, f, query, budget):
            found.append(row)
            if wanted is not None and len(found) >= wanted:
                break
        rows = found[f.offset:]
        truncated = budget is not None and budget[0] <= 0 and (wanted is None or len(found) < wanted)
        page = Page(rows[:f.limit] if f.limit else rows, has_more=bool(f.limit) and len(rows) > (f.limit or 0),
                    truncated=truncated, scanned=SEARCH_SCAN - budget[0] if budget else 0)
    fill_copies(session, page.rows)
    return page


def fill_copies(session: Session, rows: list[StoryRow]) -> None:
    """Set each row's number of copies and their sources (first stored first)."""
    by_id = {r.id: r for r in rows}
    for start in range(0, len(rows), 500):
        ids = list(by_id)[start:start + 500]
        seen: dict[int, list[str]] = {i: [] for i in ids}
        counts: dict[int, int] = {i: 0 for i in ids}
        for story_id, source in session.execute(select(Article.story_id, Article.source)
                                                .where(Article.story_id.in_(ids)).order_by(Article.id)):
            counts[story_id] += 1
            if source not in seen[story_id]:
                seen[story_id].append(source)
        for story_id in ids:
            by_id[story_id].copies = counts[story_id] or 1
            by_id[story_id].sources = seen[story_id] or [s for s in [by_id[story_id].source] if s]


# ---- one story -----------------------------------------------------------------------------------

def get_story(session: Session, story_id: int) -> StoryDetail | None:
    """The story with every stored copy and the subscriptions that alerted on it; None if unknown."""
    rep = aliased(Article)
    values = session.execute(
        select(*_columns(rep)).outerjoin(rep, rep.id == Story.representative_id).where(Story.id == story_id)).first()
    if values is None:
        return None
    row = _row(values)
    copies = list(session.scalars(select(Article).where(Article.story_id == story_id).order_by(Article.id)))
    row.copies = len(copies) or 1
    row.sources = list(dict.fromkeys(a.source for a in copies))
    subscriptions = list(session.scalars(select(Alert.subscription).where(Alert.story_id == story_id)
                                         .distinct().order_by(Alert.subscription)))
    return StoryDetail(row, copies, subscriptions)


# ---- a subscription's feed ------------------------------------------------------------------------

def subscription_entries(session: Session, subscription: str, limit: int = 50) -> list[FeedEntry]:
    """The stories `subscription` alerted on (the outbox keeps one row per notifier and target: the
    earliest stands for the match), most recently matched first."""
    first = (select(Alert.story_id, func.min(Alert.created_at).label("matched_at"), func.min(Alert.id).label("alert_id"))
             .where(Alert.subscription == subscription).group_by(Alert.story_id).subquery())
    rep = aliased(Article)
    stmt = (select(*_columns(rep), first.c.matched_at, Alert.matched_terms)
            .join(first, first.c.story_id == Story.id)
            .join(Alert, Alert.id == first.c.alert_id)
            .outerjoin(rep, rep.id == Story.representative_id)
            .order_by(first.c.matched_at.desc(), Story.id.desc()).limit(limit))
    entries = []
    for values in session.execute(stmt):
        entries.append(FeedEntry(_row(values), _aware(values[8]), list(values[9] or [])))
    fill_copies(session, [e.story for e in entries])
    return entries


def _aware(value: Any) -> datetime:
    # min() over a UTCDateTime column comes back without the type's conversion on some backends.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def resolve_filters(party: str | None, domain: str | None) -> tuple[str | None, str | None, list[str]]:
    """(canonical party, domain id, notes): a spelling the gazetteer does not know is kept as written."""
    from watcher import agreements

    notes = []
    party_name = agreements.resolve_party(party) if party else None
    if party and party_name is None:
        notes.append(f"party {party!r} is not in the gazetteer; matching the name as written")
    domain_id = agreements.resolve_domain(domain) if domain else None
    if domain and domain_id is None:
        notes.append(f"domain {domain!r} is unknown; matching it as written")
    return party_name or party, domain_id or domain, notes
