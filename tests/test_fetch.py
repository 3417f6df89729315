"""Fetcher: limits, conditional GET, redirects, decompression caps, robots.txt, proxies, classified errors."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import brotli
import pytest

from tests.support.http import LocalServer, Request
from watcher import USER_AGENT
from watcher.fetch import FetchError, Fetcher, Response, make_decoder, parse_retry_after

pytestmark = pytest.mark.timeout(30)


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def fetch(url: str, **kwargs: Any) -> Response:
    fetcher_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in (
        "concurrency", "per_host", "delay", "connect_timeout", "read_timeout", "max_redirects", "robots_ttl")}
    async with Fetcher(**fetcher_kwargs) as fetcher:
        return await fetcher.get(url, **kwargs)


def fetch_error(url: str, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        run(fetch(url, **kwargs))
    assert info.value.url == url  # every error names the URL that was asked for
    assert url in str(info.value)
    return info.value


@pytest.fixture(scope="module")
def shared_server() -> Any:
    with LocalServer() as srv:  # one server for the module: shutting one down costs 0.5 s
        yield srv


@pytest.fixture
def server(shared_server: LocalServer) -> LocalServer:
    shared_server.routes.clear()
    shared_server.requests.clear()
    return shared_server


# ---- a raw asyncio server for misbehaving peers ---------------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(guarded, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.close()


# ---- success, headers and conditional GET ---------------------------------------------------------

def test_plain_get_sends_user_agent_and_returns_body(server: LocalServer) -> None:
    server.routes["/feed.xml"] = (200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, b"<rss/>")
    response = run(fetch(server.url("/feed.xml")))
    assert (response.status, response.body, response.etag, response.not_modified) == (200, b"<rss/>", '"v1"', False)
    assert response.content_type == "application/rss+xml"
    assert response.final_url == response.url == server.url("/feed.xml")
    request = server.hits("/feed.xml")[0]
    assert request.headers["user-agent"] == USER_AGENT
    assert "gzip" in request.headers["accept-encoding"]
    assert "if-none-match" not in request.headers


def test_conditional_get_sends_validators_and_maps_304(server: LocalServer) -> None:
    lm = "Mon, 20 May 2024 08:00:00 GMT"

    def feed(req: Request) -> tuple[int, dict[str, str], bytes]:
        headers = {"ETag": '"abc"', "Last-Modified": lm}
        if req.headers.get("if-none-match") == '"abc"' or req.headers.get("if-modified-since") == lm:
            return 304, headers, b""
        return 200, headers, b"<rss>body</rss>"

    server.routes["/feed"] = feed
    first = run(fetch(server.url("/feed")))
    assert (first.status, first.etag, first.last_modified) == (200, '"abc"', lm)
    second = run(fetch(server.url("/feed"), etag=first.etag, last_modified=first.last_modified))
    assert second.not_modified and second.status == 304 and second.body == b""
    assert (second.etag, second.last_modified) == ('"abc"', lm)
    sent = server.hits("/feed")[1].headers
    assert sent["if-none-match"] == '"abc"' and sent["if-modified-since"] == lm


def test_304_without_validators_keeps_the_ones_sent(server: LocalServer) -> None:
    server.routes["/feed"] = (304, {}, b"")
    response = run(fetch(server.url("/feed"), etag='"old"', last_modified="Tue, 01 Jan 2019 00:00:00 GMT"))
    assert response.not_modified and response.etag == '"old"'
    assert response.last_modified == "Tue, 01 Jan 2019 00:00:00 GMT"


def test_extra_headers_are_sent(server: LocalServer) -> None:
    server.routes["/x"] = (200, {}, b"ok")
    run(fetch(server.url("/x"), headers={"Accept-Language": "fr", "user-agent": "Custom/1.0"}))
    request = server.hits("/x")[0]
    assert request.headers["accept-language"] == "fr"
    assert request.headers["user-agent"] == "Custom/1.0"  # replaced, not sent twice


# ---- status classification ------------------------------------------------------------------------

@pytest.mark.parametrize("status,kind", [(500, "transient"), (502, "transient"), (408, "transient"),
                                         (404, "permanent"), (410, "permanent"), (403, "permanent"),
                                         (400, "permanent")])
def test_http_errors_are_classified(server: LocalServer, status: int, kind: str) -> None:
    server.routes["/x"] = (status, {}, b"nope")
    error = fetch_error(server.url("/x"))
    assert (error.kind, error.status) == (kind, status)
    assert f"HTTP {status}" in error.reason


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_returned_not_slept(server: LocalServer, status: int) -> None:
    server.routes["/x"] = (status, {"Retry-After": "120"}, b"slow down")
    error = fetch_error(server.url("/x"))
    assert (error.kind, error.retry_after, error.status) == ("transient", 120.0, status)


def test_retry_after_http_date() -> None:
    from watcher import clock
    from datetime import datetime, timezone

    clock.freeze(datetime(2024, 5, 20, 8, 0, tzinfo=timezone.utc))
    try:
        assert parse_retry_after("Mon, 20 May 2024 08:05:00 GMT") == 300.0
        assert parse_retry_after("Mon, 20 May 2024 07:00:00 GMT") == 0.0
        assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    finally:
        clock.freeze(None)


def test_429_without_retry_after(server: LocalServer) -> None:
    server.routes["/x"] = (429, {}, b"")
    error = fetch_error(server.url("/x"))
    assert error.kind == "transient" and error.retry_after is None


@pytest.mark.parametrize("url", ["ftp://example.org/feed", "javascript:alert(1)", "file:///etc/passwd",
                                 "/relative/feed", "mailto:a@b.c"])
def test_only_http_urls_are_fetched(url: str) -> None:
    error = fetch_error(url)
    assert error.kind == "permanent" and "http" in error.reason


def test_connection_refused_is_transient() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    error = fetch_error(f"http://127.0.0.1:{port}/feed")
    assert error.kind == "transient" and "connection failed" in error.reason


# ---- timeouts -------------------------------------------------------------------------------------

def test_connect_timeout_on_a_socket_that_never_accepts() -> None:
    # A listening socket with a backlog of 0 that never accepts: once one connection fills the queue,
    # the kernel drops further SYNs, so a connect hangs until the client gives up.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        error = fetch_error(f"http://127.0.0.1:{port}/feed", connect_timeout=0.3, timeout=5, robots=False)
        assert error.kind == "transient" and "connect timeout" in error.reason
    finally:
        filler.close()
        listener.close()


def test_read_timeout_when_the_server_never_answers() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    async def go() -> FetchError:
        async with raw_server(silent) as base:
            with pytest.raises(FetchError) as info:
                await fetch(base + "/feed", read_timeout=0.3, timeout=5, robots=False)
            return info.value

    error = run(go())
    assert error.kind == "transient" and "read timeout" in error.reason


def test_total_timeout_stops_a_never_ending_trickle() -> None:
    # Each byte arrives well within the read timeout, so only the total timeout can end this.
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n")
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.02)

    async def go() -> tuple[FetchError, float]:
        async with raw_server(trickle) as base:
            started = time.monotonic()
            with pytest.raises(FetchError) as info:
                await fetch(base + "/feed", timeout=0.5, robots=False)
            return info.value, time.monotonic() - started

    error, elapsed = run(go())
    assert error.kind == "transient" and "total" in error.reason
    assert elapsed < 5  # it did stop (the body alone would take 2,000 s)


def test_slowloris_headers_hit_the_total_timeout() -> None:
    async def slow_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        while True:
            writer.write(b"X-Pad: y\r\n")
            await writer.drain()
            await asyncio.sleep(0.02)

    async def go() -> FetchError:
        async with raw_server(slow_headers) as base:
            with pytest.raises(FetchError) as info:
                await fetch(base + "/feed", timeout=0.5, robots=False)
            return info.value

    error = run(go())
    assert error.kind == "transient"


# ---- redirects ------------------------------------------------------------------------------------

def test_relative_redirect_is_followed(server: LocalServer) -> None:
    server.routes["/old"] = (301, {"Location": "/new"}, b"")
    server.routes["/new"] = (200, {}, b"moved here")
    response = run(fetch(server.url("/old")))
    assert response.body == b"moved here"
    assert (response.url, response.final_url) == (server.url("/old"), server.url("/new"))


def test_redirect_loop_is_permanent_and_names_the_urls(server: LocalServer) -> None:
    server.routes["/a"] = (302, {"Location": "/b"}, b"")
    server.routes["/b"] = (302, {"Location": server.url("/a")}, b"")
    error = fetch_error(server.url("/a"))
    assert error.kind == "permanent" and "redirect loop" in error.reason
    assert server.url("/b") in error.reason
    assert len(server.hits("/a")) == 1  # the loop is seen without going round it again


def test_more_than_five_redirects_is_permanent(server: LocalServer) -> None:
    for i in range(7):
        server.routes[f"/r{i}"] = (307, {"Location": f"/r{i + 1}"}, b"")
    server.routes["/r7"] = (200, {}, b"end")
    error = fetch_error(server.url("/r0"))
    assert error.kind == "permanent" and "too many redirects" in error.reason
    assert len(server.hits("/r6")) == 0
    server.routes["/r2"] = (200, {}, b"two hops")  # five or fewer is fine
    assert run(fetch(server.url("/r0"))).body == b"two hops"


def test_redirect_to_another_scheme_is_refused(server: LocalServer) -> None:
    server.routes["/x"] = (302, {"Location": "ftp://example.org/feed"}, b"")
    error = fetch_error(server.url("/x"))
    assert error.kind == "permanent" and "ftp://example.org/feed" in error.reason


# ---- size caps and decompression ------------------------------------------------------------------

def test_content_length_over_the_cap_is_refused(server: LocalServer) -> None:
    server.routes["/big"] = (200, {}, b"x" * 5000)
    error = fetch_error(server.url("/big"), max_bytes=1000)
    assert error.kind == "permanent" and "too large" in error.reason
    assert run(fetch(server.url("/big"), max_bytes=5000)).body == b"x" * 5000


def test_endless_body_is_stopped_at_the_cap() -> None:
    sent = []

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n")
        while True:
            writer.write(b"y" * 16384)
            sent.append(16384)
            await writer.drain()

    async def go() -> FetchError:
        async with raw_server(endless) as base:
            with pytest.raises(FetchError) as info:
                await fetch(base + "/feed", max_bytes=200_000, robots=False)
            return info.value

    error = run(go())
    assert error.kind == "permanent" and "too large" in error.reason
    assert sum(sent) < 5_000_000  # the client hung up soon after the cap


def test_body_cut_short_is_transient() -> None:
    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<rss>only the start")
        await writer.drain()

    async def go() -> FetchError:
        async with raw_server(short) as base:
            with pytest.raises(FetchError) as info:
                await fetch(base + "/feed", robots=False)
            return info.value

    error = run(go())
    assert error.kind == "transient" and "body" in error.reason


BOMB_SIZE = 60 * 1024**2  # inflates to 60 MB, well past the 10 MB default cap


@pytest.mark.parametrize("encoding,compress", [
    ("gzip", lambda data: gzip.compress(data, 9)),
    ("deflate", lambda data: zlib.compress(data, 9)),
    ("br", lambda data: brotli.compress(data, quality=5)),
])
def test_compression_bombs_are_stopped_at_the_cap(server: LocalServer, encoding: str,
                                                  compress: Callable[[bytes], bytes]) -> None:
    bomb = compress(b"\0" * BOMB_SIZE)
    assert len(bomb) < 100_000  # a few KB on the wire
    server.routes["/bomb"] = (200, {"Content-Encoding": encoding}, bomb)
    error = fetch_error(server.url("/bomb"))
    assert error.kind == "permanent" and "too large" in error.reason


def test_bomb_decoder_never_holds_more_than_the_cap() -> None:
    bomb = gzip.compress(b"\0" * BOMB_SIZE, 9)
    decoder = make_decoder("gzip", 1_000_000)
    produced = 0
    with pytest.raises(Exception) as info:
        for i in range(0, len(bomb), 16384):
            produced += len(decoder.feed(bomb[i:i + 16384]))
    assert type(info.value).__name__ == "TooLarge"
    assert produced <= 1_000_000


@pytest.mark.parametrize("encoding,compress", [
    ("gzip", gzip.compress), ("x-gzip", gzip.compress), ("deflate", zlib.compress),
    ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as some servers send it
    ("br", brotli.compress), ("identity", lambda d: d),
])
def test_compressed_bodies_are_decoded(server: LocalServer, encoding: str,
                                       compress: Callable[[bytes], bytes]) -> None:
    text = "<rss><title>Coopération numérique</title></rss>".encode() * 200
    server.routes["/z"] = (200, {"Content-Encoding": encoding}, compress(text))
    assert run(fetch(server.url("/z"))).body == text


def test_corrupt_gzip_is_invalid_content(server: LocalServer) -> None:
    server.routes["/z"] = (200, {"Content-Encoding": "gzip"}, b"\x1f\x8bthis is not gzip at all")
    error = fetch_error(server.url("/z"))
    assert error.kind == "permanent" and "invalid content" in error.reason


def test_unknown_content_encoding_is_invalid_content(server: LocalServer) -> None:
    server.routes["/z"] = (200, {"Content-Encoding": "compress"}, b"whatever")
    error = fetch_error(server.url("/z"))
    assert error.kind == "permanent" and "compress" in error.reason


# ---- robots.txt -----------------------------------------------------------------------------------

def test_robots_disallow_is_obeyed_unless_turned_off(server: LocalServer) -> None:
    server.routes["/robots.txt"] = (200, {}, b"User-agent: *\nDisallow: /private/\n")
    server.routes["/private/feed"] = (200, {}, b"secret")
    server.routes["/public/feed"] = (200, {}, b"public")

    async def go() -> None:
        async with Fetcher() as fetcher:
            with pytest.raises(FetchError) as info:
                await fetcher.get(server.url("/private/feed"))
            assert info.value.kind == "permanent" and "robots.txt" in info.value.reason
            assert (await fetcher.get(server.url("/public/feed"))).body == b"public"
            assert (await fetcher.get(server.url("/private/feed"), robots=False)).body == b"secret"

    run(go())
    assert len(server.hits("/robots.txt")) == 1  # fetched once per host, then cached
    assert len(server.hits("/private/feed")) == 1  # only the robots=False request reached it


def test_robots_rules_for_our_agent(server: LocalServer) -> None:
    server.routes["/robots.txt"] = (200, {}, b"User-agent: CooperationWatcher\nDisallow: /\n\n"
                                              b"User-agent: *\nAllow: /\n")
    server.routes["/feed"] = (200, {}, b"x")
    error = fetch_error(server.url("/feed"))
    assert error.kind == "permanent"


def test_robots_404_allows_everything(server: LocalServer) -> None:
    server.routes["/feed"] = (200, {}, b"ok")
    assert run(fetch(server.url("/feed"))).body == b"ok"
    assert len(server.hits("/robots.txt")) == 1


def test_robots_5xx_blocks_the_host_with_a_transient_error(server: LocalServer) -> None:
    server.routes["/robots.txt"] = (503, {}, b"down")
    server.routes["/feed"] = (200, {}, b"ok")
    error = fetch_error(server.url("/feed"))
    assert error.kind == "transient" and "robots.txt" in error.reason and "robots: false" in error.reason
    assert not server.hits("/feed")
    assert run(fetch(server.url("/feed"), robots=False)).body == b"ok"


def test_robots_cache_expires(server: LocalServer) -> None:
    server.routes["/robots.txt"] = (200, {}, b"User-agent: *\nDisallow:\n")
    server.routes["/feed"] = (200, {}, b"ok")

    async def go() -> None:
        async with Fetcher(robots_ttl=0.05) as fetcher:
            await fetcher.get(server.url("/feed"))
            await asyncio.sleep(0.1)
            await fetcher.get(server.url("/feed"))

    run(go())
    assert len(server.hits("/robots.txt")) == 2


# ---- concurrency and politeness -------------------------------------------------------------------

class Gauge:
    """Counts requests in flight inside a LocalServer handler (one thread per request)."""

    def __init__(self, hold: float) -> None:
        self.hold, self.current, self.peak, self.starts = hold, 0, 0, []
        self.lock = threading.Lock()

    def __call__(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
            self.starts.append(time.monotonic())
        time.sleep(self.hold)
        with self.lock:
            self.current -= 1
        return 200, {}, b"ok"


def _fetch_many(urls: list[str], **fetcher_kwargs: Any) -> None:
    async def go() -> None:
        async with Fetcher(**fetcher_kwargs) as fetcher:
            await asyncio.gather(*(fetcher.get(url, robots=False) for url in urls))

    run(go())


def test_per_host_limit_is_observed_by_the_server(server: LocalServer) -> None:
    gauge = Gauge(0.1)
    server.routes["/slow"] = gauge
    _fetch_many([server.url(f"/slow?i={i}") for i in range(8)], per_host=2, concurrency=16)
    assert gauge.peak == 2 and len(gauge.starts) == 8


def test_global_limit_applies_across_hosts(server: LocalServer) -> None:
    gauge = Gauge(0.1)
    server.routes["/slow"] = gauge
    other = server.base.replace("127.0.0.1", "localhost")  # another host name for the same server
    urls = [server.url(f"/slow?i={i}") for i in range(4)] + [f"{other}/slow?j={i}" for i in range(4)]
    _fetch_many(urls, per_host=4, concurrency=3)
    assert gauge.peak == 3 and len(gauge.starts) == 8


def test_politeness_delay_spaces_requests_to_one_host(server: LocalServer) -> None:
    gauge = Gauge(0.0)
    server.routes["/p"] = gauge
    _fetch_many([server.url(f"/p?i={i}") for i in range(3)], per_host=4, delay=0.15)
    gaps = [b - a for a, b in zip(sorted(gauge.starts), sorted(gauge.starts)[1:])]
    assert len(gaps) == 2 and min(gaps) >= 0.14


def test_robots_crawl_delay_spaces_requests(server: LocalServer) -> None:
    gauge = Gauge(0.0)
    # urllib.robotparser reads whole seconds only, so this costs the test one second.
    server.routes["/robots.txt"] = (200, {}, b"User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n")
    server.routes["/p"] = gauge

    async def go() -> None:
        async with Fetcher(per_host=4) as fetcher:
            await asyncio.gather(*(fetcher.get(server.url(f"/p?i={i}")) for i in range(2)))

    run(go())
    first, second = sorted(gauge.starts)
    assert second - first >= 0.95


# ---- proxies --------------------------------------------------------------------------------------

def test_http_proxy_variable_is_honoured(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The LocalServer plays the proxy: it sees absolute-form request targets.
    server.routes["http://feeds.example.test/feed.xml"] = (200, {}, b"via proxy")
    monkeypatch.setenv("HTTP_PROXY", server.base)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    response = run(fetch("http://feeds.example.test/feed.xml", robots=False))
    assert response.body == b"via proxy"
    assert server.requests[0].path == "http://feeds.example.test/feed.xml"


def test_no_proxy_variable_bypasses_the_proxy(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    server.routes["/feed"] = (200, {}, b"direct")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead_port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert run(fetch(server.url("/feed"), robots=False)).body == b"direct"
    monkeypatch.setenv("NO_PROXY", "other.example")
    error = fetch_error(server.url("/feed"), robots=False)
    assert error.kind == "transient"  # the dead proxy was used


def test_httpx_client_shares_the_transport(server: LocalServer) -> None:
    server.routes["/api"] = (200, {"Content-Type": "application/json"}, b'{"ok": true}')

    async def go() -> Any:
        async with Fetcher() as fetcher:
            response = await fetcher.client.get(server.url("/api"))
            return response.status_code, response.json()

    assert run(go()) == (200, {"ok": True})
    assert server.hits("/api")[0].headers["user-agent"] == USER_AGENT
