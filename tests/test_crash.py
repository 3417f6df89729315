"""Crash consistency: one daemon on SQLite SIGKILLed at random moments, 20 times, then run to the end.

New items keep appearing on the feeds, so kills land during start-up, polls, ingestion and alert
sends. After the final clean run every item is stored exactly once (nothing lost, nothing doubled),
the database passes SQLite's integrity check, and the Slack sink saw every alert, twice only inside
the outbox's documented window: the process died after Slack accepted the message and before the
`sent` commit (the first delivery is then just before a kill, the second after the restart).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, FeedSite, SlackSink, wait_for, write_config
from tests.support.http import LocalServer
from tests.test_replicas import check_alerts

pytestmark = pytest.mark.timeout(170)
CYCLES = 20
FEEDS = 8
ARGS = ("--tick", "0.2s", "--lease", "3s", "--dispatch-every", "0.2s")


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


def _startup_seconds(config: Path, log: Path) -> float:
    """How long this machine, as loaded as it is now, takes to start a daemon (to its first claim)."""
    started = time.monotonic()
    daemon = Daemon(config, log, *ARGS)
    try:
        wait_for(lambda: "daemon.started" in daemon.output(), 60, "a daemon to start")
        return time.monotonic() - started
    finally:
        daemon.terminate()  # a clean stop: no send can be left in the duplicate window


def test_random_sigkills_lose_and_duplicate_nothing(server: LocalServer, tmp_path: Path) -> None:
    rng = random.Random(8)  # the moments vary with the machine's speed anyway; the plan is repeatable
    site, sink = FeedSite(server), SlackSink(server, hooks=4)
    feeds = {f"f{i}": site.add_feed(f"/feed/{i}.xml", [f"{i}-0"]) for i in range(FEEDS)}
    db = tmp_path / "watcher.db"
    config = write_config(tmp_path / "watcher.yaml", f"sqlite:///{db}", feeds, sink=sink.urls, interval="1s")
    kills: list[float] = []
    startup = _startup_seconds(config, tmp_path / "startup.log")
    daemon = None
    try:
        for cycle in range(CYCLES):
            for _ in range(rng.randint(1, 3)):
                feed = rng.randrange(FEEDS)
                site.add_item(f"/feed/{feed}.xml", f"{feed}-{cycle + 1}x{rng.randrange(1000)}")
            daemon = Daemon(config, tmp_path / "daemon.log", *ARGS)
            # Before, during and well after start-up, whatever the machine's load: kills land everywhere.
            time.sleep(rng.uniform(0.6, 2.6) * startup)
            kills.append(time.monotonic())
            daemon.kill()
        keys = site.all_keys()
        daemon = Daemon(config, tmp_path / "daemon.log", *ARGS)
        missing = lambda: [k for k in keys if not sink.counts()[k]]  # noqa: E731
        wait_for(lambda: not missing(), 90, "every alert after the last restart", detail=missing)
        assert daemon.terminate()[0] == 0
    finally:
        if daemon is not None:
            daemon.stop_quietly()
            daemon.dump(40)

    assert daemon.output().count("daemon.started") >= CYCLES // 4  # many kills landed after start-up
    check_alerts(sink, keys, kills)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        guids = [row[0] for row in conn.execute("SELECT guid FROM articles")]
        leased = conn.execute("SELECT count(*) FROM sources WHERE lease_owner IS NOT NULL").fetchone()[0]
    stored = [g.rsplit("/", 1)[1] for g in guids]
    assert sorted(stored) == sorted(keys)  # every item once: none lost, none doubled
    assert leased == 0
