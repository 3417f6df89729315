"""Poll-cycle benchmark: watcher's whole pipeline over N loopback feeds, next to the bare fetch+parse floor.

Usage: .venv/bin/python bench/poll_bench.py [--feeds 1000] [--concurrency 16] [--profile cold|warm|unchanged|fresh]

A feed server runs in a separate process (bench/feed_server.py: N WordPress-shaped RSS feeds, 20 items,
~100 KB each, with content:encoded, ETag and Last-Modified). Measured, each in this one process, into a
temporary SQLite store:
- cold: the first cycle into an empty store (N x 20 new articles through fetch, parse, candidates,
  drafts, relevance, dedupe, store, matching, outbox);
- warm: every feed answers 304;
- unchanged: the server ignores conditional headers (200, same bytes), once as the daemon sees it (the
  listing digests of the previous cycle in memory) and once as a fresh `watcher poll` process sees it
  (no digests: every feed parsed, every entry looked up in the store);
- changed: every feed moves on to 20 items it never served (the server's /_window), so each source's
  second successful poll stores 20 new articles and alerts on them: the cold cycle's work plus
  subscription matching and the outbox (a first poll is silent, the flood guard);
then the bare floor for the same bytes: aiohttp at the same concurrency + fastfeedparser, nothing stored.
Each cycle prints wall and CPU seconds of this process and of the worker process a big cycle starts
(watcher/prepare.py; the feed server's are not in them); on a shared machine compare runs by CPU time,
and repeat them.
All feeds share one loopback host, so the per-host limit is raised to the global concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import floor_poll  # noqa: E402
from feed_server import FeedServer  # noqa: E402

from watcher import pipeline  # noqa: E402
from watcher.config import Config  # noqa: E402
from watcher.store import open_store  # noqa: E402

ITEMS_PER_FEED = 20
_CPU: dict[str, float] = {}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _config(server: FeedServer, store_url: str, concurrency: int) -> Config:
    return Config.model_validate({
        "store": {"url": store_url},
        "defaults": {"interval": "30m", "concurrency": concurrency, "per_host": concurrency},
        "sources": [{"name": f"feed-{i}", "kind": "feed", "url": url} for i, url in enumerate(server.urls())],
        # max_age: the served items are dated May 2024, and a subscription ignores articles older than it.
        "subscriptions": [{"name": "tunisie-numerique", "any": ["Tunisie"], "all": ["numérique"],
                           "max_age": "5000d", "notify": [{"notifier": "hook"}]}],
        "notifiers": {"hook": {"type": "slack", "webhook_url": "http://127.0.0.1:9/hook"}},
    })


def _timed(label: str, run: Callable[[], Any], profile: bool) -> tuple[float, Any]:
    """Run one cycle; wall seconds returned, CPU seconds in _CPU[label]: this process's and its reaped
    children's, i.e. the worker's, which the cycle ends (a busy machine stretches wall time, CPU time much
    less: compare runs by CPU)."""
    gc.collect()
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time() + _children_cpu()
    if profiler:
        profiler.enable()
    result = run()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    _CPU[label] = time.process_time() + _children_cpu() - cpu
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        print(f"---- profile of the {label} cycle ----\n{out.getvalue()}")
    return seconds, result


def _summary(results: list[Any]) -> str:
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    errors = [r.error for r in results if r.error][:3]
    return ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) + (f"; errors: {errors}" if errors else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", choices=("cold", "warm", "unchanged", "fresh", "changed"), action="append",
                        default=[])
    args = parser.parse_args()
    n = args.feeds
    with FeedServer(n) as server, tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        config = _config(server, str(store.engine.url), args.concurrency)
        rss_start = _rss_mb()

        cold, results = _timed("cold", lambda: pipeline.poll(config, store, due_only=False), "cold" in args.profile)
        new = sum(r.new for r in results)
        print(f"cold       {cold:6.2f} s  {new} new articles ({new / cold:,.0f} entries/s; CPU {_CPU['cold']:.2f} s, "
              f"{_CPU['cold'] * 1000 / max(new, 1):.2f} ms per article)  [{_summary(results)}]")

        warm, results = _timed("warm", lambda: pipeline.poll(config, store, due_only=False), "warm" in args.profile)
        print(f"warm       {warm:6.2f} s  all-304 cycle (CPU {_CPU['warm']:.2f} s)  [{_summary(results)}]")

        server.set_mode("unchanged")
        unchanged, results = _timed("unchanged", lambda: pipeline.poll(config, store, due_only=False),
                                    "unchanged" in args.profile)
        print(f"unchanged  {unchanged:6.2f} s  200 with the same bytes, listing digests from the store (daemon; "
              f"CPU {_CPU['unchanged']:.2f} s)  "
              f"[{_summary(results)}]")
        del pipeline._STATE[store]  # what a new `watcher poll` process knows: only the store
        fresh, results = _timed("fresh", lambda: pipeline.poll(config, store, due_only=False),
                                "fresh" in args.profile)
        seen = sum(r.seen for r in results)
        print(f"unchanged  {fresh:6.2f} s  same, in a fresh process (index rebuilt, digests from the store; "
              f"CPU {_CPU['fresh']:.2f} s): {seen} entries found already stored  [{_summary(results)}]")
        server.set_mode("conditional")
        server.move_to(ITEMS_PER_FEED)
        changed, results = _timed("changed", lambda: pipeline.poll(config, store, due_only=False),
                                  "changed" in args.profile)
        new, alerts = sum(r.new for r in results), sum(r.alerts for r in results)
        print(f"changed    {changed:6.2f} s  {new} new articles, {alerts} alerts queued (CPU {_CPU['changed']:.2f} s, "
              f"{_CPU['changed'] * 1000 / max(new, 1):.2f} ms per article)  [{_summary(results)}]")
        peak = _rss_mb()
        print(f"peak RSS   {peak:6.0f} MB  (at start of the cycles: {rss_start:.0f} MB)")
        store.close()

        validators: dict[str, dict[str, str]] = {}
        urls = server.urls()
        for label in ("cold", "warm"):
            started = time.perf_counter()
            feeds, entries = asyncio.run(floor_poll.poll(urls, validators, args.concurrency))
            print(f"floor {label:9s} {time.perf_counter() - started:6.2f} s  aiohttp + fastfeedparser "
                  f"({feeds} feeds parsed, {entries} entries)")
        server.set_mode("unchanged")
        started = time.perf_counter()
        feeds, entries = asyncio.run(floor_poll.poll(urls, validators, args.concurrency))
        print(f"floor unchanged {time.perf_counter() - started:6.2f} s  aiohttp + fastfeedparser "
              f"({feeds} feeds parsed, {entries} entries)")


if __name__ == "__main__":
    main()
