"""Benchmark of agreement extraction: load time, time per article, and the refresh job that runs it.

    .venv/bin/python bench/agreements_bench.py [--rounds 20]

Articles: the labelled set (tests/data/agreements/, 35 stories of 0.5-3 KB, the seeds included) and
"long" articles of ~6 KB made by joining six of them (extraction reads at most MAX_SENTENCES sentences).
Ingest: the labelled stories stored into a fresh SQLite store (ingest leaves agreements out), then\nagreements.refresh (the daemon job) fills them in.
Times are CPU time of this process (time.process_time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

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


def refresh_time(rounds: int) -> tuple[float, float]:
    """CPU per story of ingest (which leaves the agreement out) and of the refresh job that fills it in."""
    from watcher.config import load_config
    from watcher.store import open_store

    ingest_times, refresh_times = [], []
    for r in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "watcher.yaml"
            path.write_text('sources:\n  - {name: a, kind: feed, url: "http://127.0.0.1:9/a.xml"}\n', encoding="utf-8")
            store = open_store(f"sqlite:///{tmp}/w.db")
            ingestor = ingest.Ingestor(load_config(path, env={}))
            drafts = [ingest.Draft(source="a", guid=f"{r}-{i}", title=c.title, body=c.body, published_at=c.published)
                      for i, c in enumerate(CASES)]
            with store.session() as s:
                start = clock()
                ingestor.ingest(s, drafts)
                s.flush()
                ingest_times.append((clock() - start) / len(drafts))
            with store.session() as s:
                start = clock()
                done = agreements.refresh(s)
                s.flush()
                refresh_times.append((clock() - start) / max(done, 1))
            store.close()
    return statistics.median(ingest_times), statistics.median(refresh_times)


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
    ingested, refreshed = refresh_time(max(3, args.rounds // 4))
    print(f"ingest of the labelled stories (all relevant, new; no agreement): {ingested * 1000:.2f} ms per article; "
          f"the refresh job that extracts their agreements afterwards: {refreshed * 1000:.2f} ms per story")

if __name__ == "__main__":
    main()
