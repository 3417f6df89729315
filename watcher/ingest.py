"""From draft articles to stored stories: identity, relevance, deduplication, storage, matching, outbox.

Both `watcher seed` and the poll cycle hand their articles here, so every article takes the same path.
One `Ingestor` per process holds what is compiled once: the relevance classifier and the subscription
matcher. The near-duplicate index lives in the store (watcher.store.bands), so it costs this process no
memory and is current across replicas.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watcher import dedupe, outbox
from watcher.clock import now
from watcher.config import Config
from watcher.matching import Matcher
from watcher.prepare import Features, features
from watcher.relevance import Classifier, Relevance
from watcher.store import bands
from watcher.store.models import Article, ArticleRevision
from watcher.store import tables
from watcher.text import fold
from watcher.urls import canonical_url

log = logging.getLogger(__name__)
_LOOKUP_CHUNK = 400  # keeps IN (...) lists well under SQLite's bound-parameter limit


@dataclass
class Draft:
    """An article as a source (or a seed file) delivers it, before it is stored."""

    source: str
    guid: str
    title: str
    body: str
    url: str | None = None
    origin: str = "feed"  # feed | html | seed
    canonical_url: str | None = None  # the page's rel=canonical when known; else derived from url
    summary: str | None = None
    author: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    entry_hash: str | None = None  # the listing entry's hash (see Article.entry_hash)
    features: Features | None = None  # of (title, body), when already computed (watcher.prepare)

    def canonical(self) -> str | None:
        return canonical_url(self.canonical_url or self.url) if (self.canonical_url or self.url) else None


@dataclass
class IngestResult:
    new: int = 0  # stored articles that started a new story
    copies: int = 0  # stored articles that joined an existing story (exact or near duplicate)
    updated: int = 0  # corrections of already stored articles
    unchanged: int = 0  # already stored, nothing new
    ignored: int = 0  # stored as not about cooperation
    alerts: int = 0  # outbox rows created
    article_ids: list[int] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        for name in ("new", "copies", "updated", "unchanged", "ignored", "alerts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.article_ids += other.article_ids


class Ingestor:
    """Compiled per-process state plus the `ingest` step itself."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.classifier = Classifier.from_config(config.relevance, base_dir=config.path.parent)
        self.matcher = Matcher(config.subscriptions)

    def reload(self, config: Config) -> None:
        """Recompile lexicons and subscriptions after a config reload."""
        self.config = config
        self.classifier = Classifier.from_config(config.relevance, base_dir=config.path.parent)
        self.matcher = Matcher(config.subscriptions)

    def ingest(self, session: Session, drafts: Sequence[Draft], *, silent: bool = False) -> IngestResult:
        """Store `drafts` in the caller's transaction; `silent` stores without alerting (flood guard).

        New articles are decided one by one (a story can start and gain a copy within one batch),
        then written together: one multi-row INSERT per table for the whole batch, not two flushes per
        article. If another process stored one of them meanwhile (a unique key fails), they are stored
        one at a time.
        """
        result = IngestResult()
        canonicals = [draft.canonical() for draft in drafts]  # once: URL canonicalisation is not cheap
        known = _existing(session, drafts, canonicals)
        batch = _Batch()
        new: list[tuple[Draft, str | None]] = []
        for draft, canonical in zip(drafts, canonicals):
            existing = known.get(("guid", draft.source, draft.guid)) or (canonical and known.get(("url", canonical)))
            if existing is not None:
                _apply_correction(session, existing, draft, result)
            elif batch.seen(draft, canonical):
                result.unchanged += 1
            else:
                new.append((draft, canonical))
        self._plan(session, batch, new)
        if not batch.items:
            return result
        try:
            with session.begin_nested():
                ids = batch.write(session)
        except IntegrityError:  # another process stored some of these a moment ago
            if len(batch.items) == 1:
                result.unchanged += 1
                return result
            for item in batch.items:
                result.add(self.ingest(session, [item.draft], silent=silent))
            return result
        matched: list[outbox.Matched] = []
        for item, (article_id, story_id) in zip(batch.items, ids):
            self._stored(item, article_id, story_id, result)
            if item.relevance.relevant and not silent:  # silent: no alert, so no matching either
                matches = self.matcher.match_document(item.docs[0] + item.docs[1], item.draft.source,
                                                      item.relevance.score)
                if matches:
                    matched.append(outbox.Matched(story_id, article_id, item.draft.published_at, matches))
        result.alerts += outbox.enqueue_many(session, matched, self.config)
        return result

    def _plan(self, session: Session, batch: _Batch, new: Sequence[tuple[Draft, str | None]]) -> None:
        """Classify and fingerprint new articles and decide their stories (stored, or new in this batch)."""
        found = [draft.features or features(draft.title, draft.body) for draft, _ in new]
        stored = bands.find(session, [(f.content_hash, f.signature, draft.published_at)
                                      for (draft, _), f in zip(new, found)])
        for (draft, canonical), f, duplicate in zip(new, found, stored):
            batch.add(_Planned(draft, canonical, f.docs, self.classifier.classify_tokens(*f.docs), f.content_hash,
                               f.signature, duplicate.story_id if duplicate else None,
                               duplicate.kind if duplicate else None))

    def _stored(self, item: _Planned, article_id: int, story_id: int, result: IngestResult) -> None:
        if item.first_of_story:
            result.new += 1
        else:
            result.copies += 1
            log.info("article.duplicate", extra={"article": article_id, "story": story_id, "kind": item.kind})
        result.ignored += not item.relevance.relevant
        result.article_ids.append(article_id)
        log.info("article.stored", extra={"article": article_id, "source": item.draft.source,
                                          "status": _status(item.relevance)})


