"""SQLAlchemy models: the store is the single source of truth (schedule, articles, stories, outbox)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use watcher.clock.now() or an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None else None


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Source(Base):
    """A configured source and its polling state (the schedule lives here, not in memory)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    enabled: Mapped[bool] = mapped_column(default=True)
    # Scheduling and health.
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    first_success_at: Mapped[datetime | None]  # flood guard: the first poll stores backlog silently
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    last_error_kind: Mapped[str | None] = mapped_column(String(20))  # transient | permanent
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_status: Mapped[str | None] = mapped_column(String(20))  # ok | not_modified | error
    # Lease: which daemon is polling it right now, and until when the claim holds.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]


class HttpCache(Base):
    """Conditional-GET validators per URL (ETag, Last-Modified), so unchanged pages cost a 304."""

    __tablename__ = "http_cache"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # Digest of the last cleanly processed body and its entry count: a server that ignores conditional
    # headers and sends the same bytes again costs no parsing, in the daemon and in a fresh process.
    body_digest: Mapped[str | None] = mapped_column(String(32))
    entries: Mapped[int | None]
    updated_at: Mapped[datetime]


class Story(Base):
    """One story, however many sources carry it; its first article is the representative."""

    __tablename__ = "stories"
    # The listing order (newest first) of `watcher stories` and the web view; see migration 0004.
    __table_args__ = (Index("ix_stories_when", func.coalesce(text("published_at"), text("created_at")), "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    representative_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    agreement: Mapped[dict[str, Any] | None]  # parties, instrument, domains, date, summary

    articles: Mapped[list[Article]] = relationship(back_populates="story", order_by="Article.id")


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("source", "guid", name="uq_articles_source_guid"),
        Index("ix_articles_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200), index=True)  # source name (seeds: detected source)
    origin: Mapped[str] = mapped_column(String(20), default="feed")  # feed | html | seed
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(String(2000), unique=True)
    guid: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(default=0)  # corrections seen after first store
    content_hash: Mapped[str] = mapped_column(String(64), index=True)  # exact-duplicate fingerprint
    # Hash of the listing entry as the source last delivered it (title + content/summary): a changed hash
    # on a known item is a correction worth re-reading; an equal one costs no article fetch.
    entry_hash: Mapped[str | None] = mapped_column(String(32))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)  # near-duplicate (MinHash) signature
    relevance: Mapped[float] = mapped_column(Float, default=0.0)
    relevance_terms: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="relevant", index=True)  # relevant | ignored
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id"), index=True)

    story: Mapped[Story | None] = relationship(back_populates="articles")


class ArticleBand(Base):
    """The near-duplicate index: one row per LSH band key of an article's signature (store/bands.py).

    Kept in the store rather than in each process's memory, so a daemon's memory does not grow with the
    store and every replica sees the others' articles as soon as they commit.
    """

    __tablename__ = "article_bands"
    __table_args__ = {"sqlite_with_rowid": False}  # the primary key is the whole row: one B-tree

    band: Mapped[int] = mapped_column(Integer, primary_key=True)  # 32-bit band hash, stored signed
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)


class ArticleRevision(Base):
    """A correction: what the article said before it was updated."""

    __tablename__ = "article_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    changed_at: Mapped[datetime]
    old_title: Mapped[str] = mapped_column(Text)
    old_body: Mapped[str] = mapped_column(Text)


class Alert(Base):
    """The outbox: one row per (story, subscription, notifier, target); the row is the queue entry."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("story_id", "subscription", "notifier", "target", name="uq_alerts_delivery"),
        Index("ix_alerts_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    subscription: Mapped[str] = mapped_column(String(200))
    notifier: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(500), default="")  # e-mail address(es); "" for webhooks
    matched_terms: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | digest | sent | failed
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    digest_key: Mapped[str | None] = mapped_column(String(100))  # digest period the alert belongs to


class Lock(Base):
    """Named leases (e.g. the single SQLite daemon, digest runs) shared by every process on the store."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
