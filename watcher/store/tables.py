"""The schema as SQLAlchemy Core tables: the store is the single source of truth (schedule, articles,
stories, outbox).

watcher.store.models maps ORM classes onto these tables for the code that works with objects (ingest,
outbox, stories, the CLI and web view). The hot paths that only read and write rows (a poll cycle's
sources, validators and health) use the tables directly: a warm `watcher poll` then never imports the
ORM, which with the models cost ~0.15 s of its start-up here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)


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


metadata = MetaData()


def _when(name: str, nullable: bool = False, **kwargs: Any) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable, **kwargs)


# A configured source and its polling state (the schedule lives here, not in memory).
sources = Table(
    "sources", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("url", Text, nullable=False),
    _when("created_at"),
    Column("enabled", Boolean, nullable=False, default=True),
    # Scheduling and health.
    _when("next_poll_at", nullable=True, index=True),
    _when("last_polled_at", nullable=True),
    _when("last_success_at", nullable=True),
    _when("first_success_at", nullable=True),  # flood guard: the first poll stores backlog silently
    Column("last_error", Text),
    _when("last_error_at", nullable=True),
    Column("last_error_kind", String(20)),  # transient | permanent
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_status", String(20)),  # ok | not_modified | error
    # Lease: which daemon is polling it right now, and until when the claim holds.
    Column("lease_owner", String(200)),
    _when("lease_expires_at", nullable=True),
)

# Conditional-GET validators per URL (ETag, Last-Modified), so unchanged pages cost a 304.
http_cache = Table(
    "http_cache", metadata,
    Column("url", String(2000), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    # Digest of the last cleanly processed body and its entry count: a server that ignores conditional
    # headers and sends the same bytes again costs no parsing, in the daemon and in a fresh process.
    Column("body_digest", String(32)),
    Column("entries", Integer),
    _when("updated_at"),
)

# One story, however many sources carry it; its first article is the representative.
stories = Table(
    "stories", metadata,
    Column("id", Integer, primary_key=True),
    Column("representative_id", Integer),
    Column("title", Text, nullable=False, default=""),
    _when("created_at"),
    _when("published_at", nullable=True),
    Column("agreement", JSON),  # parties, instrument, domains, date, summary
    # The listing order (newest first) of `watcher stories` and the web view; see migration 0004.
    Index("ix_stories_when", func.coalesce(text("published_at"), text("created_at")), "id"),
)

articles = Table(
    "articles", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(200), nullable=False, index=True),  # source name (seeds: detected source)
    Column("origin", String(20), nullable=False, default="feed"),  # feed | html | seed
    Column("url", Text),
    Column("canonical_url", String(2000), unique=True),
    Column("guid", String(2000), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("body", Text, nullable=False, default=""),
    Column("summary", Text),
    Column("author", Text),
    Column("language", String(16)),
    _when("published_at", nullable=True),
    _when("fetched_at"),
    _when("updated_at", nullable=True),
    Column("revision", Integer, nullable=False, default=0),  # corrections seen after first store
    Column("content_hash", String(64), nullable=False, index=True),  # exact-duplicate fingerprint
    # Hash of the listing entry as the source last delivered it (title + content/summary): a changed hash
    # on a known item is a correction worth re-reading; an equal one costs no article fetch.
    Column("entry_hash", String(32)),
    Column("signature", LargeBinary),  # near-duplicate (MinHash) signature
    Column("relevance", Float, nullable=False, default=0.0),
    Column("relevance_terms", JSON, nullable=False, default=list),
    Column("status", String(20), nullable=False, default="relevant", index=True),  # relevant | ignored
    Column("story_id", Integer, ForeignKey("stories.id"), index=True),
    UniqueConstraint("source", "guid", name="uq_articles_source_guid"),
    Index("ix_articles_published_at", "published_at"),
)

# The near-duplicate index: one row per LSH band key of an article's signature (store/bands.py). Kept in
# the store rather than in each process's memory, so a daemon's memory does not grow with the store and
# every replica sees the others' articles as soon as they commit.
article_bands = Table(
    "article_bands", metadata,
    Column("band", Integer, primary_key=True),  # 32-bit band hash, stored signed
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sqlite_with_rowid=False,  # the primary key is the whole row: one B-tree
)

# Band rows of recently stored articles, moved into article_bands in key order in bulk (store/bands.py
# says why): random keys written straight into the big table rewrote a thousand of its pages per feed.
article_bands_new = Table(
    "article_bands_new", metadata,
    Column("band", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sqlite_with_rowid=False,
)

# A correction: what the article said before it was updated.
article_revisions = Table(
    "article_revisions", metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
    _when("changed_at"),
    Column("old_title", Text, nullable=False),
    Column("old_body", Text, nullable=False),
)

# The outbox: one row per (story, subscription, notifier, target); the row is the queue entry.
alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True),
    Column("story_id", Integer, ForeignKey("stories.id"), nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("subscription", String(200), nullable=False),
    Column("notifier", String(200), nullable=False),
    Column("target", String(500), nullable=False, default=""),  # e-mail address(es); "" for webhooks
    Column("matched_terms", JSON, nullable=False, default=list),
    Column("status", String(20), nullable=False, default="pending"),  # pending | digest | sent | failed
    _when("created_at"),
    _when("next_attempt_at"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    _when("sent_at", nullable=True),
    Column("lease_owner", String(200)),
    _when("lease_expires_at", nullable=True),
    Column("digest_key", String(100)),  # digest period the alert belongs to
    UniqueConstraint("story_id", "subscription", "notifier", "target", name="uq_alerts_delivery"),
    Index("ix_alerts_due", "status", "next_attempt_at"),
)

# Named leases (e.g. the single SQLite daemon, digest runs) shared by every process on the store.
locks = Table(
    "locks", metadata,
    Column("name", String(200), primary_key=True),
    Column("owner", String(200), nullable=False),
    _when("expires_at"),
)
