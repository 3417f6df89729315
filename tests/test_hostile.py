"""Hostile inputs end to end: each case goes through the real poll cycle (and one through the daemon).

Every case polls a config of two sources, the hostile one and a healthy feed, with `watcher.pipeline`
into a temporary SQLite store, and checks: the hostile source ends with a classified error (or with
the entries that can be recovered), the healthy source stores its article as if nothing happened, and
the test process's memory stays bounded (peak RSS during the poll, minus RSS before it). Bodies that
must never be buffered (1 GB, 50 MB, never-ending) come from `StreamServer`, which writes them as the
client reads, so the test process never holds them either. Fetch-level unit cases (decoder limits,
redirect rules) live in tests/test_fetch.py; these check that the whole pipeline and the daemon survive.
"""

from __future__ import annotations

import random
import resource
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.daemon import Daemon, FeedSite, free_port, http_get, rss, wait_for, write_config
from tests.support.http import LocalServer
from watcher import pipeline
from watcher.config import Config
from watcher.pipeline import PollResult
from watcher.store import open_store
from watcher.store.models import Article

MAX_BYTES = 1024 * 1024  # the hostile sources' cap: small, so every case stays fast
MEMORY_BOUND_MB = 200  # growth of the test process's RSS allowed for one poll (generous on purpose)
_XML = {"Content-Type": "application/rss+xml; charset=utf-8"}


# ---- a server for bodies that must be streamed ----------------------------------------------------

Writer = Callable[[socket.socket], None]


@dataclass
class StreamServer:
    """Raw HTTP/1.0 responses written as the client reads: huge bodies, trickles, never-ending bodies.

    routes map a path to a function that writes the whole response (status line included) to the
    socket; `sent` counts the bytes each path managed to write before the client hung up.
    """

    routes: dict[str, Writer] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            path = head.split(b" ", 2)[1].decode("latin-1").split("?")[0]
            self.paths.append(path)
            writer = self.routes.get(path)
            counting = _Counting(conn)
            try:
                if writer is None:
                    counting.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                else:
                    writer(counting)  # type: ignore[arg-type]
            except OSError:
                pass  # the client hung up: that is the point of most routes
            finally:
                self.sent[path] = self.sent.get(path, 0) + counting.count

    def close(self) -> None:
        self._stop.set()
        self._sock.close()


class _Counting:
    def __init__(self, conn: socket.socket) -> None:
        self.conn, self.count = conn, 0

    def sendall(self, data: bytes) -> None:
        self.conn.sendall(data)
        self.count += len(data)


