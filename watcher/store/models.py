"""ORM classes over the tables of watcher.store.tables (where the schema and its comments live).

The code that works with objects (ingest, outbox, stories, the CLI and web view) uses these; the
annotations are for readers and type checkers, the columns come from `__table__`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from watcher.store import tables
from watcher.store.tables import UTCDateTime

__all__ = ["Alert", "Article", "ArticleBand", "ArticleRevision", "Base", "HttpCache", "Lock", "Source", "Story",
           "UTCDateTime"]


class Base(DeclarativeBase):
    metadata = tables.metadata


class Source(Base):
    """A configured source and its polling state (the schedule lives here, not in memory)."""

    __table__ = tables.sources

    id: Mapped[int]
    name: Mapped[str]
    kind: Mapped[str]
    url: Mapped[str]
    created_at: Mapped[datetime]
    enabled: Mapped[bool]
    next_poll_at: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    first_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    last_error_at: Mapped[datetime | None]
    last_error_kind: Mapped[str | None]
    consecutive_failures: Mapped[int]
    last_status: Mapped[str | None]
    lease_owner: Mapped[str | None]
    lease_expires_at: Mapped[datetime | None]


class HttpCache(Base):
    """Conditional-GET validators per URL (ETag, Last-Modified), so unchanged pages cost a 304."""

    __table__ = tables.http_cache

    url: Mapped[str]
    etag: Mapped[str | None]
    last_modified: Mapped[str | None]
    body_digest: Mapped[str | None]
    entries: Mapped[int | None]
    updated_at: Mapped[datetime]


class Story(Base):
    """One story, however many sources carry it; its first article is the representative."""

    __table__ = tables.stories

    id: Mapped[int]
    representative_id: Mapped[int | None]
    title: Mapped[str]
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    agreement: Mapped[dict[str, Any] | None]

    articles: Mapped[list[Article]] = relationship(back_populates="story", order_by="Article.id")


class Article(Base):
    __table__ = tables.articles

    id: Mapped[int]
    source: Mapped[str]
    origin: Mapped[str]
    url: Mapped[str | None]
    canonical_url: Mapped[str | None]
    guid: Mapped[str]
    title: Mapped[str]
    body: Mapped[str]
    summary: Mapped[str | None]
    author: Mapped[str | None]
    language: Mapped[str | None]
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    revision: Mapped[int]
    content_hash: Mapped[str]
    entry_hash: Mapped[str | None]
    signature: Mapped[bytes | None]
    relevance: Mapped[float]
    relevance_terms: Mapped[list[Any]]
    status: Mapped[str]
    story_id: Mapped[int | None]

    story: Mapped[Story | None] = relationship(back_populates="articles")


class ArticleBand(Base):
    """The near-duplicate index: one row per LSH band key of an article's signature (store/bands.py)."""

    __table__ = tables.article_bands

    band: Mapped[int]
    article_id: Mapped[int]


class ArticleRevision(Base):
    """A correction: what the article said before it was updated."""

    __table__ = tables.article_revisions

    id: Mapped[int]
    article_id: Mapped[int]
    changed_at: Mapped[datetime]
    old_title: Mapped[str]
    old_body: Mapped[str]


class Alert(Base):
    """The outbox: one row per (story, subscription, notifier, target); the row is the queue entry."""

    __table__ = tables.alerts

    id: Mapped[int]
    story_id: Mapped[int]
    article_id: Mapped[int]
    subscription: Mapped[str]
    notifier: Mapped[str]
    target: Mapped[str]
    matched_terms: Mapped[list[Any]]
    status: Mapped[str]
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int]
    last_error: Mapped[str | None]
    sent_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None]
    lease_expires_at: Mapped[datetime | None]
    digest_key: Mapped[str | None]


class Lock(Base):
    """Named leases (e.g. the single SQLite daemon, digest runs) shared by every process on the store."""

    __table__ = tables.locks

    name: Mapped[str]
    owner: Mapped[str]
    expires_at: Mapped[datetime]
