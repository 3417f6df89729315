"""The near-duplicate index in the store: which stored article a new one repeats.

`watcher.dedupe` computes the keys (content fingerprint, MinHash signature and its LSH band keys) and
decides (thresholds, Jaccard estimate); this module finds the candidates with two indexed queries per
ingest batch: articles with the same fingerprint, and articles sharing a band key (tables
article_bands and article_bands_new, see `add`). Keeping the bands in the store instead of each
process's memory means a daemon's memory does not grow with the store (it held ~1 KB per stored
article, for as long as it lived), start-up loads nothing, and replicas see each other's articles as
soon as they commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from watcher import dedupe
from watcher.dedupe import EMPTY_FINGERPRINT, Duplicate
from watcher.store import tables
from watcher.store.tables import article_bands, article_bands_new

__all__ = ["MERGE_ROWS", "Wanted", "add", "find", "merge", "replace"]

# An article about to be stored: (content fingerprint, signature, published_at).
Wanted = tuple[str, bytes | None, datetime | None]

_CHUNK = 10_000  # values per IN list: below SQLite's and PostgreSQL's bound-parameter limits
# Articles handled per round: 64 band keys each, so a 10,000-entry feed never holds its 640,000 keys
# (and their row dicts) at once.
_ARTICLES = 500
_INSERT = f"INSERT INTO {article_bands_new.name} (band, article_id) VALUES "
_SELECT = "SELECT band, article_id FROM {table} WHERE band IN ({marks})"
_VALUES_ROWS = 1_000  # rows per multi-row INSERT: 2,000 parameters
# Rows article_bands_new collects before they move into article_bands: ~1,000 articles, a few hundred
# pages. Larger, and each feed's commit rewrites more of its pages; smaller, and the big table is
# rewritten more often (SQLite, 1,000 feeds of 20 new articles: 10.9 s of band writes straight into
# article_bands, 4.1 s with 64,000 rows here, 5.6 s with 256,000).
MERGE_ROWS = 64_000
_MERGE_LOCK = 0x62616E64  # PostgreSQL advisory lock: one replica moves the rows at a time
_COUNT_NEW = f"SELECT count(*) FROM {article_bands_new.name}"
_MOVE = (f"INSERT INTO {article_bands.name} (band, article_id) "
         f"SELECT band, article_id FROM {article_bands_new.name} ORDER BY band, article_id")
_MOVE_PG = (f"WITH moved AS (DELETE FROM {article_bands_new.name} RETURNING band, article_id) "
            f"INSERT INTO {article_bands.name} (band, article_id) SELECT band, article_id FROM moved "
            "ORDER BY band, article_id ON CONFLICT DO NOTHING")


def find(session: Session, wanted: Sequence[Wanted]) -> list[Duplicate | None]:
    """For each wanted article, the stored story it belongs to (by StoryIndex.find's rule), or None."""
    session.flush()  # the lookups below are Core statements, which do not flush a correction's new text
    return [found for start in range(0, len(wanted), _ARTICLES)
            for found in _find(session, wanted[start:start + _ARTICLES])]


def _find(session: Session, wanted: Sequence[Wanted]) -> list[Duplicate | None]:
    exact = _first_with_hash(session, {h for h, _, _ in wanted if h and h != EMPTY_FINGERPRINT})
    keys = [[] if h in exact else dedupe.band_keys(signature) for h, signature, _ in wanted]
    sharing = _articles_by_band(session, {k for ks in keys for k in ks})
    candidates = _candidates(session, {a for ids in sharing.values() for a in ids})
    found: list[Duplicate | None] = []
    for (content_hash, signature, published_at), bands in zip(wanted, keys):
        if content_hash in exact:
            article_id, story_id = exact[content_hash]
            found.append(Duplicate("exact", story_id, article_id, 1.0))
            continue
        ids = sorted({a for k in bands for a in sharing.get(k, ()) if a in candidates})  # oldest first
        best = dedupe.closest(signature, published_at, [candidates[a][1:] for a in ids])
        found.append(None if best is None else
                     Duplicate("near", candidates[ids[best[0]]][0], ids[best[0]], best[1]))
    return found


def add(session: Session, articles: Sequence[tuple[int, bytes | None]]) -> None:
    """Index stored articles, given as (article id, signature).

    The rows go to article_bands_new, and move into article_bands in key order once it holds
    MERGE_ROWS of them. SQLite writes every page a transaction dirtied into the WAL at commit, and band
    keys are random: written straight into article_bands, one feed's 1,280 rows dirtied about a thousand
    of its pages on a grown store (4 MB per commit; 40% of a cold 1,000-feed cycle). The small table
    stays in the page cache, and the big one is rewritten once per ~1,000 articles instead of per feed.
    """
    conn = session.connection()
    added = 0
    for start in range(0, len(articles), _ARTICLES):
        # In key order: the inserts then walk the primary key's B-tree forwards.
        rows = sorted((key, article_id) for article_id, signature in articles[start:start + _ARTICLES]
                      for key in dedupe.band_keys(signature))
        if rows:
            _insert(conn, rows)
            added += len(rows)
    if added and conn.exec_driver_sql(_COUNT_NEW).scalar_one() >= MERGE_ROWS:
        merge(conn)


def merge(conn: Connection) -> None:
    """Move article_bands_new's rows into article_bands, in key order, in the caller's transaction.

    SQLite has one writer at a time, so nothing is added between the copy and the delete. PostgreSQL
    moves exactly the rows this transaction sees (DELETE ... RETURNING); rows other replicas commit
    meanwhile wait for the next merge, and an advisory lock keeps two replicas from moving the same rows.
    """
    if conn.dialect.name == "postgresql":
        if conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({_MERGE_LOCK})").scalar_one():
            conn.exec_driver_sql(_MOVE_PG)
        return
    conn.exec_driver_sql(_MOVE)
    conn.exec_driver_sql(f"DELETE FROM {article_bands_new.name}")


def _insert(conn: Connection, rows: list[tuple[int, int]]) -> None:
    """Insert (band, article id) rows with plain driver statements: SQLAlchemy's per-row parameter
    handling (a dict and its processing per row, 64 rows per article) cost about what SQLite's inserts do.

    SQLite's executemany re-binds one prepared statement in C; PostgreSQL is faster with multi-row VALUES
    (one statement per 1,000 rows) than with psycopg's executemany (one per row): CPU 0.6 vs 1.6 ms per
    article in a micro-benchmark.
    """
    mark = _mark(conn)
    if mark == "?":
        conn.exec_driver_sql(f"{_INSERT} (?, ?)", rows)
        return
    for start in range(0, len(rows), _VALUES_ROWS):
        chunk = rows[start:start + _VALUES_ROWS]
        conn.exec_driver_sql(_INSERT + ", ".join([f"({mark}, {mark})"] * len(chunk)),
                             tuple(v for row in chunk for v in row))


def _mark(conn: Connection) -> str:
    """The driver's positional placeholder: sqlite3 takes ?, psycopg %s."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def replace(session: Session, article_id: int, old: bytes | None, new: bytes | None) -> None:
    """A corrected article: its old band rows go (found by key, the primary key's order), new ones come."""
    old_keys = dedupe.band_keys(old)
    if old_keys:
        for table in (article_bands, article_bands_new):
            session.execute(delete(table).where(table.c.article_id == article_id, table.c.band.in_(old_keys)))
    add(session, [(article_id, new)])


def _chunks(values: Iterable[int | str]) -> Iterable[list[int | str]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _first_with_hash(session: Session, hashes: set[str]) -> dict[str, tuple[int, int]]:
    """fingerprint -> (article id, story id) of its first stored copy."""
    first: dict[str, tuple[int, int]] = {}
    conn = session.connection()  # Core statements: the ORM's compile step cost more than these lookups
    for chunk in _chunks(hashes):
        table = tables.articles
        rows = conn.execute(select(table.c.content_hash, table.c.id, table.c.story_id)
                            .where(table.c.content_hash.in_(chunk), table.c.story_id.is_not(None)).order_by(table.c.id))
        for content_hash, article_id, story_id in rows:
            first.setdefault(content_hash, (article_id, story_id))
    return first


def _articles_by_band(session: Session, keys: set[int]) -> dict[int, list[int]]:
    """band key -> ids of the stored articles that have it (in either band table).

    Plain driver statements: SQLAlchemy's IN list of 1,280 keys per feed (coerced, then expanded and
    processed one by one at every execution) cost more than the index lookups.
    """
    sharing: dict[int, list[int]] = {}
    conn = session.connection()
    for chunk in _chunks(keys):
        marks = ", ".join([_mark(conn)] * len(chunk))
        for table in (article_bands, article_bands_new):
            for band, article_id in conn.exec_driver_sql(_SELECT.format(table=table.name, marks=marks), tuple(chunk)):
                sharing.setdefault(band, []).append(article_id)
    return sharing


def _candidates(session: Session, ids: set[int]) -> dict[int, tuple[int, bytes | None, datetime | None]]:
    """article id -> (story id, signature, published_at) of the articles sharing a band."""
    found: dict[int, tuple[int, bytes | None, datetime | None]] = {}
    conn = session.connection()
    for chunk in _chunks(ids):
        table = tables.articles
        rows = conn.execute(select(table.c.id, table.c.story_id, table.c.signature, table.c.published_at)
                            .where(table.c.id.in_(chunk), table.c.story_id.is_not(None)))
        for article_id, story_id, signature, published_at in rows:
            found[article_id] = (story_id, signature, published_at)
    return found
