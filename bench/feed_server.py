"""Loopback feed server for benchmarks: N WordPress-shaped RSS feeds served from a separate process.

Each feed has 20 French items with `content:encoded` (~100 KB), an ETag and a Last-Modified header.
Mode "conditional" answers 304 to matching validators; mode "unchanged" ignores them and sends the
same bytes with 200 (what many real servers do). Switch with `GET /_mode/<mode>`. `GET /_window/<n>`
moves every feed on to items n .. n + 19: new guids, text and validators, as after a busy day.

Options (all off by default, so the default server is the one the benchmarks were first measured on):
- `items`, `paragraphs`: smaller feeds (bench/scale.py serves 100,000 of them from one process);
- `rotate` (seconds) and `changing` (fraction of feeds): every `rotate` seconds a changing feed gains
  one new item and drops its oldest (feeds change at staggered times), for the soak benchmark;
bodies are then built on demand and only the current window is kept. `GET /_stats` returns the request
counters as JSON (feed requests, 200s, 304s, bytes sent, robots.txt requests) for the tables.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
import socket
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

LAST_MODIFIED = "Mon, 20 May 2024 08:00:00 GMT"
_WORDS = (
    "coopération numérique accord partenariat protocole signé ministre télécommunications Tunisie "
    "Sénégal Maroc Égypte Côte d'Ivoire cybersécurité intelligence artificielle 5G fibre optique "
    "transformation digitale infrastructures compétences formation jeunes startups innovation "
    "gouvernement agence régulation données centre souveraineté plateforme services paiement mobile "
    "réseau connectivité haut débit satellite développement économie investissement banque mondiale"
).split()
_PARAGRAPHS_PER_ITEM = 6


def _paragraph(rng: random.Random, words: int = 65) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(words - 10, words + 10))]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def make_feed(index: int, items: int = 20, *, window: int | None = None,
              paragraphs: int = _PARAGRAPHS_PER_ITEM) -> bytes:
    """The bytes of feed number `index`: RSS 2.0 as WordPress writes it, unique text per feed and item.

    With `window` (rotating feeds), the feed holds items `window .. window + items - 1`, newest first,
    each item's text drawn from its own seed so an item reads the same in every window that shows it.
    """
    rng = random.Random(index)
    base = f"https://site{index}.example.org"
    start = datetime(2024, 5, 20, 8, 0, tzinfo=timezone.utc)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/">\n<channel>\n'
        f"\t<title>Site {index} Actualités</title>\n"
        f'\t<atom:link href="{base}/feed/" rel="self" type="application/rss+xml" />\n'
        f"\t<link>{base}</link>\n\t<description>Actualités du numérique</description>\n"
        f"\t<lastBuildDate>{format_datetime(start, usegmt=True)}</lastBuildDate>\n"
        "\t<language>fr-FR</language>\n\t<sy:updatePeriod>hourly</sy:updatePeriod>\n"
        "\t<generator>https://wordpress.org/?v=6.5.3</generator>\n"
    ]
    numbers = range(items) if window is None else range(window + items - 1, window - 1, -1)
    for item in numbers:
        if window is not None:
            rng = random.Random(f"{index}:{item}")
        texts = [_paragraph(rng) for _ in range(paragraphs)]
        title = " ".join(rng.choice(_WORDS) for _ in range(8)).capitalize() + f" ({index}-{item})"
        slug = f"article-{index}-{item}"
        hours = item * 3 if window is None else -item  # rotating: a higher number is a newer item
        when = format_datetime(start - timedelta(hours=hours), usegmt=True)
        content = "".join(f"<p>{p}</p>\n" for p in texts)
        out.append(
            "\t<item>\n"
            f"\t\t<title>{title}</title>\n"
            f"\t\t<link>{base}/2024/05/{slug}/</link>\n"
            f"\t\t<comments>{base}/2024/05/{slug}/#respond</comments>\n"
            "\t\t<dc:creator><![CDATA[Rédaction]]></dc:creator>\n"
            f"\t\t<pubDate>{when}</pubDate>\n"
            "\t\t<category><![CDATA[Télécoms]]></category>\n"
            "\t\t<category><![CDATA[Coopération]]></category>\n"
            f'\t\t<guid isPermaLink="false">{base}/?p={100000 + item}</guid>\n'
            f"\t\t<description><![CDATA[{texts[0][:300]} [&#8230;]]]></description>\n"
            f"\t\t<content:encoded><![CDATA[{content}]]></content:encoded>\n"
            f"\t\t<wfw:commentRss>{base}/2024/05/{slug}/feed/</wfw:commentRss>\n"
            "\t\t<slash:comments>0</slash:comments>\n"
            "\t</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out).encode("utf-8")


class _Feeds:
    """The bodies, validators and request counters of the server process."""

    def __init__(self, feeds: int, items: int, paragraphs: int, rotate: float | None, changing: float,
                 start_empty: bool = False) -> None:
        self.feeds, self.items, self.paragraphs = feeds, items, paragraphs
        self.rotate, self.changing, self.start_empty = rotate, changing, start_empty
        self.started = time.monotonic()
        self.counts = {"requests": 0, "ok": 0, "not_modified": 0, "bytes": 0, "robots": 0}
        self.cache: dict[int, tuple[int, bytes, str, str]] = {}  # index -> (window, body, etag, last-modified)
        if rotate is None:
            for index in range(feeds):
                body = make_feed(index, items, paragraphs=paragraphs)
                self.cache[index] = (0, body, f'"{hashlib.md5(body).hexdigest()}"', LAST_MODIFIED)

    def move_to(self, window: int) -> None:
        """Static feeds only: every feed now holds items `window .. window + items - 1` (new guids, new
        text and new validators), as if each site had published `window` articles since."""
        modified = format_datetime(datetime(2024, 5, 20, 8, 0, tzinfo=timezone.utc) + timedelta(hours=window),
                                   usegmt=True)
        for index in range(self.feeds):
            body = make_feed(index, self.items, window=window, paragraphs=self.paragraphs)
            self.cache[index] = (0, body, f'"{hashlib.md5(body).hexdigest()}"', modified)

    def window(self, index: int) -> int:
        if self.rotate is None or (index * 0.6180339887) % 1.0 >= self.changing:
            return 0
        # Staggered: feed `index` turns over `index / feeds` of a period after feed 0.
        return int((time.monotonic() - self.started) / self.rotate + index / self.feeds)

    def get(self, index: int) -> tuple[int, bytes, str, str]:
        window = self.window(index)
        cached = self.cache.get(index)
        if cached is None or cached[0] != window:
            items = min(self.items, window) if self.start_empty else self.items
            first = max(0, window - items) if self.start_empty else window
            body = make_feed(index, items, window=first if self.rotate is not None else None,
                             paragraphs=self.paragraphs)
            modified = datetime(2024, 5, 20, 8, 0, tzinfo=timezone.utc) + timedelta(minutes=window)
            cached = (window, body, f'"{hashlib.md5(body).hexdigest()}"', format_datetime(modified, usegmt=True))
            self.cache[index] = cached
        return cached


def _serve(sock: socket.socket, feeds: int, items: int = 20, paragraphs: int = _PARAGRAPHS_PER_ITEM,
           rotate: float | None = None, changing: float = 1.0, start_empty: bool = False) -> None:
    from aiohttp import web

    data = _Feeds(feeds, items, paragraphs, rotate, changing, start_empty)
    counts = data.counts
    state: dict[str, Any] = {"mode": "conditional", "hits": 0}

    async def feed(request: web.Request) -> web.Response:
        state["hits"] += 1
        counts["requests"] += 1
        index = int(request.match_info["index"])
        if not 0 <= index < feeds:
            raise web.HTTPNotFound()
        _, body, etag, modified = data.get(index)
        headers = {"ETag": etag, "Last-Modified": modified,
                   "Content-Type": "application/rss+xml; charset=UTF-8"}
        if state["mode"] == "conditional" and (
            request.headers.get("If-None-Match") == etag
            or request.headers.get("If-Modified-Since") == modified
        ):
            counts["not_modified"] += 1
            return web.Response(status=304, headers=headers)
        counts["ok"] += 1
        counts["bytes"] += len(body)
        return web.Response(body=body, headers=headers)

    async def mode(request: web.Request) -> web.Response:
        state["mode"] = request.match_info["mode"]
        return web.Response(text=state["mode"])

    async def move(request: web.Request) -> web.Response:
        data.move_to(int(request.match_info["window"]))
        return web.Response(text="moved")

    async def stats(request: web.Request) -> web.Response:
        return web.Response(text=json.dumps(counts), content_type="application/json")

    async def robots(request: web.Request) -> web.Response:
        counts["robots"] += 1
        return web.Response(text="User-agent: *\nDisallow: /private/\n")

    app = web.Application()
    app.router.add_get("/feed/{index}.xml", feed)
    app.router.add_get("/_mode/{mode}", mode)
    app.router.add_get("/_window/{window}", move)
    app.router.add_get("/_stats", stats)
    app.router.add_get("/robots.txt", robots)
    web.run_app(app, sock=sock, print=None, handle_signals=True, access_log=None)


class FeedServer:
    """Runs the feed server in a child process (so its CPU is not charged to the client being measured)."""

    def __init__(self, feeds: int, *, items: int = 20, paragraphs: int = _PARAGRAPHS_PER_ITEM,
                 rotate: float | None = None, changing: float = 1.0, start_empty: bool = False) -> None:
        self.feeds = feeds
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(1024)
        self.port = self._sock.getsockname()[1]
        self._proc = multiprocessing.get_context("fork").Process(
            target=_serve, args=(self._sock, feeds, items, paragraphs, rotate, changing, start_empty),
            daemon=True)

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port}/feed/{index}.xml"

    def urls(self) -> list[str]:
        return [self.url(i) for i in range(self.feeds)]

    def set_mode(self, mode: str) -> None:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_mode/{mode}", timeout=30) as r:
            r.read()

    def move_to(self, window: int) -> None:
        """Static feeds: serve items `window .. window + 19` of every feed from now on (see _Feeds.move_to)."""
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_window/{window}", timeout=600) as r:
            r.read()

    def stats(self) -> dict[str, int]:
        """The server's counters: requests, ok, not_modified, bytes (feeds) and robots (robots.txt)."""
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stats", timeout=30) as r:
            return json.loads(r.read())

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def __enter__(self) -> FeedServer:
        self._proc.start()
        self._sock.close()
        deadline = time.monotonic() + 600  # building 1,000 bodies of 100 KB takes a few seconds
        while True:
            try:
                self.set_mode("conditional")  # succeeds once the child answers
                return self
            except OSError:
                if time.monotonic() > deadline or not self._proc.is_alive():
                    raise
                time.sleep(0.2)

    def __exit__(self, *exc: Any) -> None:
        self._proc.terminate()
        self._proc.join(5)
