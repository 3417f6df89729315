"""The floor under any feed poller in Python: fetch, validate, parse, remember validators; nothing else.

Usage: .venv/bin/python bench/floor_poll.py URLS_FILE STATE_FILE [--concurrency 16]

One whole process, as `bench/compare_peers.py` times the tools: aiohttp with 16 connections (the
fastest client in bench/transport_bench.py), conditional requests from the ETag / Last-Modified kept in
a JSON state file, fastfeedparser on every 200 body, the state written back. No store, no article
text, no dedupe, no matching, no config validation, no logging: what is left is the cost of starting
Python, importing an HTTP client and a parser, and the requests themselves. A tool that does more
than this cannot be faster than it, so compare_peers prints it as a row of its own, and
bench/poll_bench.py runs `poll` in its own process for the same figure without start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import aiohttp
import fastfeedparser


async def poll(urls: list[str], state: dict[str, dict[str, str]], concurrency: int) -> tuple[int, int]:
    """Fetch every URL once, updating `state`; returns (feeds parsed, entries parsed) from 200 answers."""
    queue, feeds, entries = list(reversed(urls)), 0, 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal feeds, entries
        while queue:
            url = queue.pop()
            seen = state.get(url, {})
            headers = {k: v for k, v in (("If-None-Match", seen.get("etag")),
                                         ("If-Modified-Since", seen.get("modified"))) if v}
            async with session.get(url, headers=headers) as response:
                body = await response.read()
                if response.status != 200:
                    continue
                feeds += 1
                entries += len(fastfeedparser.parse(body).entries)
                state[url] = {"etag": response.headers.get("ETag", ""),
                              "modified": response.headers.get("Last-Modified", "")}

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return feeds, entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", type=Path, help="one URL per line")
    parser.add_argument("state", type=Path, help="JSON validators, created on the first run")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    urls = args.urls.read_text().split()
    state = json.loads(args.state.read_text()) if args.state.exists() else {}
    _, entries = asyncio.run(poll(urls, state, args.concurrency))
    args.state.write_text(json.dumps(state))
    print(f"{len(urls)} feeds, {entries} entries parsed")


if __name__ == "__main__":
    main()
