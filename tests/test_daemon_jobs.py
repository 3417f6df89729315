"""The daemon in-process: jobs that raise, the watchdog, reload (SIGHUP's work), retention, HTTP routes.

The poll cycle is replaced by a small poller that records outcomes through the store's own functions,
so these tests isolate the scheduler; tests/test_daemon.py runs the real pipeline in a subprocess.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from watcher import clock, metrics
from watcher.config import Config, load_config
from watcher.http import HttpServer, Response, health_handler, metrics_handler, parse_address
from watcher.scheduler import Daemon, DaemonSettings, describe_changes, prune_ignored_bodies
from watcher.store import Store, open_store
from watcher.store.models import Article, Source
from watcher.store.sources import Outcome, record_outcomes

FAST = DaemonSettings(tick=timedelta(seconds=0.1), lease=timedelta(seconds=0.5), watchdog_ticks=3,
                      dispatch_every=timedelta(seconds=0.2),
                      digest_every=timedelta(seconds=1), grace=timedelta(seconds=3))


def _write_config(path: Path, store_url: str, sources: list[str], extra: str = "") -> Path:
    lines = [f'store: {{url: "{store_url}"}}', "sources:"]
    lines += [f'  - {{name: {n}, kind: feed, url: "http://127.0.0.1:9/{n}.xml", interval: 1s}}' for n in sources]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


class RecordingPoller:
    """Marks the claimed sources polled (next poll = now + interval), optionally raising or blocking."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.fail_next = 0
        self.block: threading.Event | None = None

    def __call__(self, config: Config, store: Store, names: list[str]) -> list[Any]:
        self.calls.append(list(names))
        if self.block is not None:
            self.block.wait(10)
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("poller exploded")
        at = clock.now()
        with store.session() as session:
            record_outcomes(session, [Outcome(name=n, at=at, status="ok") for n in names],
                            {s.name: s.interval for s in config.sources}, timedelta(hours=1))
        return []

    def polled(self) -> list[str]:
        return [n for call in self.calls for n in call]


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    url = f"sqlite:///{tmp_path}/w.db"
    path = _write_config(tmp_path / "watcher.yaml", url, ["a", "b"])
    store = open_store(url)
    yield path, store
    store.close()


def _daemon(path: Path, store: Store, poller: RecordingPoller, settings: DaemonSettings = FAST) -> Daemon:
    return Daemon(load_config(path, env={}), store, settings, poller=poller, exclusive=True)


