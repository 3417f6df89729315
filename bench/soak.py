"""Soak benchmark: the daemon on 1,000 changing loopback feeds for a bounded time; memory must stay flat.

Usage: .venv/bin/python bench/soak.py [--minutes 10] [--feeds 1000] [--every 5] [--warmup 3]

`watcher run` (a subprocess, SQLite store in a temporary directory, 1-minute intervals, a Slack
notifier pointed at a local sink) polls N feeds from bench/feed_server.py in rotating mode: every minute
half the feeds (`--changing`) gain one new item and drop their oldest (at staggered times), the others
answer 304, so every cycle stores new articles and some of them raise alerts ("Tunisie Sénégal Maroc" as a phrase, about 1% of
items). Every `--every` seconds the script samples the daemon's RSS (with its worker process's, when
a big cycle has started one: watcher/prepare.py), open file descriptors
(/proc/PID/fd), the database size (file + WAL), the outbox depth (alerts not sent yet), the stored
articles and the server's request counters. At the end: the samples, the peak RSS and the RSS slope
(least squares, MB per minute) over the samples after `--warmup` minutes. Targets: RSS <= 150 MB and no
upward trend (slope x remaining minutes below 5 MB).
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feed_server import FeedServer  # noqa: E402
from procs import tree_rss_mb  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGET_RSS_MB = 150
FLAT_MB = 5.0  # a trend that would add less than this over the measured window counts as flat


@dataclass
class Sample:
    at: float  # seconds since the daemon started
    rss_mb: float
    fds: int
    db_mb: float
    outbox: int
    articles: int
    requests: int
    not_modified: int


class SlackSink:
    """Accepts every webhook POST (200) and counts them, in a thread of this process."""

    def __init__(self) -> None:
        self.posts = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.posts += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/services/T0/B0/sink"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def write_config(path: Path, db: Path, server: FeedServer, sink: str, interval: str) -> None:
    lines = [f'store: {{url: "sqlite:///{db}"}}',
             "defaults: {interval: %s, timeout: 20s, concurrency: 16, per_host: 16, robots: false}" % interval,
             "sources:"]
    lines += [f'  - {{name: feed-{i}, kind: feed, url: "{url}"}}' for i, url in enumerate(server.urls())]
    lines += ["notifiers:", f'  sink: {{type: slack, webhook_url: "{sink}"}}',
              # The bench feeds are dated 2024: max_age is lifted so their matches alert.
              "subscriptions:", '  - {name: trio, any: [\'"Tunisie Sénégal Maroc"\'], max_age: 3650d, '
              'notify: [{notifier: sink}]}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _db_counts(db: Path) -> tuple[int, int]:
    """(alerts not sent yet, stored articles), read-only, without disturbing the daemon's writes."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            outbox = conn.execute("select count(*) from alerts where status in ('pending', 'digest')").fetchone()[0]
            articles = conn.execute("select count(*) from articles").fetchone()[0]
        return outbox, articles
    except sqlite3.Error:
        return -1, -1  # schema not there yet, or busy


def sample(pid: int, db: Path, started: float, server: FeedServer) -> Sample:
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.exists())
    outbox, articles = _db_counts(db)
    stats = server.stats()
    return Sample(at=time.monotonic() - started, rss_mb=tree_rss_mb(pid), fds=len(os.listdir(f"/proc/{pid}/fd")),
                  db_mb=size / 1024**2, outbox=outbox, articles=articles, requests=stats["requests"],
                  not_modified=stats["not_modified"])


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points; 0 with fewer than two."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def _healthz(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return str(response.status)
    except Exception as exc:  # a refused connection or a 503 is what this column is for
        return type(exc).__name__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--interval", default="1m", help="every source's poll interval (default 1m)")
    parser.add_argument("--rotate", type=float, default=60.0, help="seconds between new items in a feed")
    parser.add_argument("--changing", type=float, default=0.5,
                        help="fraction of feeds that turn over (the others answer 304; default 0.5)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=3.0, help="minutes left out of the slope")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sink = SlackSink()
    port = _free_port()
    with FeedServer(args.feeds, rotate=args.rotate, changing=args.changing) as server, tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        db, config = Path(tmp) / "soak.db", Path(tmp) / "watcher.yaml"
        write_config(config, db, server, sink.url, args.interval)
        log = OUT / "soak_daemon.log"
        with open(log, "wb") as out:
            daemon = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "watcher"), "--config", str(config), "--log-level", "warning",
                 "run", "--http", f"127.0.0.1:{port}"], stdout=out, stderr=subprocess.STDOUT, cwd=tmp)
            started = time.monotonic()
            samples: list[Sample] = []
            print(f"daemon pid {daemon.pid}, {args.feeds} feeds ({args.changing:.0%} changing every {args.rotate:g} s), "
                  f"interval {args.interval}, "
                  f"{args.minutes:g} minutes; log {log}")
            print(f"{'t s':>6} {'RSS MB':>7} {'fds':>5} {'DB MB':>7} {'outbox':>7} {'articles':>9} "
                  f"{'requests':>9} {'304s':>7} healthz")
            try:
                while time.monotonic() - started < args.minutes * 60:
                    time.sleep(args.every)
                    if daemon.poll() is not None:
                        print(f"the daemon exited with {daemon.returncode}; see {log}")
                        break
                    s = sample(daemon.pid, db, started, server)
                    samples.append(s)
                    print(f"{s.at:6.0f} {s.rss_mb:7.1f} {s.fds:5d} {s.db_mb:7.1f} {s.outbox:7d} {s.articles:9d} "
                          f"{s.requests:9d} {s.not_modified:7d} {_healthz(port)}", flush=True)
            finally:
                if daemon.poll() is None:
                    daemon.send_signal(signal.SIGTERM)
                    try:
                        daemon.wait(30)
                    except subprocess.TimeoutExpired:
                        daemon.kill()
                        daemon.wait()
        sink.close()
        report(samples, args.warmup * 60, sink.posts, daemon.returncode)


def report(samples: list[Sample], warmup: float, posts: int, code: int | None) -> None:
    if not samples:
        print("no samples")
        return
    steady = [s for s in samples if s.at >= warmup]
    per_minute = slope([(s.at / 60, s.rss_mb) for s in steady])
    window = (steady[-1].at - steady[0].at) / 60 if steady else 0.0
    peak = max(s.rss_mb for s in samples)
    first, last = samples[0], samples[-1]
    print()
    print(f"peak RSS {peak:.1f} MB (target <= {TARGET_RSS_MB}): {'ok' if peak <= TARGET_RSS_MB else 'MISSED'}")
    print(f"RSS after warm-up: {steady[0].rss_mb if steady else 0:.1f} -> {steady[-1].rss_mb if steady else 0:.1f} MB, "
          f"slope {per_minute:+.2f} MB/min over {window:.1f} min ({len(steady)} samples): "
          f"{'flat' if abs(per_minute) * window < FLAT_MB else 'TREND'}")
    print(f"open fds {min(s.fds for s in samples)}..{max(s.fds for s in samples)}; "
          f"DB {first.db_mb:.1f} -> {last.db_mb:.1f} MB; outbox depth max {max(s.outbox for s in samples)}, "
          f"last {last.outbox}; {last.articles} articles; {last.requests} feed requests "
          f"({last.not_modified} answered 304); {posts} webhook posts received; daemon exit {code}")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
