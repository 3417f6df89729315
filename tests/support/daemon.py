"""Helpers for daemon tests: generated cooperation feeds, a Slack sink, and `watcher run` subprocesses."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from tests.support.http import LocalServer, Request

ROOT = Path(__file__).resolve().parents[2]

# Syllables of made-up words that make every generated article a different story for the
# near-duplicate detector (real vocabulary from a small pool would make them look alike).
_SYLLABLES = [consonant + vowel for consonant in "bdklmnrst" for vowel in "aeiou"]
_PAIRS = [("la Tunisie", "le Sénégal"), ("le Maroc", "la Côte d'Ivoire"), ("l'Égypte", "le Kenya"),
          ("l'Algérie", "le Cameroun"), ("le Rwanda", "le Ghana"), ("la Mauritanie", "le Mali")]


def story_text(key: str) -> tuple[str, str]:
    """(title, body) of a distinct cooperation article about Tunisia and digital matters, tagged `key`."""
    rng = random.Random(key)
    a, b = rng.choice(_PAIRS)
    words = [_word(rng) for _ in range(160)]
    title = f"Tunisie : {a} et {b} signent un accord de coopération numérique ({key})"
    body = (f"{' '.join(words[:40])}. {a.capitalize()} et {b} ont signé un protocole d'accord de coopération "
            f"numérique avec la Tunisie. {' '.join(words[40:100])}.\n\n{' '.join(words[100:])} ({key}).")
    return title, body


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def rss(base: str, path: str, keys: list[str], published: datetime | None = None) -> bytes:
    """An RSS 2.0 feed whose items carry their full text (content:encoded), so no page is fetched."""
    when = format_datetime(published or datetime.now(timezone.utc))
    items = []
    for key in keys:
        title, body = story_text(key)
        html = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
        items.append(f"""<item><title>{escape(title)}</title><link>{base}/a/{key}</link><guid>{base}/a/{key}</guid>
<pubDate>{when}</pubDate><description>{escape(title)}</description>
<content:encoded><![CDATA[{html}]]></content:encoded></item>""")
    return (f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>{escape(path)}</title><link>{base}{path}</link><description>test feed</description>
{''.join(items)}</channel></rss>""").encode("utf-8")


@dataclass
class FeedSite:
    """Feeds whose items are appended while the test runs; every request to a feed is timed."""

    server: LocalServer
    items: dict[str, list[str]] = field(default_factory=dict)  # feed path -> item keys
    hits: dict[str, list[float]] = field(default_factory=dict)  # feed path -> monotonic request times
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_feed(self, path: str, keys: list[str] | None = None) -> str:
        with self.lock:
            self.items[path] = list(keys or [])
            self.hits[path] = []
        self.server.routes[path] = self._handler(path)
        return self.server.url(path)

    def add_item(self, path: str, key: str) -> None:
        with self.lock:
            self.items[path].append(key)

    def all_keys(self) -> list[str]:
        with self.lock:
            return [k for keys in self.items.values() for k in keys]

    def _handler(self, path: str) -> Callable[[Request], tuple[int, dict[str, str], bytes]]:
        def handle(_request: Request) -> tuple[int, dict[str, str], bytes]:
            with self.lock:
                self.hits[path].append(time.monotonic())
                keys = list(self.items[path])
            return 200, {"Content-Type": "application/rss+xml; charset=utf-8"}, rss(self.server.base, path, keys)

        return handle


@dataclass
class SlackSink:
    """A Slack webhook on the LocalServer: counts each delivered story (by its key) and when."""

    server: LocalServer
    hooks: int = 1  # distinct webhook URLs (Slack allows one message per second per webhook)
    deliveries: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, story key)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for path in self.paths:
            self.server.routes[path] = self._handle

    @property
    def paths(self) -> list[str]:
        return [f"/services/T0/B{i}/sink" for i in range(self.hooks)]

    @property
    def url(self) -> str:
        return self.server.url(self.paths[0])

    @property
    def urls(self) -> list[str]:
        return [self.server.url(p) for p in self.paths]

    def _handle(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        text = json.loads(request.body or b"{}").get("text", "")
        at = time.monotonic()
        with self.lock:
            for key in _keys_in(text):
                self.deliveries.append((at, key))
        return 200, {"Content-Type": "text/plain"}, b"ok"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(key for _, key in self.deliveries)

    def times(self, key: str) -> list[float]:
        with self.lock:
            return [at for at, k in self.deliveries if k == key]


def _keys_in(text: str) -> list[str]:
    # Titles end with "(<key>)"; keys are word characters and dashes.
    import re

    return re.findall(r"\(([a-z0-9]+-[a-z0-9-]+)\)", text)


def write_config(path: Path, store_url: str, feeds: dict[str, str], *, sink: str | list[str] | None = None,
                 interval: str = "2s", extra: str = "") -> Path:
    """A config with one feed source per (name -> URL) and, with `sink`, Slack subscriptions on Tunisia
    (with several sink URLs, source i goes to subscription i % len(sinks))."""
    # Seeds would add articles the tests do not expect: point at a directory that does not exist.
    lines = [f'store: {{url: "{store_url}"}}', f'seeds: {{path: "{path.parent / "no-seeds"}"}}',
             "defaults: {timeout: 5s, per_host: 8, concurrency: 16, robots: false}",
             "alerts: {lease: 10s, backoff_base: 1s, backoff_cap: 5s}",
             "sources:"]
    lines += [f'  - {{name: {name}, kind: feed, url: "{url}", interval: {interval}, alert_backlog: true, '
              f'fetch_article: never}}' for name, url in feeds.items()]
    if isinstance(sink, str):
        lines += ["notifiers:", f'  sink: {{type: slack, webhook_url: "{sink}"}}',
                  "subscriptions:", '  - {name: tunisie, any: ["Tunisie"], notify: [{notifier: sink}]}']
    elif sink:
        names = list(feeds)
        lines += ["notifiers:"] + [f'  sink{i}: {{type: slack, webhook_url: "{url}"}}' for i, url in enumerate(sink)]
        lines += ["subscriptions:"]
        for i in range(len(sink)):
            mine = ", ".join(n for j, n in enumerate(names) if j % len(sink) == i)
            lines.append(f'  - {{name: tunisie{i}, any: ["Tunisie"], sources: [{mine}], '
                         f'notify: [{{notifier: sink{i}}}]}}')
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


class Daemon:
    """`watcher run` in a subprocess, with its log captured to a file."""

    def __init__(self, config: Path, log: Path, *args: str, http: str = "none", env: dict[str, str] | None = None,
                 log_format: str = "text") -> None:
        self.log_path = log
        self.command = [sys.executable, "-m", "watcher", "--config", str(config), "--log-level", "info",
                        "--log-format", log_format, "run", "--http", http, *args]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
        full_env.update(env or {})
        self._log = open(log, "ab")
        self.proc = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT, env=full_env)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self, timeout: float = 15) -> tuple[int, float]:
        """SIGTERM, then wait; returns (exit code, seconds it took)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._log.close()
        return code, time.monotonic() - started

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._log.close()

    def stop_quietly(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)
        if not self._log.closed:
            self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def dump(self, lines: int = 60) -> None:
        """Print the end of the log (pytest shows it when the test fails)."""
        print(f"---- {self.log_path.name} (pid {self.pid}) ----")
        print("\n".join(self.output().splitlines()[-lines:]))


def http_get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.1,
             detail: Callable[[], Any] | None = None) -> Any:
    """Poll `condition` until truthy; on timeout the error says what was awaited (and `detail()` if given)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f": {detail()}" if detail is not None else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{extra}")
        time.sleep(interval)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
