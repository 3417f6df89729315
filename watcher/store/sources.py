"""Queries on the sources and http_cache tables: config sync, due sources, poll outcomes, backoff, validators.

Backoff (decided here, used by every poller): after the n-th consecutive failure the next poll is
`interval * 2**(n-1)` away (a permanent error starts two steps further: `* 2**(n+1)`), never more than
`cap` (24 h by default), never sooner than the server's Retry-After, with +-20 % jitter so that sources
failing together do not come back together. The first success resets the count and the normal interval
applies again. A source is never disabled automatically.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Union

from sqlalchemy import ColumnElement, Connection, Row, Select, insert, select, update

from watcher.store.db import insert_or_ignore, update_rows
from watcher.store.tables import http_cache, sources

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from watcher.store.models import Source as SourceRow

# Every query here is Core over watcher.store.tables and takes an ORM Session or a Core Connection alike:
# a poll cycle calls them on a Connection and never imports the ORM (~0.15 s of a `watcher poll`'s start).
Db = Union["Session", Connection]

JITTER = 0.2
_IN_CHUNK = 500  # values per IN (...): under every backend's bound-parameter limit
PERMANENT_EXTRA_STEPS = 2
MAX_ERROR_CHARS = 2000


def _where_in(session: Db, query: Select[Any], column: ColumnElement[Any], values: Sequence[Any]) -> Iterator[Row[Any]]:
    """The rows of `query` whose `column` is one of `values`, asked _IN_CHUNK values at a time."""
    for start in range(0, len(values), _IN_CHUNK):
        yield from session.execute(query.where(column.in_(values[start:start + _IN_CHUNK])))


@dataclass(frozen=True)
class Validators:
    """What the store remembers of a URL's last clean fetch: conditional-GET validators, body digest."""

    etag: str | None
    last_modified: str | None
    digest: str | None = None
    entries: int = 0


@dataclass
class Outcome:
    """What one poll of one source did to its health: applied by `record_outcomes` in one transaction."""

    name: str
    at: datetime
    status: str  # ok | not_modified | error
    error: str | None = None
    error_kind: str | None = None  # transient | permanent
    retry_after: float | None = None


def sync_sources(session: Db, configs: Sequence[Any], at: datetime, *, prune: bool = True) -> dict[str, int]:
    """Make the sources table match the config: insert new sources (due at once), update kind and URL,
    and (with `prune`) disable the ones no longer configured (their history stays). Returns the row ids by
    name. Without `prune`, `configs` may be a subset of the config and only those rows are read.

    Core statements on five columns, not ORM objects: every `watcher poll` and daemon tick runs this, and
    loading 1,000 full Source objects cost ~0.1 s."""
    wanted = {cfg.name: cfg for cfg in configs}
    columns = select(sources.c.id, sources.c.name, sources.c.kind, sources.c.url, sources.c.enabled)
    found = session.execute(columns) if prune else _where_in(session, columns, sources.c.name, list(wanted))
    rows = {row.name: row for row in found}
    new = [dict(name=name, kind=cfg.kind, url=str(cfg.url), created_at=at, enabled=bool(getattr(cfg, "enabled", True)),
                next_poll_at=at, consecutive_failures=0) for name, cfg in wanted.items() if name not in rows]
    if new:  # replicas starting together insert the same new sources: the first one wins, quietly
        insert_or_ignore(session, sources, new, ["name"])
        added = [values["name"] for values in new]
        rows.update((row.name, row) for row in _where_in(session, columns, sources.c.name, added))
    changes: list[dict[str, Any]] = []
    for name, row in rows.items():
        cfg = wanted.get(name)
        if cfg is None:
            if prune and row.enabled:
                changes.append({"id": row.id, "enabled": False})
            continue
        values: dict[str, Any] = {}
        if row.url != str(cfg.url) or row.kind != cfg.kind:
            # Another address is another source as far as health goes: poll it now, forget old failures.
            values.update(url=str(cfg.url), kind=cfg.kind, next_poll_at=at, consecutive_failures=0)
        enabled = bool(getattr(cfg, "enabled", True))
        if row.enabled != enabled:
            values["enabled"] = enabled
        if values:
            changes.append({"id": row.id, **values})
    update_rows(session, sources, "id", changes)
    return {name: row.id for name, row in rows.items() if name in wanted}


def due_names(session: Db, at: datetime, names: Iterable[str] | None = None) -> list[str]:
    """Enabled sources whose next poll is due at `at` (never polled counts as due), most overdue first."""
    query = select(sources.c.name).where(sources.c.enabled.is_(True)).where(
        (sources.c.next_poll_at.is_(None)) | (sources.c.next_poll_at <= at)).order_by(
        sources.c.next_poll_at.is_not(None), sources.c.next_poll_at, sources.c.name)
    if names is not None:
        query = query.where(sources.c.name.in_(list(names)))
    return list(session.scalars(query))


