"""Who works on what: source leases (claim due sources), named locks, and the SQLite one-daemon file lock.

Every daemon claims work through the store, never through memory, so any number of replicas on one
PostgreSQL database share it and a restart resumes where the store says:

- A source is *due* when `next_poll_at <= now` (NULL: never polled, due at once) and its lease is free
  or expired. A claim is a compare-and-set UPDATE (`... WHERE lease is free or expired`), so two
  daemons can never both win; on PostgreSQL the candidate rows are first read with
  `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent claimers skip each other's rows instead of waiting.
- A lease is released when the poll is over (the pipeline has set the next poll by then) or taken over
  by another daemon once it expires (its holder was killed). Holders renew long leases.
- Named locks (`locks` table) let one daemon at a time run a singleton job (retention, digests).
- On SQLite only one daemon may run per database file: `SqliteDaemonLock` holds an OS lock
  (`fcntl.flock` on "<db file>.lock") for the process lifetime; the kernel drops it even on SIGKILL.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError

from watcher import clock
from watcher.store import Store
from watcher.store.models import Alert, Lock, Source

log = logging.getLogger(__name__)


def new_owner() -> str:
    """A lease owner id unique to this process: host, pid and a random suffix (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _lease_free(now: datetime):  # type: ignore[no-untyped-def]
    return or_(Source.lease_owner.is_(None), Source.lease_expires_at.is_(None), Source.lease_expires_at <= now)


def claim_sources(store: Store, owner: str, *, lease: timedelta, limit: int, names: Iterable[str] | None = None,
                  now: datetime | None = None) -> list[str]:
    """Claim up to `limit` due sources for `owner` until now + `lease`; returns the claimed names.

    `names` restricts the claim to these sources (those of the current config); disabled sources are
    never claimed. The most overdue come first, never-polled ones before all.
    """
    now = now or clock.now()
    wanted = None if names is None else sorted(set(names))
    if wanted is not None and not wanted:
        return []
    query = (
        select(Source.id, Source.name)
        .where(Source.enabled.is_(True))
        .where(or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
        .where(_lease_free(now))
        .order_by(Source.next_poll_at.asc().nulls_first(), Source.id)
        .limit(limit)
    )
    if wanted is not None:
        query = query.where(Source.name.in_(wanted))
    claimed: list[str] = []
    with store.session() as session:
        if not store.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        for source_id, name in session.execute(query).all():
            # Compare-and-set: the row is ours only if its lease is still free at write time.
            result = session.execute(
                update(Source)
                .where(Source.id == source_id, _lease_free(now))
                .values(lease_owner=owner, lease_expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed.append(name)
    if claimed:
        log.debug("lease.claimed", extra={"owner": owner, "sources": ",".join(claimed), "count": len(claimed)})
    return claimed


def release_sources(store: Store, owner: str, names: Iterable[str] | None = None) -> int:
    """Give back `owner`'s leases (on `names`, or all of them); returns how many were released."""
    statement = update(Source).where(Source.lease_owner == owner)
    if names is not None:
        names = list(names)
        if not names:
            return 0
        statement = statement.where(Source.name.in_(names))
    with store.session() as session:
        result = session.execute(
            statement.values(lease_owner=None, lease_expires_at=None).execution_options(synchronize_session=False))
    if result.rowcount:
        log.debug("lease.released", extra={"owner": owner, "count": result.rowcount})
    return int(result.rowcount or 0)


def renew_sources(store: Store, owner: str, *, lease: timedelta, now: datetime | None = None) -> int:
    """Extend every lease `owner` still holds to now + `lease` (a long poll keeps its sources)."""
    now = now or clock.now()
    with store.session() as session:
        result = session.execute(
            update(Source)
            .where(Source.lease_owner == owner)
            .values(lease_expires_at=now + lease)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)


def release_alerts(store: Store, owner: str) -> int:
    """Give back the outbox rows `owner` claimed but did not finish (a stopping daemon's batch).

    Only unfinished rows (pending, digest) are touched; they become claimable at once instead of after
    their lease. This widens no duplicate window: an abandoned claim would be resent after expiry anyway.
    """
    with store.session() as session:
        result = session.execute(
            update(Alert)
            .where(Alert.lease_owner == owner, Alert.status.in_(("pending", "digest")))
            .values(lease_owner=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)


def clear_source_leases(store: Store) -> int:
    """Drop every source lease (only safe when no other daemon can run: SQLite under `SqliteDaemonLock`)."""
    with store.session() as session:
        result = session.execute(
            update(Source)
            .where(Source.lease_owner.is_not(None))
            .values(lease_owner=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)


# ---- named locks -----------------------------------------------------------------------------------

def acquire_lock(store: Store, name: str, owner: str, *, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take (or renew) the named lock for `owner` until now + `ttl`; False when someone else holds it."""
    now = now or clock.now()
    expires = now + ttl
    with store.session() as session:
        result = session.execute(
            update(Lock)
            .where(Lock.name == name, or_(Lock.owner == owner, Lock.expires_at <= now))
            .values(owner=owner, expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            return True
        exists = session.scalar(select(Lock.name).where(Lock.name == name))
    if exists is not None:
        return False
    try:  # the lock was never taken: create it; a concurrent creator makes this insert fail
        with store.session() as session:
            session.add(Lock(name=name, owner=owner, expires_at=expires))
    except IntegrityError:
        return False
    return True


def release_lock(store: Store, name: str, owner: str) -> bool:
    """Drop the named lock if `owner` holds it."""
    with store.session() as session:
        result = session.execute(delete(Lock).where(Lock.name == name, Lock.owner == owner)
                                 .execution_options(synchronize_session=False))
    return bool(result.rowcount)


@contextmanager
def advisory_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold a PostgreSQL session advisory lock named `name` for the block (no-op on SQLite).

    Used around schema migrations: replicas starting together would otherwise each try to create
    the same tables and all but one would fail.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()


# ---- the SQLite single-daemon lock ---------------------------------------------------------------------

class AlreadyRunning(RuntimeError):
    """Another daemon holds the database; the message says which file and, when known, which process."""


def sqlite_database_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None (PostgreSQL, in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).resolve()


class SqliteDaemonLock:
    """An exclusive OS lock on "<db file>.lock" held while the daemon runs (released by the kernel at exit)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning naming the database and the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            who = f" (pid {holder})" if holder else ""
            raise AlreadyRunning(
                f"another `watcher run`{who} already uses the SQLite database {self.database} "
                f"(lock file {self.path}); stop it first, or use PostgreSQL to run several daemons"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> SqliteDaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