def test_a_job_that_raises_is_logged_and_the_scheduler_keeps_running(setup: tuple[Path, Store],
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    path, store = setup
    poller = RecordingPoller()
    poller.fail_next = 1
    errors_before = metrics.value(metrics.enable().job_errors, "tick")
    daemon = _daemon(path, store, poller)
    with caplog.at_level(logging.INFO):
        daemon.start()
        try:
            # The failed poll keeps its leases until they expire (0.5 s), then the sources are polled again.
            _wait(lambda: poller.polled().count("a") >= 2 and daemon.health()["status"] == "ok")
        finally:
            assert daemon.stop()
    assert metrics.value(metrics.enable().job_errors, "tick") == errors_before + 1
    failed = [r for r in caplog.records if r.getMessage() == "job.failed"]
    assert failed and failed[0].job == "tick" and "poller exploded" in repr(failed[0].exc_info[1])
    with store.session() as s:  # leases are all given back at stop
        assert s.scalars(select(Source.lease_owner).where(Source.lease_owner.is_not(None))).all() == []


def test_sources_are_polled_once_per_interval(setup: tuple[Path, Store]) -> None:
    path, store = setup
    poller = RecordingPoller()
    daemon = _daemon(path, store, poller)
    daemon.start()
    try:
        _wait(lambda: poller.polled().count("a") >= 2)
    finally:
        daemon.stop()
    # interval 1 s, tick 0.1 s: two polls of "a" need about a second; never two in one interval.
    with store.session() as s:
        row = s.scalars(select(Source).where(Source.name == "a")).one()
        assert row.next_poll_at > row.last_polled_at
    assert poller.polled().count("a") <= 3


def test_watchdog_reports_a_stalled_tick_then_recovers(setup: tuple[Path, Store]) -> None:
    path, store = setup
    poller = RecordingPoller()
    poller.block = threading.Event()
    daemon = _daemon(path, store, poller)
    daemon.start()
    try:
        _wait(lambda: daemon.health()["status"] == "unhealthy")
        report = daemon.health()
        assert any("tick has been running" in r for r in report["reasons"]) and report["db"] == "ok"
        poller.block.set()
        _wait(lambda: daemon.health()["status"] == "ok")
    finally:
        poller.block.set()
        daemon.stop()
    assert daemon.health()["reasons"][0] == "stopping"


def test_stop_releases_leases_of_work_still_in_flight(setup: tuple[Path, Store]) -> None:
    path, store = setup
    poller = RecordingPoller()
    poller.block = threading.Event()
    daemon = _daemon(path, store, poller, DaemonSettings(tick=timedelta(seconds=0.1), lease=timedelta(minutes=5),
                                                         grace=timedelta(seconds=0.3)))
    daemon.start()
    try:
        _wait(lambda: bool(poller.calls))
        assert daemon.stop() is False  # the poll is still blocked: not clean...
        with store.session() as s:  # ...but its sources are free for another daemon at once
            assert s.scalars(select(Source.lease_owner).where(Source.lease_owner.is_not(None))).all() == []
    finally:
        poller.block.set()


def test_reload_applies_a_valid_config_and_rejects_an_invalid_one(setup: tuple[Path, Store], tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    path, store = setup
    daemon = _daemon(path, store, RecordingPoller())
    daemon.prepare()
    url = daemon.config.store.url
    _write_config(path, url, ["a", "c"])  # b removed, c added
    with caplog.at_level(logging.INFO):
        assert daemon.reload(path)
    assert [s.name for s in daemon.config.sources] == ["a", "c"]
    with store.session() as s:
        enabled = dict(s.execute(select(Source.name, Source.enabled)).all())
    assert enabled == {"a": True, "b": False, "c": True}
    reloaded = [r for r in caplog.records if r.getMessage() == "config.reloaded"][0]
    assert reloaded.sources_added == "c" and reloaded.sources_removed == "b"

    path.write_text(path.read_text() + "bogus_section: 1\n", encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert not daemon.reload(path)
    assert [s.name for s in daemon.config.sources] == ["a", "c"]  # the running config is kept
    rejected = [r.error for r in caplog.records if r.getMessage() == "config.reload_rejected"]
    assert rejected and rejected[0].startswith(f"{path}:5 bogus_section: unknown key")


def test_describe_changes_names_changed_subscriptions(tmp_path: Path) -> None:
    base = tmp_path / "a.yaml"
    sub = "subscriptions:\n  - {name: s1, any: [Tunisie]}\n"
    old = load_config(_write_config(base, "sqlite:///x.db", ["a"], sub), env={})
    new = load_config(_write_config(base, "sqlite:///x.db", ["a"], sub.replace("Tunisie", "Maroc")), env={})
    changes = describe_changes(old, new)
    assert changes["subscriptions_changed"] == "s1" and changes["sources_changed"] == "-"


def test_retention_empties_old_ignored_bodies_only(store_url: str) -> None:
    store = open_store(store_url)
    now = clock.now()
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    with store.session() as s:
        for i, (status, fetched) in enumerate([("ignored", old), ("ignored", recent), ("relevant", old)]):
            s.add(Article(source="s", guid=f"g{i}", title="t", body="texte", fetched_at=fetched,
                          content_hash=f"h{i}", status=status))
    assert prune_ignored_bodies(store, older_than=timedelta(days=30)) == 1
    assert prune_ignored_bodies(store, older_than=timedelta(days=30)) == 0
    with store.session() as s:
        bodies = dict(s.execute(select(Article.guid, Article.body)).all())
    assert bodies == {"g0": "", "g1": "texte", "g2": "texte"}
    store.close()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_http_routes_health_metrics_and_errors() -> None:
    state = {"status": "ok"}
    server = HttpServer("127.0.0.1", 0)
    server.route("/healthz", health_handler(lambda: dict(state)))
    server.route("/metrics", metrics_handler)
    server.route("/web/", lambda r: Response(200, f"page {r.path} {r.query}".encode()))
    server.route("/boom", lambda r: 1 / 0)  # type: ignore[arg-type,return-value]
    server.start()
    base = "http://%s:%d" % server.address
    try:
        status, ctype, body = _get(base + "/healthz")
        assert status == 200 and ctype.startswith("application/json") and json.loads(body) == {"status": "ok"}
        state["status"] = "unhealthy"
        assert _get(base + "/healthz")[0] == 503
        status, ctype, body = _get(base + "/metrics")
        text = body.decode()
        assert status == 200 and ctype.startswith("text/plain")
        for name in ("watcher_polls_total", "watcher_fetch_seconds_bucket", "watcher_articles_total",
                     'watcher_alerts_total{outcome="retried"}', "watcher_outbox_depth", "watcher_sources_failing",
                     "process_resident_memory_bytes"):
            assert name in text
        assert _get(base + "/web/story/3?x=1") == (200, "text/plain; charset=utf-8", b"page /web/story/3 {'x': ['1']}")
        assert _get(base + "/nope")[0] == 404
        assert _get(base + "/boom")[0] == 500
        assert _get(base + "/healthz")[0] == 503  # still serving after a handler failed
    finally:
        server.stop()


def test_parse_address() -> None:
    assert parse_address("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_address("0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_address("[::1]:9000") == ("::1", 9000)
    assert parse_address(":9000") == ("0.0.0.0", 9000)
    assert parse_address("none") is None
    for bad in ("8080", "host:", "host:99999", "host:http"):
        with pytest.raises(ValueError):
            parse_address(bad)


def test_metrics_helpers_count() -> None:
    recorded = metrics.enable()
    before = metrics.value(recorded.alerts, "sent")
    metrics.record_alert("sent", 2)
    assert metrics.value(recorded.alerts, "sent") == before + 2
    with pytest.raises(ValueError):
        metrics.record_alert("lost")
    polls = metrics.value(recorded.polls, "x", "ok")
    metrics.record_poll("x", "ok", 0.3)
    new = metrics.value(recorded.articles, "new")
    metrics.record_articles(new=1, ignored=2)
    assert metrics.value(recorded.polls, "x", "ok") == polls + 1
    assert metrics.value(recorded.articles, "new") == new + 1


def test_a_one_shot_command_records_nothing_and_never_imports_prometheus() -> None:
    """`watcher poll` polls and stores without the daemon: no registry, no prometheus_client import."""
    code = ("import sys; from watcher import metrics; metrics.record_poll('x', 'ok', 0.1); "
            "metrics.record_articles(new=1); metrics.record_tick(__import__('datetime').datetime.now()); "
            "assert 'prometheus_client' not in sys.modules and metrics._metrics is None; "
            "metrics.enable(); assert 'prometheus_client' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_settings_come_from_the_config_and_options_win(tmp_path: Path) -> None:
    from watcher.cli import build_parser

    config = load_config(_write_config(tmp_path / "w.yaml", "sqlite:///x.db", ["a"],
                                       "daemon: {tick: 7s, lease: 1m, batch: 20}\n"), env={})
    args = build_parser().parse_args(["run", "--lease", "90s", "--http", "none"])
    settings = DaemonSettings.from_config(config.daemon, tick=args.tick, lease=args.lease, batch=args.batch,
                                          watchdog_ticks=args.watchdog_ticks, dispatch_every=args.dispatch_every)
    assert settings.tick == timedelta(seconds=7) and settings.batch == 20 and settings.watchdog_ticks == 3
    assert settings.lease == timedelta(seconds=90) and args.http is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--batch", "0"])
