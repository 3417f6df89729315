"""HTTP fetching: one shared async client, limits, conditional GET, redirects, robots.txt, classified errors.

Everything that touches the network for sources goes through `Fetcher.get`. It never parses what it
fetches and never touches the store; callers pass the stored validators in and store the ones it returns.

Transport: httpx's API (`httpx.Request`, `httpx.Response`, `httpx.AsyncBaseTransport`, httpx exceptions)
carried by aiohttp. Measured on this machine (bench/transport_bench.py, 1,000 loopback feeds of 100 KB,
16 connections, cold / all-304): httpx `AsyncClient` default transport 1.38 s / 1.54 s; `AsyncClient` +
httpx-aiohttp transport 0.64 s / 0.54 s (0.35 / 0.24 without aiohttp's `trust_env`, which costs two
thread hops per request); this module's transport sent directly 0.20 s / 0.12 s, and `Fetcher.get`
with every limit, robots.txt and decoding 0.21-0.27 s / 0.17 s; bare aiohttp 0.16-0.24 s / 0.07-0.14 s.
So `get()` hands its requests straight to `AiohttpTransport.send` (the httpx client layer adds ~0.1 ms
per request for cookies, auth and hooks this path does not use, and an httpx.Request and Response another
~0.15 ms of URL parsing and header objects), with httpx's exceptions as the one vocabulary of transport
failures, and `Fetcher.client` is an `httpx.AsyncClient` on the same transport and connection pool for
anyone who wants the full API.

Decisions worth knowing:
- The transport never decompresses: `get()` inflates gzip/deflate/br itself, incrementally, with the size
  cap applied to the inflated bytes, so a few-KB bomb stops at the cap instead of being inflated whole.
- Proxies come from HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY (read once, when the Fetcher is made),
  routed per request by the standard library's rules; aiohttp's own `trust_env` stays off (it is slow).
- robots.txt is fetched once per scheme+host and cached (`robots_ttl`, default 1 h). 2xx: obeyed (its
  Crawl-delay, capped at 10 s, raises that host's politeness delay). 4xx (404, 410, 403...): everything
  allowed (RFC 9309 "unavailable"). 5xx, timeout or connection error: RFC 9309 "unreachable", so nothing
  on that host is fetched; the request fails with a *transient* error that says so (the source backs off
  and retries; `robots: false` is the escape hatch), and that answer is cached for 5 minutes only.
- The total timeout covers every redirect hop and the whole body, but not the wait for a free slot
  (per-host or global), so a long queue to one host does not time requests out.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import urllib.request
import zlib
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import aiohttp
import brotli
import httpx

from watcher import USER_AGENT
from watcher.clock import now
from watcher.urls import is_fetchable

log = logging.getLogger(__name__)

# The same feed URLs come back every cycle; checking each once saves ~20 us per request.
_fetchable = functools.lru_cache(maxsize=65536)(is_fetchable)

ErrorKind = Literal["transient", "permanent"]
Seconds = float | timedelta

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TRANSIENT_4XX = frozenset({408, 425, 429})
ACCEPT_ENCODING = "gzip, deflate, br"
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB
ROBOTS_UNREACHABLE_TTL = 300.0
MAX_CRAWL_DELAY = 10.0
DRAIN_MAX_BYTES = 64 * 1024


class FetchError(Exception):
    """A failed fetch: `kind` says whether retrying can help; `retry_after` is the server's wish, if any."""

    def __init__(self, url: str, kind: ErrorKind, reason: str, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.kind = kind
        self.reason = reason
        self.retry_after = retry_after
        self.status = status

    @property
    def transient(self) -> bool:
        return self.kind == "transient"


@dataclass(slots=True)
class Response:
    """A completed fetch. A 304 has `not_modified=True`, an empty body and the validators it was sent."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]  # case-insensitive: aiohttp's CIMultiDictProxy
    body: bytes
    etag: str | None
    last_modified: str | None
    not_modified: bool
    elapsed: float

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


def _seconds(value: Seconds | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# ---- transport: httpx API over aiohttp ------------------------------------------------------------

class _AiohttpStream(httpx.AsyncByteStream):
    """The raw (still compressed) body of an aiohttp response, as an httpx byte stream."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self._complete = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except aiohttp.ServerTimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        self._complete = True

    async def aclose(self) -> None:
        # A half-read body leaves the connection unusable: close it rather than return it to the pool.
        if self._complete:
            self._response.release()
        else:
            self._response.close()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport on one aiohttp session: no decompression, no redirects, no cookies, env proxies."""

    def __init__(self, *, trust_env: bool = True, limit: int = 0) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._limit = limit
        self._proxies = urllib.request.getproxies_environment() if trust_env else {}
        self._proxy_for: dict[tuple[str, str], str | None] = {}

    def proxy_for(self, url: str) -> str | None:
        """The proxy URL for `url` from the environment, or None to go direct (NO_PROXY honoured)."""
        if not self._proxies:
            return None
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._proxy_for:
            proxy = self._proxies.get(parts.scheme) or self._proxies.get("all")
            if proxy and urllib.request.proxy_bypass_environment(parts.hostname or "", self._proxies):
                proxy = None
            if proxy and "://" not in proxy:
                proxy = "http://" + proxy
            self._proxy_for[key] = proxy
        return self._proxy_for[key]

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False, skip_auto_headers=("User-Agent",))
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        try:
            content = request.content
        except httpx.RequestNotRead:  # a streamed request body (client API users): read it whole
            content = await request.aread()
        response = await self.send(str(request.url), request.headers.multi_items(), connect=timeout.get("connect"),
                                   read=timeout.get("read"), method=request.method, content=content or None,
                                   request=request)
        return httpx.Response(response.status, headers=response.raw_headers,
                              stream=_AiohttpStream(response), request=request,
                              extensions={"http_version": b"HTTP/1.1"})

    async def send(self, url: str, headers: Iterable[tuple[str, str]], *, connect: float | None,
                   read: float | None, method: str = "GET", content: bytes | None = None,
                   request: httpx.Request | None = None) -> aiohttp.ClientResponse:
        """One request as aiohttp sends it, its failures as httpx's exceptions; the body is not read.

        `Fetcher.get` calls this directly: building an httpx.Request and Response per poll (URL parsing,
        header objects) cost ~0.15 ms, a quarter of a 304 poll's own CPU."""
        try:
            return await self._get_session()._request(
                method, url, headers=headers, data=content, allow_redirects=False,
                proxy=self.proxy_for(url),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read),
            )
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        except aiohttp.ServerTimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except aiohttp.ClientProxyConnectionError as exc:
            raise httpx.ProxyError(str(exc), request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.InvalidURL as exc:
            raise httpx.UnsupportedProtocol(f"invalid URL {url}", request=request) from exc
        except aiohttp.ClientResponseError as exc:  # malformed status line or headers
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


# ---- bounded decompression ------------------------------------------------------------------------

class TooLarge(Exception):
    pass


class InvalidBody(Exception):
    pass


class _Identity:
    def __init__(self, cap: int) -> None:
        self.cap, self.size = cap, 0

    def feed(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.cap:
            raise TooLarge()
        return data

    def flush(self) -> bytes:
        return b""


class _Zlib(_Identity):
    """gzip (possibly multi-member) or deflate (zlib-wrapped or raw), never inflating past the cap."""

    def __init__(self, cap: int, encoding: str) -> None:
        super().__init__(cap)
        self.encoding = encoding
        self._d: Any = None
        self._pending = b""
        self._members = 0
        self._done = False

    def _new(self, head: bytes) -> Any:
        if self.encoding == "deflate":
            # RFC 9110 "deflate" is zlib-wrapped; some servers send raw deflate. A zlib header is
            # CM=8 with (CMF*256+FLG) divisible by 31.
            wrapped = len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
            return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        data = self._pending + data
        self._pending = b""
        out: list[bytes] = []
        while data and not self._done:
            if self._d is None:
                if len(data) < 2:
                    self._pending = data
                    break
                if self._members and data[:2] != b"\x1f\x8b":
                    self._done = True  # padding after the last gzip member is ignored, as browsers do
                    break
                self._d = self._new(data[:2])
            try:
                # max_length keeps one call from inflating more than the room left (+1 to see overflow).
                chunk = self._d.decompress(data, self.cap - self.size + 1)
            except zlib.error as exc:
                raise InvalidBody(f"invalid {self.encoding} data: {exc}") from None
            self.size += len(chunk)
            if self.size > self.cap:
                raise TooLarge()
            out.append(chunk)
            if not self._d.eof:
                break
            data = self._d.unused_data
            self._d = None
            self._members += 1
            self._done = self.encoding == "deflate"  # one deflate stream; trailing bytes are ignored
        return b"".join(out)

    def flush(self) -> bytes:
        if not self._done and (self._pending or self._d is not None):
            raise InvalidBody(f"truncated {self.encoding} data")
        return b""


class _Brotli(_Identity):
    def __init__(self, cap: int) -> None:
        super().__init__(cap)
        self._d = brotli.Decompressor()

    def _take(self, data: bytes) -> bytes:
        try:
            chunk = self._d.process(data, output_buffer_limit=self.cap - self.size + 1)
        except brotli.error as exc:
            raise InvalidBody(f"invalid br data: {exc}") from None
        self.size += len(chunk)
        if self.size > self.cap:
            raise TooLarge()
        return chunk

    def feed(self, data: bytes) -> bytes:
        out = [self._take(data)]
        while not self._d.can_accept_more_data():
            out.append(self._take(b""))
        return b"".join(out)

    def flush(self) -> bytes:
        if not self._d.is_finished():
            raise InvalidBody("truncated br data")
        return b""


class _Chain:
    """Content-Encoding may list several codings; they are undone last to first."""

    def __init__(self, decoders: list[_Identity]) -> None:
        self.decoders = decoders

    def feed(self, data: bytes) -> bytes:
        for decoder in self.decoders:
            data = decoder.feed(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self.decoders:
            data = decoder.feed(data) + decoder.flush() if data else decoder.flush()
        return data


def make_decoder(content_encoding: str | None, cap: int) -> _Chain:
    """A decoder for `content_encoding` that raises TooLarge past `cap` output bytes, InvalidBody on junk."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    decoders: list[_Identity] = []
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            decoders.append(_Zlib(cap, "gzip"))
        elif coding == "deflate":
            decoders.append(_Zlib(cap, "deflate"))
        elif coding == "br":
            decoders.append(_Brotli(cap))
        elif coding != "identity":
            raise InvalidBody(f"unsupported Content-Encoding {coding!r}")
    return _Chain(decoders or [_Identity(cap)])


# ---- per-host state and robots.txt ----------------------------------------------------------------

@dataclass
class _Host:
    slots: asyncio.Semaphore
    delay: float
    next_start: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _Robots:
    parser: RobotFileParser | None  # None: everything allowed
    error: FetchError | None  # set while robots.txt is unreachable
    expires: float


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or junk."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, (when - now()).total_seconds())


class Fetcher:
    """One shared HTTP client for a poll cycle or a daemon: use `async with Fetcher(...) as fetcher:`."""

    def __init__(
        self,
        *,
        concurrency: int = 16,
        per_host: int = 2,
        delay: Seconds = 0.0,
        timeout: Seconds = 20.0,
        connect_timeout: Seconds = 10.0,
        read_timeout: Seconds | None = None,
        max_bytes: int = 10 * 1024**2,
        max_redirects: int = 5,
        robots_ttl: Seconds = 3600.0,
        user_agent: str = USER_AGENT,
        trust_env: bool = True,
    ) -> None:
        self.concurrency = concurrency
        self.per_host = per_host
        self.delay = _seconds(delay) or 0.0
        self.timeout = _seconds(timeout) or 20.0
        self.connect_timeout = _seconds(connect_timeout) or self.timeout
        self.read_timeout = _seconds(read_timeout)
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.robots_ttl = _seconds(robots_ttl) or 0.0
        self.user_agent = user_agent
        self.transport = AiohttpTransport(trust_env=trust_env)
        self._global = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._client: httpx.AsyncClient | None = None
        self._base_headers = {"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING, "Accept": "*/*"}

    @classmethod
    def from_defaults(cls, defaults: Any, **overrides: Any) -> Fetcher:
        """A Fetcher from the config's `defaults:` block (watcher.config.Defaults)."""
        kwargs: dict[str, Any] = dict(
            concurrency=defaults.concurrency, per_host=defaults.per_host, delay=defaults.delay,
            timeout=defaults.timeout, connect_timeout=defaults.connect_timeout,
            max_bytes=defaults.max_bytes, max_redirects=defaults.max_redirects)
        kwargs.update(overrides)
        return cls(**kwargs)

    def share_robots_cache(self, cache: dict[str, Any]) -> None:
        """Use `cache` (scheme://host -> parsed robots.txt) so that it outlives this fetcher."""
        self._robots = cache

    @property
    def client(self) -> httpx.AsyncClient:
        """An httpx.AsyncClient sharing this fetcher's transport (no limits, robots or size caps applied)."""
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self.transport, headers={"User-Agent": self.user_agent},
                                             timeout=self.timeout, trust_env=False)
        return self._client

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()  # closes the shared transport too
            self._client = None
        await self.transport.aclose()

    # ---- the one public operation ----

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        timeout: Seconds | None = None,
        max_bytes: int | None = None,
        robots: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """GET `url` with every limit applied; raises FetchError (transient or permanent) on failure."""
        if not _fetchable(url):
            raise FetchError(url, "permanent", "not an absolute http(s) URL")
        total = _seconds(timeout) or self.timeout
        cap = max_bytes or self.max_bytes
        extra = dict(self._base_headers)
        for key, value in (headers or {}).items():  # a source's own headers win, whatever their case
            for same in [k for k in extra if k.lower() == key.lower()]:
                del extra[same]
            extra[key] = value
        if etag:
            extra["If-None-Match"] = etag
        if last_modified:
            extra["If-Modified-Since"] = last_modified
        started = time.monotonic()
        chain = [url]
        current = url
        deadline: float | None = None
        while True:
            if robots:
                await self._check_robots(current, origin=url)
            response, deadline = await self._hop(url, current, extra, total, cap, deadline)
            if response.status not in REDIRECT_STATUSES:
                break
            current = self._next_hop(url, chain, response)
        return self._finish(url, current, response, etag, last_modified, time.monotonic() - started)

    def _next_hop(self, origin: str, chain: list[str], response: _Raw) -> str:
        location = response.headers.get("location")
        if not location:
            raise FetchError(origin, "permanent", f"HTTP {response.status} redirect without Location",
                             status=response.status)
        target = urljoin(chain[-1], location.strip())
        if not is_fetchable(target):
            raise FetchError(origin, "permanent", f"redirected to a non-http(s) URL {target!r}")
        if target in chain:
            raise FetchError(origin, "permanent", "redirect loop: " + " -> ".join(chain + [target]))
        chain.append(target)
        if len(chain) > self.max_redirects + 1:
            raise FetchError(origin, "permanent",
                             f"too many redirects (more than {self.max_redirects}): " + " -> ".join(chain))
        return target

    def _finish(self, url: str, final: str, raw: _Raw, etag: str | None, last_modified: str | None,
                elapsed: float) -> Response:
        status = raw.status
        if status == 304:
            return Response(url, final, status, raw.headers, b"", raw.headers.get("etag") or etag,
                            raw.headers.get("last-modified") or last_modified, True, elapsed)
        if 200 <= status < 300:
            return Response(url, final, status, raw.headers, raw.body, raw.headers.get("etag"),
                            raw.headers.get("last-modified"), False, elapsed)
        reason = f"HTTP {status} {raw.reason}".rstrip()
        if final != url:
            reason += f" (after redirect to {final})"
        if status in (429, 503):
            retry_after = parse_retry_after(raw.headers.get("retry-after"))
            raise FetchError(url, "transient", reason, retry_after=retry_after, status=status)
        if status >= 500 or status in TRANSIENT_4XX:
            raise FetchError(url, "transient", reason, status=status)
        raise FetchError(url, "permanent", reason, status=status)

    # ---- one request/response exchange, with slots, politeness and the deadline ----

    def _host(self, key: str) -> _Host:
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(asyncio.Semaphore(self.per_host), self.delay)
        return host

    async def _hop(self, origin: str, url: str, headers: dict[str, str], total: float, cap: int,
                   deadline: float | None) -> tuple[_Raw, float]:
        host = self._host(urlsplit(url).netloc.lower())
        async with host.slots, self._global:
            if host.delay > 0:
                async with host.lock:
                    wait = host.next_start - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    host.next_start = time.monotonic() + host.delay
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + total
            try:
                async with asyncio.timeout_at(deadline):
                    return await self._exchange(origin, url, headers, total, cap), deadline
            except TimeoutError:
                if loop.time() >= deadline:
                    raise FetchError(origin, "transient", f"timed out after {total:g} s (total)") from None
                raise

    async def _exchange(self, origin: str, url: str, headers: dict[str, str], total: float,
                        cap: int) -> _Raw:
        connect = min(self.connect_timeout, total)
        read = min(self.read_timeout or total, total)
        try:
            response = await self.transport.send(url, headers.items(), connect=connect, read=read)
        except httpx.ConnectTimeout:
            raise FetchError(origin, "transient", f"connect timeout after {connect:g} s ({url})") from None
        except httpx.TimeoutException:
            raise FetchError(origin, "transient", f"read timeout after {read:g} s ({url})") from None
        except httpx.UnsupportedProtocol as exc:
            raise FetchError(origin, "permanent", str(exc)) from None
        except httpx.TransportError as exc:
            raise FetchError(origin, "transient", f"connection failed: {exc} ({url})") from None
        stream = _AiohttpStream(response)
        try:
            if response.status >= 300:
                await self._drain(response.headers, stream)
                return _Raw(response.status, response.reason or "", response.headers, b"")
            return _Raw(response.status, response.reason or "", response.headers,
                        await self._read_body(origin, url, response.headers, stream, read, cap))
        finally:
            await stream.aclose()

    @staticmethod
    async def _drain(headers: Mapping[str, str], stream: _AiohttpStream) -> None:
        """Read a small error or redirect body so the connection can be reused; a big one is dropped."""
        length = headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > DRAIN_MAX_BYTES:
            return  # the stream is closed unread, which closes the connection
        try:
            async for _ in stream:
                pass
        except httpx.TransportError:
            pass  # the status is what matters; a broken body only costs the connection

    async def _read_body(self, origin: str, url: str, headers: Mapping[str, str], stream: _AiohttpStream,
                         read: float, cap: int) -> bytes:
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > cap:
            raise FetchError(origin, "permanent", f"too large: Content-Length {length} exceeds {cap} bytes")
        try:
            decoder = make_decoder(headers.get("content-encoding"), cap)
            raw_size = 0
            parts = []
            async for chunk in stream:
                raw_size += len(chunk)
                if raw_size > cap:
                    raise TooLarge()
                parts.append(decoder.feed(chunk))
            parts.append(decoder.flush())
        except TooLarge:
            raise FetchError(origin, "permanent", f"too large: body exceeds {cap} bytes ({url})") from None
        except InvalidBody as exc:
            raise FetchError(origin, "permanent", f"invalid content: {exc} ({url})") from None
        except httpx.TimeoutException:
            raise FetchError(origin, "transient", f"read timeout after {read:g} s ({url})") from None
        except httpx.TransportError as exc:
            raise FetchError(origin, "transient", f"connection broken while reading the body: {exc} ({url})") from None
        return parts[0] if len(parts) == 2 and not parts[1] else b"".join(parts)

    # ---- robots.txt ----

    async def _check_robots(self, url: str, origin: str) -> None:
        parts = urlsplit(url)
        key = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        entry = self._robots.get(key)
        if entry is None or entry.expires < time.monotonic():
            lock = self._robots_locks.setdefault(key, asyncio.Lock())
            async with lock:
                entry = self._robots.get(key)
                if entry is None or entry.expires < time.monotonic():
                    entry = self._robots[key] = await self._load_robots(key)
        if entry.error is not None:
            raise FetchError(origin, "transient", entry.error.reason, retry_after=entry.error.retry_after)
        if entry.parser is not None and not entry.parser.can_fetch(self.user_agent, url):
            raise FetchError(origin, "permanent", f"disallowed by {key}/robots.txt ({url}); "
                             "set `robots: false` on the source to ignore it")

    async def _load_robots(self, key: str) -> _Robots:
        robots_url = key + "/robots.txt"
        expires = time.monotonic() + self.robots_ttl
        try:
            response = await self.get(robots_url, robots=False, max_bytes=ROBOTS_MAX_BYTES,
                                      timeout=min(self.timeout, 20.0))
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                return _Robots(None, None, expires)  # unavailable: everything allowed
            if exc.kind == "permanent" and exc.status is None and "too large" in exc.reason:
                log.warning("robots.too_large", extra={"url": robots_url})
                return _Robots(None, None, expires)
            log.info("robots.unreachable", extra={"url": robots_url, "error": exc.reason})
            error = FetchError(robots_url, "transient",
                               f"{robots_url} unreachable ({exc.reason}); robots.txt rules say not to crawl "
                               "until it answers (set `robots: false` on the source to ignore it)",
                               retry_after=exc.retry_after)
            return _Robots(None, error, time.monotonic() + min(self.robots_ttl, ROBOTS_UNREACHABLE_TTL))
        parser = RobotFileParser(robots_url)
        parser.parse(response.body.decode("utf-8", "replace").splitlines())
        parser.modified()
        delay = parser.crawl_delay(self.user_agent)
        if delay:
            host = self._host(urlsplit(key).netloc)
            host.delay = max(host.delay, min(float(delay), MAX_CRAWL_DELAY))
        return _Robots(parser, None, expires)


@dataclass(slots=True)
class _Raw:
    status: int
    reason: str
    headers: Mapping[str, str]  # case-insensitive (aiohttp's CIMultiDictProxy)
    body: bytes
