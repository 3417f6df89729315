"""Loopback feed server for benchmarks: N WordPress-shaped RSS feeds served from a separate process.

Each feed has 20 French items with `content:encoded` (~100 KB), an ETag and a Last-Modified header.
Mode "conditional" answers 304 to matching validators; mode "unchanged" ignores them and sends the
same bytes with 200 (what many real servers do). Switch with `GET /_mode/<mode>`.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import socket
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


def _paragraph(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(55, 75))]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def make_feed(index: int, items: int = 20) -> bytes:
    """The bytes of feed number `index`: RSS 2.0 as WordPress writes it, unique text per feed and item."""
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
    for item in range(items):
        paragraphs = [_paragraph(rng) for _ in range(_PARAGRAPHS_PER_ITEM)]
        title = " ".join(rng.choice(_WORDS) for _ in range(8)).capitalize() + f" ({index}-{item})"
        slug = f"article-{index}-{item}"
        when = format_datetime(start - timedelta(hours=item * 3), usegmt=True)
        content = "".join(f"<p>{p}</p>\n" for p in paragraphs)
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
            f"\t\t<description><![CDATA[{paragraphs[0][:300]} [&#8230;]]]></description>\n"
            f"\t\t<content:encoded><![CDATA[{content}]]></content:encoded>\n"
            f"\t\t<wfw:commentRss>{base}/2024/05/{slug}/feed/</wfw:commentRss>\n"
            "\t\t<slash:comments>0</slash:comments>\n"
            "\t</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out).encode("utf-8")


def _serve(sock: socket.socket, feeds: int) -> None:
    from aiohttp import web

    bodies = [make_feed(i) for i in range(feeds)]
    etags = [f'"{hashlib.md5(b).hexdigest()}"' for b in bodies]
    state: dict[str, Any] = {"mode": "conditional", "hits": 0}

    async def feed(request: web.Request) -> web.Response:
        state["hits"] += 1
        index = int(request.match_info["index"])
        if not 0 <= index < feeds:
            raise web.HTTPNotFound()
        headers = {"ETag": etags[index], "Last-Modified": LAST_MODIFIED,
                   "Content-Type": "application/rss+xml; charset=UTF-8"}
        if state["mode"] == "conditional" and (
            request.headers.get("If-None-Match") == etags[index]
            or request.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            return web.Response(status=304, headers=headers)
        return web.Response(body=bodies[index], headers=headers)

    async def mode(request: web.Request) -> web.Response:
        state["mode"] = request.match_info["mode"]
        return web.Response(text=state["mode"])

    async def robots(request: web.Request) -> web.Response:
        return web.Response(text="User-agent: *\nDisallow: /private/\n")

    app = web.Application()
    app.router.add_get("/feed/{index}.xml", feed)
    app.router.add_get("/_mode/{mode}", mode)
    app.router.add_get("/robots.txt", robots)
    web.run_app(app, sock=sock, print=None, handle_signals=True, access_log=None)


class FeedServer:
    """Runs the feed server in a child process (so its CPU is not charged to the client being measured)."""

    def __init__(self, feeds: int) -> None:
        self.feeds = feeds
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(1024)
        self.port = self._sock.getsockname()[1]
        self._proc = multiprocessing.get_context("fork").Process(
            target=_serve, args=(self._sock, feeds), daemon=True)

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port}/feed/{index}.xml"

    def urls(self) -> list[str]:
        return [self.url(i) for i in range(self.feeds)]

    def set_mode(self, mode: str) -> None:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_mode/{mode}", timeout=30) as r:
            r.read()

    def __enter__(self) -> FeedServer:
        self._proc.start()
        self._sock.close()
        self.set_mode("conditional")  # waits until the child answers
        return self

    def __exit__(self, *exc: Any) -> None:
        self._proc.terminate()
        self._proc.join(5)