@dataclass
class _Planned:
    """A new article, decided but not yet written."""

    draft: Draft
    canonical: str | None
    docs: tuple[str, str]
    relevance: Relevance
    content_hash: str
    signature: bytes
    story_id: int | None  # an already stored story it joins, or None: a story new in this batch
    kind: str | None  # "exact" | "near" when it joins a story
    batch_story: int = -1  # with story_id None: which of the batch's new stories
    first_of_story: bool = False


@dataclass
class _Batch:
    """New articles of one ingest call, with a small index of the stories they start among themselves."""

    items: list[_Planned] = field(default_factory=list)
    stories: list[dict[str, Any]] = field(default_factory=list)  # rows of the stories table
    keys: set[tuple[str, ...]] = field(default_factory=set)
    index: dedupe.StoryIndex = field(default_factory=dedupe.StoryIndex)

    def seen(self, draft: Draft, canonical: str | None) -> bool:
        """True when this batch already holds the same item (same guid, or same canonical URL)."""
        keys = {("guid", draft.source, draft.guid)} | ({("url", canonical)} if canonical else set())
        if keys & self.keys:
            return True
        self.keys |= keys
        return False

    def add(self, item: _Planned) -> None:
        draft = item.draft
        if item.story_id is None:
            duplicate = self.index.find(item.content_hash, item.signature, draft.published_at)
            if duplicate is not None:
                item.batch_story, item.kind = duplicate.story_id, duplicate.kind
            else:
                item.batch_story, item.first_of_story = len(self.stories), True
                # The agreement is extracted later, off the poll path (agreements.refresh: a daemon job, and
                # before `watcher stories` reads): it costs about as much as the rest of ingest together.
                self.stories.append({"title": draft.title, "created_at": now(), "published_at": draft.published_at})
            self.index.add(len(self.items), item.batch_story, item.content_hash, item.signature, draft.published_at)
        self.items.append(item)

    def write(self, session: Session) -> list[tuple[int, int]]:
        """Insert the batch's stories, then its articles and their band keys, then point each story at
        its first article; returns (article id, story id) per item.

        Core multi-row INSERTs, not the ORM: its flushes of Story and Article objects cost more than the
        database's own work (~0.4 ms per article). Nothing reads the articles back as objects.
        """
        session.flush()  # pending corrections go first, inside the caller's savepoint, as before
        conn = session.connection()
        story_ids = _insert_stories(conn, self.stories)
        stories = [item.story_id if item.story_id is not None else story_ids[item.batch_story] for item in self.items]
        article_ids = _insert_articles(conn, [_article(item, story) for item, story in zip(self.items, stories)])
        bands.add(session, [(article_id, item.signature) for item, article_id in zip(self.items, article_ids)])
        representatives = [{"story": stories[i], "article": article_ids[i]}
                           for i, item in enumerate(self.items) if item.first_of_story]
        if representatives:
            conn.execute(_SET_REPRESENTATIVE, representatives)
        return list(zip(article_ids, stories))


_SET_REPRESENTATIVE = (update(tables.stories).where(tables.stories.c.id == bindparam("story"))
                       .values(representative_id=bindparam("article")))