def endless_body(total: int, content_type: str = "application/rss+xml", prefix: bytes = b"") -> Writer:
    """`total` bytes (no Content-Length, so the client cannot refuse up front) of feed-looking text."""
    block = b"<item><title>" + b"x" * 1000 + b"</title></item>\n"

    def write(conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.0 200 OK\r\nContent-Type: {content_type}\r\n\r\n".encode() + prefix)
        sent = 0
        while sent < total:
            conn.sendall(block)
            sent += len(block)

    return write


def trickle(interval: float = 0.2) -> Writer:
    """Slowloris: headers, then one byte every `interval` seconds, forever (until the client leaves)."""

    def write(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n<?xml version='1.0'?><rss>")
        while True:
            conn.sendall(b" ")
            time.sleep(interval)

    return write


# ---- the poll harness -----------------------------------------------------------------------------

HEALTHY_KEY = "sain-1"


def _rss_now_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1024**2


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so setup allocations do not count; False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bomb(size: int, encoding: str) -> bytes:
    """`size` zero bytes after an <rss> tag, gzip- or zlib-compressed without holding them in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    out = [packer.compress(b"<rss>")]
    block = b"\0" * (1024 * 1024)
    for _ in range(size // len(block)):
        out.append(packer.compress(block))
    out.append(packer.flush())
    return b"".join(out)


@dataclass
class Outcome:
    hostile: PollResult
    healthy: PollResult
    articles: list[Article]
    growth_mb: float

    def stored(self, source: str) -> list[Article]:
        return [a for a in self.articles if a.source == source]


@pytest.fixture
def web() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


@pytest.fixture
def stream() -> Iterator[StreamServer]:
    server = StreamServer()
    yield server
    server.close()


def poll_with(tmp_path: Path, web: LocalServer, hostile: dict[str, Any], timeout: str = "5s") -> Outcome:
    """Poll `hostile` (a source dict without name) next to a healthy feed; results and stored articles."""
    web.routes["/healthy.xml"] = (200, _XML, rss(web.base, "/healthy.xml", [HEALTHY_KEY]))
    store = open_store(f"sqlite:///{tmp_path}/hostile.db")
    config = Config.model_validate({
        "store": {"url": str(store.engine.url)},
        "defaults": {"interval": "30m", "timeout": timeout, "max_bytes": MAX_BYTES, "robots": False},
        "sources": [{"name": "hostile", "kind": "feed", **hostile},
                    {"name": "healthy", "kind": "feed", "url": web.url("/healthy.xml")}],
    })
    _reset_peak()
    before = _rss_now_mb()
    try:
        results = {r.source: r for r in pipeline.poll(config, store, due_only=False)}
        growth = _peak_mb() - before
        with store.session() as session:
            articles = list(session.scalars(select(Article)))
            session.expunge_all()
    finally:
        store.close()
    outcome = Outcome(results["hostile"], results["healthy"], articles, growth)
    # What every case shares: the healthy source is untouched, memory bounded.
    assert outcome.healthy.status == "ok" and outcome.healthy.new == 1, outcome.healthy
    assert [a.title for a in outcome.stored("healthy")][0].endswith(f"({HEALTHY_KEY})")
    assert outcome.growth_mb < MEMORY_BOUND_MB, f"RSS grew {outcome.growth_mb:.0f} MB"
    return outcome


def assert_error(result: PollResult, kind: str, *words: str) -> None:
    assert result.status == "error", result
    assert result.error_kind == kind, result
    assert "internal error" not in (result.error or ""), result.error
    for word in words:
        assert word in (result.error or "").lower(), result.error


def items(base: str, entries: list[tuple[str, str]], doctype: str = "") -> bytes:
    """RSS with (title, link) items and a short text body each."""
    body = "".join(f"<item><title>{t}</title><link>{link}</link><guid>{base}/g/{i}</guid>"
                   f"<description>Résumé {i}</description><content:encoded><![CDATA[<p>Texte de l'article "
                   f"{i} sur la coopération numérique entre le Sénégal et le Maroc.</p>]]></content:encoded></item>"
                   for i, (t, link) in enumerate(entries))
    return (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
            f"<link>{base}/</link><description>d</description>{body}</channel></rss>").encode("utf-8")


# ---- compression bombs, huge and slow bodies, redirects -------------------------------------------

@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_bomb_stops_at_the_cap(tmp_path: Path, web: LocalServer, encoding: str) -> None:
    body = bomb(256 * 1024**2, encoding)  # 256 MB that compress to ~250 KB
    assert len(body) < MAX_BYTES  # the compressed body itself is within the cap
    web.routes["/bomb.xml"] = (200, {**_XML, "Content-Encoding": encoding}, body)
    outcome = poll_with(tmp_path, web, {"url": web.url("/bomb.xml")})
    assert_error(outcome.hostile, "permanent", "too large")
    assert not outcome.stored("hostile")


def test_one_gigabyte_body_is_cut_at_the_cap_not_buffered(tmp_path: Path, web: LocalServer,
                                                          stream: StreamServer) -> None:
    stream.routes["/huge.xml"] = endless_body(1024**3)
    outcome = poll_with(tmp_path, web, {"url": stream.url("/huge.xml")})
    assert_error(outcome.hostile, "permanent", "too large")
    # The client hung up soon after the cap: the server could not push the gigabyte.
    wait_for(lambda: "/huge.xml" in stream.sent, 10, "the streaming handler to finish")
    assert stream.sent["/huge.xml"] < 64 * 1024**2, stream.sent


@pytest.mark.timeout(60)
def test_slowloris_is_stopped_by_the_total_timeout(tmp_path: Path, web: LocalServer, stream: StreamServer) -> None:
    stream.routes["/slow.xml"] = trickle(0.2)  # a byte every 0.2 s: no read timeout ever fires
    outcome = poll_with(tmp_path, web, {"url": stream.url("/slow.xml"), "timeout": "2s"})
    assert_error(outcome.hostile, "transient", "timed out")


def test_redirect_loop(tmp_path: Path, web: LocalServer) -> None:
    web.routes["/a.xml"] = (302, {"Location": "/b.xml"}, b"")
    web.routes["/b.xml"] = (302, {"Location": "/a.xml"}, b"")
    outcome = poll_with(tmp_path, web, {"url": web.url("/a.xml")})
    assert_error(outcome.hostile, "permanent", "redirect")
    assert len(web.hits("/a.xml")) <= 3


# ---- what the bytes say ---------------------------------------------------------------------------

def test_ten_thousand_entries_are_read_and_stored_once(tmp_path: Path, web: LocalServer) -> None:
    # 10,000 distinct entries (1.6 MB: this source's cap is raised); the feed's own text is enough, so
    # no page is fetched.
    entries = "".join(f"<item><title>Dépêche {i}</title><link>{web.base}/n/{i}</link>"
                      f"<content:encoded>&lt;p&gt;Brève {i} coopération&lt;/p&gt;</content:encoded></item>"
                      for i in range(10_000))
    body = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/'
            f'modules/content/"><channel><title>t</title><link>{web.base}/</link>{entries}</channel></rss>').encode()
    web.routes["/big.xml"] = (200, _XML, body)
    outcome = poll_with(tmp_path, web, {"url": web.url("/big.xml"), "max_bytes": "4MB"})
    assert outcome.hostile.status == "ok", outcome.hostile
    assert outcome.hostile.new + outcome.hostile.errors == 10_000, outcome.hostile
    assert len(outcome.stored("hostile")) == outcome.hostile.new >= 9_000
    assert not [r for r in web.requests if r.path.startswith("/n/")]  # no article page fetched


def test_deeply_nested_xml(tmp_path: Path, web: LocalServer) -> None:
    depth = 100_000
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>' + b"<x>" * depth
            + b"</x>" * depth + b"</channel></rss>")
    web.routes["/deep.xml"] = (200, _XML, body)
    outcome = poll_with(tmp_path, web, {"url": web.url("/deep.xml")})
    # Nothing to recover: no entries (an ok poll of an empty feed) or a classified parse error.
    assert outcome.hostile.status in ("ok", "error"), outcome.hostile
    if outcome.hostile.status == "error":
        assert_error(outcome.hostile, "permanent")
    assert not outcome.stored("hostile")


def test_billion_laughs_is_not_expanded(tmp_path: Path, web: LocalServer) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    doctype = f"<!DOCTYPE rss [{entities}]>"
    body = items(web.base, [("Rires &lol9; fin", f"{web.base}/a/1")], doctype)
    web.routes["/laughs.xml"] = (200, _XML, body)
    outcome = poll_with(tmp_path, web, {"url": web.url("/laughs.xml")})
    assert outcome.hostile.status in ("ok", "error"), outcome.hostile
    for article in outcome.stored("hostile"):
        assert "lollol" not in article.title + article.body
        assert len(article.title) < 100, article.title


def test_external_entities_are_never_fetched_or_read(tmp_path: Path, web: LocalServer) -> None:
    web.routes["/secret"] = (200, {"Content-Type": "text/plain"}, b"TOP-SECRET-PAYLOAD")
    doctype = (f'<!DOCTYPE rss [<!ENTITY ext SYSTEM "{web.url("/secret")}">'
               '<!ENTITY passwd SYSTEM "file:///etc/passwd">'
               f'<!ENTITY % param SYSTEM "{web.url("/secret")}"> %param;]>')
    body = items(web.base, [("Titre &ext; et &passwd; fin", f"{web.base}/a/1")], doctype)
    web.routes["/xxe.xml"] = (200, _XML, body)
    outcome = poll_with(tmp_path, web, {"url": web.url("/xxe.xml")})
    assert not web.hits("/secret"), "the external entity was fetched"
    assert outcome.hostile.status in ("ok", "error"), outcome.hostile
    for article in outcome.stored("hostile"):
        text = article.title + article.body + (article.summary or "")
        assert "TOP-SECRET" not in text and "root:" not in text


def test_invalid_utf8_keeps_the_readable_entries(tmp_path: Path, web: LocalServer) -> None:
    body = items(web.base, [("Accord numérique MARK", f"{web.base}/a/1"), ("Second accord", f"{web.base}/a/2")])
    body = body.replace(b"MARK", b"\xff\xfe\xc3(")  # bytes no UTF-8 decoder accepts
    web.routes["/bad-utf8.xml"] = (200, _XML, body)
    outcome = poll_with(tmp_path, web, {"url": web.url("/bad-utf8.xml")})
    assert outcome.hostile.status == "ok", outcome.hostile
    titles = sorted(a.title for a in outcome.stored("hostile"))
    assert len(titles) == 2 and titles[1] == "Second accord", titles
    assert titles[0].startswith("Accord numérique"), titles


MISLABELLED = [("utf-8", "windows-1252"), ("iso-8859-1", "utf-8")]


def _mislabelled(tmp_path: Path, web: LocalServer, declared: str, actual: str) -> Article:
    text = items(web.base, [("Coopération numérique", f"{web.base}/a/1")]).decode("utf-8")
    body = text.replace('encoding="UTF-8"', f'encoding="{declared}"').encode(actual)
    web.routes["/mislabelled.xml"] = (200, {"Content-Type": f"application/rss+xml; charset={declared}"}, body)
    outcome = poll_with(tmp_path, web, {"url": web.url("/mislabelled.xml")})
    assert outcome.hostile.status == "ok", outcome.hostile
    [article] = outcome.stored("hostile")
    return article


@pytest.mark.parametrize("declared, actual", MISLABELLED)
def test_mislabelled_charset_keeps_the_entries(tmp_path: Path, web: LocalServer, declared: str, actual: str) -> None:
    article = _mislabelled(tmp_path, web, declared, actual)
    # The entry survives; its accented letters may not (see the next test).
    assert article.title.startswith("Coop") and article.title.endswith("rique"), article.title
    assert "Maroc" in article.body


@pytest.mark.parametrize("declared, actual", MISLABELLED)
def test_mislabelled_charset_reads_the_real_charset(tmp_path: Path, web: LocalServer, declared: str,
                                                    actual: str) -> None:
    assert _mislabelled(tmp_path, web, declared, actual).title == "Coopération numérique"


@pytest.mark.parametrize("name, content_type, body, words", [
    ("html", "text/html; charset=utf-8",
     b"<!DOCTYPE html><html><head><title>Accueil</title></head><body><p>Bienvenue</p></body></html>", ("html",)),
    ("empty", "application/rss+xml", b"", ("empty",)),
    ("garbage", "application/rss+xml", bytes(random.Random(7).getrandbits(8) for _ in range(200_000)), ()),
])
def test_not_a_feed_is_a_permanent_error(tmp_path: Path, web: LocalServer, name: str, content_type: str,
                                         body: bytes, words: tuple[str, ...]) -> None:
    web.routes[f"/{name}.xml"] = (200, {"Content-Type": content_type}, body)
    outcome = poll_with(tmp_path, web, {"url": web.url(f"/{name}.xml")})
    assert_error(outcome.hostile, "permanent", *words)
    assert not outcome.stored("hostile")


def test_javascript_and_file_links_are_rejected(tmp_path: Path, web: LocalServer) -> None:
    body = items(web.base, [("Piège script", "javascript:alert(document.cookie)"),
                            ("Piège fichier", "file:///etc/passwd"),
                            ("Piège data", "data:text/html,<script>alert(1)</script>"),
                            ("Article honnête", f"{web.base}/a/ok")])
    web.routes["/links.xml"] = (200, _XML, body)
    outcome = poll_with(tmp_path, web, {"url": web.url("/links.xml"), "fetch_article": "always"})
    stored = outcome.stored("hostile")
    assert all(a.url and a.url.startswith("http") for a in stored), [a.url for a in stored]
    assert all((a.canonical_url or "http").startswith("http") for a in stored)
    assert not any("passwd" in (a.body or "") or "root:" in (a.body or "") for a in stored)
    assert outcome.hostile.status == "ok", outcome.hostile


def test_fifty_megabyte_article_page(tmp_path: Path, web: LocalServer, stream: StreamServer) -> None:
    # The feed has no full text, so the page is fetched: 50 MB of text, cut at the cap.
    text = b"<html><body><article>" + b"<p>" + b"mot " * 2000 + b"</p>"
    stream.routes["/a/huge"] = endless_body(50 * 1024**2, "text/html; charset=utf-8", text)
    body = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
            f"<link>{web.base}/</link><item><title>Article géant</title><link>{stream.url('/a/huge')}</link>"
            f"<description>Résumé de l'article géant sur la coopération numérique.</description></item>"
            f"</channel></rss>").encode()
    web.routes["/pages.xml"] = (200, _XML, body)
    outcome = poll_with(tmp_path, web, {"url": web.url("/pages.xml")})
    assert outcome.hostile.status == "ok", outcome.hostile
    assert stream.paths == ["/a/huge"]
    # The page is refused (too large, a permanent failure): the feed's summary stands in for it.
    [article] = outcome.stored("hostile")
    assert article.title == "Article géant" and "Résumé" in article.body
    wait_for(lambda: "/a/huge" in stream.sent, 10, "the streaming handler to finish")
    assert stream.sent["/a/huge"] < 32 * 1024**2


# ---- the daemon against all of it ----------------------------------------------------------------

def _healthy(port: int) -> bool:
    try:
        return http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200
    except OSError:  # not listening yet
        return False


@pytest.mark.timeout(120)
def test_daemon_stays_up_and_keeps_polling_the_healthy_source(tmp_path: Path, web: LocalServer,
                                                              stream: StreamServer) -> None:
    site = FeedSite(web)
    healthy = site.add_feed("/healthy.xml", ["sain-0"])
    web.routes["/bomb.xml"] = (200, {**_XML, "Content-Encoding": "gzip"}, bomb(64 * 1024**2, "gzip"))
    web.routes["/loop.xml"] = (302, {"Location": "/loop.xml"}, b"")
    web.routes["/html.xml"] = (200, {"Content-Type": "text/html"}, b"<html><body>nope</body></html>")
    web.routes["/garbage.xml"] = (200, _XML, bytes(random.Random(3).getrandbits(8) for _ in range(50_000)))
    web.routes["/secret"] = (200, {"Content-Type": "text/plain"}, b"TOP-SECRET")
    web.routes["/xxe.xml"] = (200, _XML, items(web.base, [("X &ext; Y", f"{web.base}/a/x")],
                                               f'<!DOCTYPE rss [<!ENTITY ext SYSTEM "{web.url("/secret")}">]>'))
    stream.routes["/huge.xml"] = endless_body(1024**3)
    stream.routes["/slow.xml"] = trickle(0.3)
    feeds = {"healthy": healthy, "bomb": web.url("/bomb.xml"), "loop": web.url("/loop.xml"),
             "html": web.url("/html.xml"), "garbage": web.url("/garbage.xml"), "xxe": web.url("/xxe.xml"),
             "huge": stream.url("/huge.xml"), "slow": stream.url("/slow.xml")}
    config = write_config(tmp_path / "watcher.yaml", f"sqlite:///{tmp_path}/daemon.db", feeds, interval="2s")
    text = config.read_text().replace("defaults: {timeout: 5s,", f"defaults: {{timeout: 3s, max_bytes: {MAX_BYTES},")
    config.write_text(text)
    port = free_port()
    daemon = Daemon(config, tmp_path / "daemon.log", "--tick", "1s", http=f"127.0.0.1:{port}")
    try:
        wait_for(lambda: _healthy(port), 30, "the daemon's /healthz")
        wait_for(lambda: len(site.hits["/healthy.xml"]) >= 2, 30, "two polls of the healthy source")
        site.add_item("/healthy.xml", "sain-1")  # new content still arrives while the hostile ones fail
        polls = len(site.hits["/healthy.xml"])
        wait_for(lambda: len(site.hits["/healthy.xml"]) >= polls + 2, 30, "two more polls of the healthy source")
        assert daemon.alive(), daemon.output()
        assert _healthy(port)
        assert stream.paths.count("/slow.xml") >= 1 and stream.paths.count("/huge.xml") >= 1
        assert not web.hits("/secret")
    finally:
        code = daemon.terminate() if daemon.alive() else (daemon.proc.returncode, 0.0)
    assert code[0] == 0, daemon.output()
    store = open_store(f"sqlite:///{tmp_path}/daemon.db")
    try:
        with store.session() as session:
            stored = {(a.source, a.title.rsplit("(", 1)[-1].rstrip(")")) for a in session.scalars(select(Article))}
    finally:
        store.close()
    assert {("healthy", "sain-0"), ("healthy", "sain-1")} <= stored, stored
    assert "Traceback" not in daemon.output(), daemon.output()[-3000:]
