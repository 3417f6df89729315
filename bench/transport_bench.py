"""Transport benchmark: which async client carrying the httpx API fetches loopback feeds fastest.

Usage: .venv/bin/python bench/transport_bench.py [--feeds 1000] [--concurrency 16] [--runs 3]
Prints, per client, the seconds for a cold cycle (200, full bodies) and an all-304 cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
from feed_server import LAST_MODIFIED, FeedServer  # noqa: E402
from httpx_aiohttp import AiohttpTransport  # noqa: E402

Fetch = Callable[[str, dict[str, str]], Awaitable[int]]


async def _cycle(fetch: Fetch, urls: list[str], etags: dict[str, str], concurrency: int) -> float:
    queue = list(reversed(urls))

    async def worker() -> None:
        while queue:
            url = queue.pop()
            headers = {"If-None-Match": etags[url], "If-Modified-Since": LAST_MODIFIED} if url in etags else {}
            await fetch(url, headers)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def _aiohttp(urls: list[str], conc: int, etags: dict[str, str]) -> tuple[float, float]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc), auto_decompress=False) as s:
        async def fetch(url: str, headers: dict[str, str]) -> int:
            async with s.get(url, headers=headers) as r:
                body = await r.read()
                etags.setdefault(url, r.headers.get("ETag", ""))
                return len(body)
        return await _both(fetch, urls, conc, etags)


async def _httpx_client(urls: list[str], conc: int, etags: dict[str, str], transport: str) -> tuple[float, float]:
    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    kwargs = {}
    if transport == "aiohttp":
        kwargs["transport"] = AiohttpTransport(limits=limits, client=lambda: aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=conc), auto_decompress=False, trust_env=True))
    async with httpx.AsyncClient(limits=limits, **kwargs) as client:
        async def fetch(url: str, headers: dict[str, str]) -> int:
            async with client.stream("GET", url, headers=headers) as r:
                size = 0
                async for chunk in r.aiter_raw():
                    size += len(chunk)
                etags.setdefault(url, r.headers.get("ETag", ""))
                return size
        return await _both(fetch, urls, conc, etags)


async def _httpx_transport_direct(urls: list[str], conc: int, etags: dict[str, str]) -> tuple[float, float]:
    """httpx.Request/Response objects, sent straight through the aiohttp transport (no client layer)."""
    transport = AiohttpTransport(client=lambda: aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=conc), auto_decompress=False, trust_env=True))
    async with transport:
        async def fetch(url: str, headers: dict[str, str]) -> int:
            request = httpx.Request("GET", url, headers=headers)
            r = await transport.handle_async_request(request)
            size = 0
            try:
                async for chunk in r.stream:
                    size += len(chunk)
            finally:
                await r.stream.aclose()
            etags.setdefault(url, r.headers.get("ETag", ""))
            return size
        return await _both(fetch, urls, conc, etags)


async def _watcher_fetcher(urls: list[str], conc: int, etags: dict[str, str]) -> tuple[float, float]:
    """watcher.fetch.Fetcher.get: the same path plus limits, robots.txt, decoding and classification."""
    from watcher.fetch import Fetcher

    async with Fetcher(concurrency=conc, per_host=conc) as fetcher:
        async def fetch(url: str, headers: dict[str, str]) -> int:
            r = await fetcher.get(url, etag=headers.get("If-None-Match"),
                                  last_modified=headers.get("If-Modified-Since"))
            etags.setdefault(url, r.etag or "")
            return len(r.body)
        return await _both(fetch, urls, conc, etags)


async def _both(fetch: Fetch, urls: list[str], conc: int, etags: dict[str, str]) -> tuple[float, float]:
    etags.clear()
    cold = await _cycle(fetch, urls, etags, conc)
    warm = await _cycle(fetch, urls, etags, conc)
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    variants = {
        "aiohttp ClientSession (floor)": lambda u, c, e: _aiohttp(u, c, e),
        "httpx AsyncClient, default transport": lambda u, c, e: _httpx_client(u, c, e, "default"),
        "httpx AsyncClient + httpx-aiohttp transport": lambda u, c, e: _httpx_client(u, c, e, "aiohttp"),
        "httpx Request/Response via httpx-aiohttp transport, no client": _httpx_transport_direct,
        "watcher Fetcher.get (httpx Request/Response, own aiohttp transport)": _watcher_fetcher,
    }
    with FeedServer(args.feeds) as server:
        urls = server.urls()
        print(f"{args.feeds} feeds x {len(__import__('feed_server').make_feed(0)) // 1024} KB, "
              f"concurrency {args.concurrency}, median of {args.runs}")
        for name, run in variants.items():
            if args.only and not any(o in name for o in args.only):
                continue
            colds, warms = [], []
            for _ in range(args.runs):
                cold, warm = asyncio.run(run(urls, args.concurrency, {}))
                colds.append(cold)
                warms.append(warm)
            print(f"{name:60s} cold {statistics.median(colds):6.2f} s   304 {statistics.median(warms):6.2f} s")


if __name__ == "__main__":
    main()
