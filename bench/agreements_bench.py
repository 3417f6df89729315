"""Benchmark of agreement extraction: load time, time per article, and what it adds to ingest.

    .venv/bin/python bench/agreements_bench.py [--rounds 20]

Articles: the labelled set (tests/data/agreements/, 35 stories of 0.5-3 KB, the seeds included) and
"long" articles of ~6 KB made by joining six of them (extraction reads at most MAX_SENTENCES sentences).
Ingest: the labelled stories stored into a fresh SQLite store, with the hook and with it stubbed out.
Times are CPU time of this process (time.process_time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_agreements import CASES  # noqa: E402  (the labelled set, parsed as the test does)
from watcher import agreements, ingest  # noqa: E402

clock = time.process_time


def per_article(articles: list[tuple[str, str]], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = clock()
        for title, body in articles:
            agreements.extract(title, body, None)
        times.append((clock() - start) / len(articles))
    return statistics.median(times)


def ingest_time(rounds: int, hook: bool) -> float:
    from watcher.config import load_config
    from watcher.store import open_store

    times = []
    for r in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "watcher.yaml"
            path.write_text('sources:\n  - {name: a, kind: feed, url: "http://127.0.0.1:9/a.xml"}\n', encoding="utf-8")
            store = open_store(f"sqlite:///{tmp}/w.db")
            ingestor = ingest.Ingestor(load_config(path, env={}))
            drafts = [ingest.Draft(source="a", guid=f"{r}-{i}", title=c.title, body=c.body, published_at=c.published)
                      for i, c in enumerate(CASES)]
            patch = mock.patch.object(ingest, "_agreement", lambda draft, published_at=None: None)
            with store.session() as s:
                if not hook:
                    patch.start()
                start = clock()
                ingestor.ingest(s, drafts)
                s.flush()
                elapsed = clock() - start
                if not hook:
                    patch.stop()
            store.close()
            times.append(elapsed / len(drafts))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    start = clock()
    agreements._data()
    print(f"gazetteer + patterns loaded and compiled once per process: {(clock() - start) * 1000:.0f} ms")
    short = [(c.title, c.body) for c in CASES]
    long = [(short[i][0], "\n\n".join(b for _, b in short[i:i + 6])) for i in range(0, len(short) - 6)]
    sizes = [len(b) for _, b in short]
    print(f"labelled stories ({len(short)}, {min(sizes)}-{max(sizes)} chars): "
          f"{per_article(short, args.rounds) * 1000:.2f} ms per article")
    print(f"long articles ({len(long)}, ~{statistics.mean(len(b) for _, b in long) / 1000:.1f} KB): "
          f"{per_article(long, args.rounds) * 1000:.2f} ms per article")
    with_hook = ingest_time(max(3, args.rounds // 4), True)
    without = ingest_time(max(3, args.rounds // 4), False)
    print(f"ingest of the labelled stories (all relevant, new): {with_hook * 1000:.2f} ms per article with the hook, "
          f"{without * 1000:.2f} ms without (+{(with_hook - without) * 1000:.2f} ms)")


if __name__ == "__main__":
    main()
