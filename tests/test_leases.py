"""Leases over the store, on SQLite and PostgreSQL: what is due, compare-and-set claims, named locks, file lock."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from watcher import leases
from watcher.store import Store, open_store
from watcher.store.models import Source

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
LEASE = timedelta(seconds=30)


def _add(store: Store, name: str, **kw: object) -> None:
    with store.session() as s:
        s.add(Source(name=name, kind="feed", url=f"http://127.0.0.1/{name}", created_at=T0, **kw))


def _source(store: Store, name: str) -> Source:
    with store.session() as s:
        return s.scalars(select(Source).where(Source.name == name)).one()


@pytest.fixture
def store(store_url: str) -> Store:
    store = open_store(store_url)
    yield store
    store.close()


def test_only_due_and_free_sources_are_claimed(store: Store) -> None:
    _add(store, "never-polled")  # next_poll_at NULL: due at once
    _add(store, "due", next_poll_at=T0 - timedelta(seconds=1))
    _add(store, "due-now", next_poll_at=T0)
    _add(store, "later", next_poll_at=T0 + timedelta(seconds=1))
    _add(store, "leased", next_poll_at=T0, lease_owner="other", lease_expires_at=T0 + timedelta(seconds=5))
    _add(store, "lease-expired", next_poll_at=T0, lease_owner="dead", lease_expires_at=T0 - timedelta(seconds=1))
    _add(store, "disabled", enabled=False)
    claimed = leases.claim_sources(store, "me", lease=LEASE, limit=100, now=T0)
    assert sorted(claimed) == ["due", "due-now", "lease-expired", "never-polled"]
    assert claimed[0] == "never-polled"  # never polled first, then the most overdue
    row = _source(store, "lease-expired")
    assert row.lease_owner == "me" and row.lease_expires_at == T0 + LEASE
    # Nothing is claimed twice while the leases hold, by anyone.
    assert leases.claim_sources(store, "other2", lease=LEASE, limit=100, now=T0) == []
    # Past the lease, another owner takes them over.
    later = T0 + LEASE + timedelta(seconds=1)
    taken = leases.claim_sources(store, "other2", lease=LEASE, limit=100, now=later)
    assert sorted(taken) == sorted(claimed + ["later", "leased"])


def test_limit_names_release_and_renew(store: Store) -> None:
    for i in range(5):
        _add(store, f"s{i}")
    assert leases.claim_sources(store, "me", lease=LEASE, limit=2, now=T0) == ["s0", "s1"]
    assert leases.claim_sources(store, "me", lease=LEASE, limit=10, names=["s4", "unknown"], now=T0) == ["s4"]
    assert leases.claim_sources(store, "me", lease=LEASE, limit=10, names=[], now=T0) == []
    assert leases.renew_sources(store, "me", lease=timedelta(minutes=5), now=T0) == 3
    assert _source(store, "s0").lease_expires_at == T0 + timedelta(minutes=5)
    assert leases.release_sources(store, "other", ["s0"]) == 0  # only the owner releases
    assert leases.release_sources(store, "me", ["s0"]) == 1
    assert _source(store, "s0").lease_owner is None
    assert leases.release_sources(store, "me") == 2
    assert sorted(leases.claim_sources(store, "you", lease=LEASE, limit=10, now=T0)) == ["s0", "s1", "s2", "s3", "s4"]
    assert leases.clear_source_leases(store) == 5


def test_concurrent_claimers_never_share_a_source(store: Store) -> None:
    """Six threads (each its own owner) race for 60 due sources in batches of 4: each is claimed once."""
    for i in range(60):
        _add(store, f"s{i:02d}")
    won: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(owner: str) -> None:
        try:
            while True:
                got = leases.claim_sources(store, owner, lease=LEASE, limit=4, now=T0)
                if not got:
                    return
                with lock:
                    won.update(got)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"owner{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(won) == 60 and set(won.values()) == {1}


def test_named_locks(store: Store) -> None:
    ttl = timedelta(seconds=10)
    assert leases.acquire_lock(store, "retention", "a", ttl=ttl, now=T0)
    assert leases.acquire_lock(store, "retention", "a", ttl=ttl, now=T0 + timedelta(seconds=5))  # renew
    assert not leases.acquire_lock(store, "retention", "b", ttl=ttl, now=T0 + timedelta(seconds=14))
    assert leases.acquire_lock(store, "retention", "b", ttl=ttl, now=T0 + timedelta(seconds=16))  # a expired
    assert not leases.release_lock(store, "retention", "a")
    assert leases.release_lock(store, "retention", "b")
    assert leases.acquire_lock(store, "retention", "a", ttl=ttl, now=T0)
    assert leases.acquire_lock(store, "digests", "b", ttl=ttl, now=T0)  # locks are independent


def test_sqlite_file_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    db = tmp_path / "data" / "watcher.db"
    assert leases.sqlite_database_path(f"sqlite:///{db}") == db.resolve()
    assert leases.sqlite_database_path("sqlite:///:memory:") is None
    assert leases.sqlite_database_path("postgresql+psycopg://u@h/db") is None
    first = leases.SqliteDaemonLock(db)
    first.acquire()
    try:
        with pytest.raises(leases.AlreadyRunning) as info:
            leases.SqliteDaemonLock(db).acquire()  # a new open file description conflicts, as another process would
        message = str(info.value)
        assert str(db) in message and "already" in message and "PostgreSQL" in message
    finally:
        first.release()
    with leases.SqliteDaemonLock(db):  # free again once released
        pass


def test_replicas_starting_together_insert_each_new_source_once(store: Store) -> None:
    """Two daemons sync the same new config at once: the second waits for the first and keeps its rows."""
    from types import SimpleNamespace

    from watcher.store.sources import sync_sources

    configs = [SimpleNamespace(name=f"s{i}", kind="feed", url=f"http://127.0.0.1:9/{i}.xml") for i in range(3)]
    second: dict[str, object] = {}

    def sync_in_another_replica() -> None:
        try:
            with store.session() as s:
                second["names"] = sorted(sync_sources(s, configs, T0))
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            second["error"] = exc

    with store.session() as s:
        sync_sources(s, configs, T0)  # inserted, not yet committed
        other = threading.Thread(target=sync_in_another_replica)
        other.start()
        other.join(0.5)  # it blocks on our uncommitted rows (PostgreSQL) or our write lock (SQLite)
    other.join(30)
    assert "error" not in second, second.get("error")
    assert second["names"] == ["s0", "s1", "s2"]
    with store.session() as s:
        assert len(s.scalars(select(Source)).all()) == 3


def test_a_config_of_ten_thousand_sources_syncs(store: Store) -> None:
    """More rows than one statement may bind (7 columns x 10,000 > PostgreSQL's 65,535 parameters)."""
    from types import SimpleNamespace

    from watcher.store.sources import sync_sources

    configs = [SimpleNamespace(name=f"s{i}", kind="feed", url=f"http://127.0.0.1:9/{i}.xml") for i in range(10_000)]
    with store.session() as s:
        assert len(sync_sources(s, configs, T0)) == 10_000
    with store.session() as s:
        assert len(s.scalars(select(Source.name)).all()) == 10_000
