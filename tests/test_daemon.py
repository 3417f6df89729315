"""`watcher run` as a subprocess on SQLite against loopback feeds and a Slack sink.

Polls happen on schedule (never two in one interval), /healthz and /metrics answer, a second daemon on
the same database refuses to start, SIGHUP reloads (and rejects a bad config), SIGTERM exits cleanly
within 10 s, and a restart neither polls early nor alerts again.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import (
    ROOT,
    Daemon,
    FeedSite,
    SlackSink,
    free_port,
    http_get,
    wait_for,
    write_config,
)
from tests.support.http import LocalServer

pytestmark = pytest.mark.timeout(120)
INTERVAL = 2.0
ARGS = ("--tick", "0.3s", "--lease", "5s", "--dispatch-every", "0.3s")


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


def test_daemon_polls_serves_health_stops_and_resumes(server: LocalServer, tmp_path: Path) -> None:
    site, sink = FeedSite(server), SlackSink(server)
    feeds = {f"f{i}": site.add_feed(f"/feed/{i}.xml", [f"f{i}-0"]) for i in range(3)}
    db = tmp_path / "data" / "watcher.db"
    config = write_config(tmp_path / "watcher.yaml", f"sqlite:///{db}", feeds, sink=sink.url, interval=f"{INTERVAL}s")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    daemon = Daemon(config, tmp_path / "run1.log", *ARGS, http=f"127.0.0.1:{port}")
    try:
        # Polls on schedule: every feed twice, never twice within one interval.
        wait_for(lambda: all(len(site.hits[p]) >= 2 for p in site.hits), 30, "two polls of every feed")
        wait_for(lambda: len(sink.counts()) == 3, 20, "the three backlog alerts")

        status, body = http_get(base + "/healthz")
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok" and health["db"] == "ok"
        assert health["sources"] == 3 and health["sources_failing"] == 0 and health["last_tick"]
        status, body = http_get(base + "/metrics")
        text = body.decode()
        assert status == 200
        assert 'watcher_polls_total{outcome="ok",source="f0"}' in text
        assert 'watcher_alerts_total{outcome="sent"} 3.0' in text
        assert "process_resident_memory_bytes" in text and "watcher_outbox_depth 0.0" in text

        # A second daemon on the same SQLite file refuses, and says why.
        second = subprocess.run([sys.executable, "-m", "watcher", "--config", str(config), "run", "--http", "none"],
                                capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert second.returncode == 1
        assert "already uses the SQLite database" in second.stderr and str(db) in second.stderr

        # A new item is alerted once.
        site.add_item("/feed/1.xml", "f1-1")
        wait_for(lambda: sink.counts()["f1-1"] == 1, 20, "the new item's alert")

        code, took = daemon.terminate()
        assert code == 0 and took < 10
        assert "daemon.stopped" in daemon.output() and "clean=True" in daemon.output()
    finally:
        daemon.stop_quietly()
    before = {path: list(times) for path, times in site.hits.items()}
    for times in before.values():
        assert min(_gaps(times)) >= INTERVAL * 0.75, f"polled twice in one interval: {_gaps(times)}"

    # Restart: the schedule comes from the store, so no feed is fetched before its interval is up,
    # and nothing already sent is sent again.
    daemon = Daemon(config, tmp_path / "run2.log", *ARGS, http=f"127.0.0.1:{port}")
    try:
        wait_for(lambda: all(len(site.hits[p]) > len(before[p]) for p in site.hits), 30, "polls after restart")
        for path, times in site.hits.items():
            first_after = times[len(before[path])]
            assert first_after - before[path][-1] >= INTERVAL * 0.75, f"{path} re-polled early after restart"
        site.add_item("/feed/2.xml", "f2-1")
        wait_for(lambda: sink.counts()["f2-1"] == 1, 20, "an alert after restart")
        assert all(count == 1 for count in sink.counts().values()), sink.counts()
        assert set(sink.counts()) == {"f0-0", "f1-0", "f2-0", "f1-1", "f2-1"}
        assert daemon.terminate()[0] == 0
    finally:
        daemon.stop_quietly()


def test_sighup_reloads_sources_and_rejects_a_bad_config(server: LocalServer, tmp_path: Path) -> None:
    site = FeedSite(server)
    feeds = {"f0": site.add_feed("/feed/0.xml", ["f0-0"])}
    store_url = f"sqlite:///{tmp_path}/watcher.db"
    config = write_config(tmp_path / "watcher.yaml", store_url, feeds, interval="1s")
    daemon = Daemon(config, tmp_path / "run.log", *ARGS)
    try:
        wait_for(lambda: site.hits["/feed/0.xml"], 30, "the first poll")
        feeds["f1"] = site.add_feed("/feed/1.xml", ["f1-0"])
        write_config(config, store_url, feeds, interval="1s")
        daemon.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: site.hits["/feed/1.xml"], 20, "the source added by SIGHUP to be polled")
        assert "config.reloaded" in daemon.output() and "sources_added=f1" in daemon.output()

        config.write_text(config.read_text() + "  - {name: bad, kind: rss, url: 'http://127.0.0.1:9/'}\n")
        daemon.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "config.reload_rejected" in daemon.output(), 20, "the bad config to be rejected")
        assert f"{config}:" in daemon.output() and "sources[2].kind" in daemon.output()
        count = len(site.hits["/feed/1.xml"])
        wait_for(lambda: len(site.hits["/feed/1.xml"]) > count, 20, "polls to go on with the old config")
        assert daemon.alive()
        code, took = daemon.terminate()
        assert code == 0 and took < 10
    finally:
        daemon.stop_quietly()