def _insert_stories(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Ids of the inserted stories, in the order of `rows`.

    RETURNING order is not guaranteed (SQLAlchemy's ordered form falls back to one INSERT per row on
    SQLite), so each row is tagged: representative_id holds -1 - its position until write() sets it.
    """
    if not rows:
        return []
    tagged = [{**row, "representative_id": -1 - i} for i, row in enumerate(rows)]
    ids = [0] * len(rows)
    table = tables.stories
    for story_id, tag in conn.execute(insert(table).returning(table.c.id, table.c.representative_id), tagged):
        ids[-1 - tag] = story_id
    return ids


def _insert_articles(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Ids of the inserted articles, in the order of `rows`: matched back by their unique (source, guid)."""
    table = tables.articles
    returned = conn.execute(insert(table).returning(table.c.id, table.c.source, table.c.guid), rows)
    ids = {(source, guid): article_id for article_id, source, guid in returned}
    return [ids[row["source"], row["guid"]] for row in rows]


def _status(relevance: Relevance) -> str:
    return "relevant" if relevance.relevant else "ignored"


def _article(item: _Planned, story_id: int) -> dict[str, Any]:
    """The articles row of a new article."""
    draft, relevance = item.draft, item.relevance
    return {
        "source": draft.source, "origin": draft.origin, "url": draft.url, "canonical_url": item.canonical,
        "guid": draft.guid, "title": draft.title, "body": draft.body, "summary": draft.summary,
        "author": draft.author, "language": draft.language, "published_at": draft.published_at,
        "fetched_at": now(), "updated_at": None, "revision": 0, "content_hash": item.content_hash,
        "signature": item.signature, "entry_hash": draft.entry_hash, "relevance": relevance.score,
        "relevance_terms": list(relevance.terms), "status": _status(relevance), "story_id": story_id,
    }


def _existing(session: Session, drafts: Sequence[Draft],
              canonicals: Sequence[str | None]) -> dict[tuple[str, ...], Article]:
    """Already stored articles among `drafts` (whose canonical URLs are `canonicals`), keyed by
    ("guid", source, guid) and ("url", canonical)."""
    found: dict[tuple[str, ...], Article] = {}
    for start in range(0, len(drafts), _LOOKUP_CHUNK):
        end = start + _LOOKUP_CHUNK
        for article in session.scalars(select(Article).where(or_(*_identity_clauses(drafts[start:end],
                                                                                    canonicals[start:end])))):
            found[("guid", article.source, article.guid)] = article
            if article.canonical_url:
                found[("url", article.canonical_url)] = article
    return found


def _identity_clauses(drafts: Sequence[Draft], canonicals: Sequence[str | None]) -> list[ColumnElement[bool]]:
    """(source = s AND guid IN (...)) per source, and canonical_url IN (...): each term is an index search
    (unique (source, guid), unique canonical_url). A bare `guid IN (...)` scanned the whole table."""
    guids: dict[str, list[str]] = {}
    for draft in drafts:
        guids.setdefault(draft.source, []).append(draft.guid)
    clauses = [and_(Article.source == source, Article.guid.in_(values)) for source, values in guids.items()]
    urls = [c for c in canonicals if c]
    return clauses + ([Article.canonical_url.in_(urls)] if urls else [])


def _apply_correction(session: Session, article: Article, draft: Draft, result: IngestResult) -> None:
    """Same item seen again: a changed title or body is a correction (recorded, never re-alerted)."""
    if draft.entry_hash:  # remember what the source delivered, so an unchanged entry is not re-read
        article.entry_hash = draft.entry_hash
    same = fold(article.title) == fold(draft.title) and fold(article.body) == fold(draft.body)
    if same or not draft.body.strip():  # no body: a listing re-seen without its page, nothing to compare
        result.unchanged += 1
        return
    session.add(ArticleRevision(article_id=article.id, changed_at=now(), old_title=article.title, old_body=article.body))
    article.title, article.body = draft.title, draft.body
    if article.story is not None and article.story.representative_id == article.id:
        article.story.title = draft.title
        article.story.agreement = None  # read again from the corrected text by agreements.refresh
    old_signature = article.signature
    article.content_hash = dedupe.fingerprint(draft.title, draft.body)
    article.signature = dedupe.signature(draft.title, draft.body)
    article.updated_at = now()
    article.revision += 1
    if article.story_id is not None:  # the corrected text replaces the old one in the index
        bands.replace(session, article.id, old_signature, article.signature)
    result.updated += 1
    log.info("article.corrected", extra={"article": article.id, "source": article.source, "revision": article.revision})