def backoff_delay(failures: int, interval: timedelta, cap: timedelta, *, permanent: bool = False,
                  retry_after: float | None = None, rng: random.Random | None = None) -> timedelta:
    """How long to wait before polling again after `failures` consecutive failures (see module doc)."""
    steps = max(failures, 1) - 1 + (PERMANENT_EXTRA_STEPS if permanent else 0)
    seconds = interval.total_seconds() * (2 ** min(steps, 40))
    seconds *= 1 + (rng or random).uniform(-JITTER, JITTER)
    seconds = min(seconds, cap.total_seconds())
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, cap.total_seconds()))
    return timedelta(seconds=seconds)


def record_outcomes(session: Db, outcomes: Sequence[Outcome], intervals: dict[str, timedelta],
                    cap: timedelta, rng: random.Random | None = None) -> dict[str, datetime]:
    """Apply poll outcomes to the sources' health and schedule; returns each source's next poll time."""
    if not outcomes:
        return {}
    query = select(sources.c.id, sources.c.name, sources.c.consecutive_failures, sources.c.first_success_at)
    rows = {row.name: row for row in _where_in(session, query, sources.c.name, [o.name for o in outcomes])}
    updates: list[dict[str, Any]] = []
    next_polls: dict[str, datetime] = {}
    for outcome in outcomes:
        row = rows.get(outcome.name)
        if row is None:
            continue
        interval = intervals[outcome.name]
        values: dict[str, Any] = {"id": row.id, "last_polled_at": outcome.at, "last_status": outcome.status}
        if outcome.status == "error":
            failures = (row.consecutive_failures or 0) + 1
            values.update(
                consecutive_failures=failures, last_error=(outcome.error or "unknown error")[:MAX_ERROR_CHARS],
                last_error_at=outcome.at, last_error_kind=outcome.error_kind or "transient",
                next_poll_at=outcome.at + backoff_delay(
                    failures, interval, cap, permanent=outcome.error_kind == "permanent",
                    retry_after=outcome.retry_after, rng=rng))
        else:
            values.update(consecutive_failures=0, last_success_at=outcome.at, next_poll_at=outcome.at + interval,
                          first_success_at=row.first_success_at or outcome.at)
        updates.append(values)
        next_polls[outcome.name] = values["next_poll_at"]
    update_rows(session, sources, "id", updates)  # rows of one shape: one executemany
    return next_polls


def first_successes(session: Db, names: Sequence[str]) -> dict[str, datetime | None]:
    """When each named source first polled successfully (None: its first poll, whose backlog is silent)."""
    query = select(sources.c.name, sources.c.first_success_at)
    return {name: first for name, first in _where_in(session, query, sources.c.name, names)}


def first_success(session: Db, name: str) -> datetime | None:
    """`first_successes` of one source."""
    return first_successes(session, [name]).get(name)


def health(session: Session) -> list[SourceRow]:
    """Every source row, by name, for `watcher sources`."""
    from watcher.store.models import Source

    return list(session.scalars(select(Source).order_by(Source.name)))


def state(row: SourceRow, configured: bool) -> str:
    """A source's health in one word: removed | disabled | failing | new | ok (`watcher sources`, web view)."""
    if not configured:
        return "removed"
    if not row.enabled:
        return "disabled"
    if row.consecutive_failures:
        return "failing"
    if row.last_polled_at is None:
        return "new"
    return "ok"


def release_lease(session: Db, name: str, owner: str) -> None:
    """Drop `owner`'s lease on `name` (no-op if someone else holds it)."""
    session.execute(update(sources).where(sources.c.name == name, sources.c.lease_owner == owner)
                    .values(lease_owner=None, lease_expires_at=None))


# ---- http_cache: conditional-GET validators per URL ------------------------------------------------

def load_validators(session: Db, urls: Iterable[str]) -> dict[str, Validators]:
    """Stored ETag / Last-Modified for each of `urls` that has any."""
    wanted = list(dict.fromkeys(urls))
    found: dict[str, Validators] = {}
    query = select(http_cache.c.url, http_cache.c.etag, http_cache.c.last_modified, http_cache.c.body_digest,
                   http_cache.c.entries)
    for url, etag, last_modified, digest, entries in _where_in(session, query, http_cache.c.url, wanted):
        found[url] = Validators(etag, last_modified, digest, entries or 0)
    return found


def save_validators(session: Db, items: dict[str, Validators], at: datetime,
                    known: dict[str, Validators] | None = None) -> None:
    """Store validators per URL (insert or update); URLs whose validators equal `known` are skipped.

    `known` only saves work; whether a row exists is asked of the store, so two sources sharing one
    URL (or another process) cannot make an insert collide.
    """
    changed = {url: v for url, v in items.items() if known is None or known.get(url) != v}
    if not changed:
        return
    existing = {url for url, in _where_in(session, select(http_cache.c.url), http_cache.c.url, list(changed))}
    rows = {url: {"url": url, "etag": v.etag, "last_modified": v.last_modified, "body_digest": v.digest,
                  "entries": v.entries, "updated_at": at} for url, v in changed.items()}
    update_rows(session, http_cache, "url", [row for url, row in rows.items() if url in existing])
    added = [row for url, row in rows.items() if url not in existing]
    if added:
        session.execute(insert(http_cache), added)


def short_error(error: str | None, url: str) -> str | None:
    """The error without its leading "<source URL>: " (the table has little room and names the source)."""
    if error and error.startswith(url + ": "):
        return error[len(url) + 2:]
    return error
