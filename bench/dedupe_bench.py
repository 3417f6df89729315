"""Deduplication benchmark: the store's near-duplicate index (watcher/store/bands.py) with 10k..1M stored articles.

Stored articles are synthetic French: words drawn from a Zipf-weighted vocabulary (the words of the
seeds and of tests/data/dedupe/, then ~20,000 made-up words for the long tail of names and rare
terms), each article with its own recurring topic words, sentences and paragraphs, and one of a few
shared boilerplate tails on a third of them (shared tails are what makes unrelated articles look
alike to LSH). Their fingerprints and signatures are computed with watcher.dedupe itself and cached in
bench/out/ (1M takes several minutes the first time).

For each size it builds a real store (open_store on an SQLite file in a temporary directory, or a
fresh schema on the PostgreSQL of --store, dropped afterwards), inserts n stories and n articles
(story id = article id; content hash, signature and date from the cache; no bodies) and prints:
- index build: bands.add() over all stored articles, in chunks: seconds, band rows, µs per article;
  On PostgreSQL the tables are then ANALYZEd, as autovacuum does soon after a bulk load: without
  statistics the planner scans all of article_bands for a batch's IN list of ~1,280 band keys;
- store size per stored article: SQLite file + -wal, and the share of article_bands, articles and
  stories, each with its indexes (PostgreSQL: their total relation sizes);
- process RSS in MiB with the store open and empty, after the build (the bench's own row arrays
  freed) and after the decisions: it no longer grows with n, the index lives in the store;
- per decision (new / exact / near), one article per bands.find() call: find alone, and fingerprint +
  signature + find together, median and 99th percentile in ms, and whether every decision was right
  (exact and near must find story i + 1, new must find nothing);
- batch: bands.find() over 20 new articles at once (one poll of one feed), ms per article;
- add: bands.add() of 20 new articles after they are stored (as an ingest batch does), ms per article.

1,000,000 stored articles works but needs ~64 M band rows (about 2 GB of SQLite file, and expect a build
of well over ten minutes: band rows go to random places of a B-tree far larger than SQLite's page cache).

    .venv/bin/python bench/dedupe_bench.py                 # 10k, 100k on SQLite
    .venv/bin/python bench/dedupe_bench.py --sizes 1000000 --queries 300
    .venv/bin/python bench/dedupe_bench.py --store postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from watcher import dedupe  # noqa: E402
from watcher.dedupe import fingerprint, signature  # noqa: E402
from watcher.store import Store, open_store  # noqa: E402
from watcher.store import bands  # noqa: E402
from watcher.store.models import Article, Story  # noqa: E402

OUT = ROOT / "bench" / "out"
GENERATOR_VERSION = 1
EPOCH = datetime(2022, 1, 1, tzinfo=timezone.utc)
SPAN_DAYS = 3 * 365
BATCH = 20            # new articles per ingest batch (one poll of one feed)
INSERT_CHUNK = 2_000  # stored articles per INSERT executemany / bands.add() call while building (as migration 0005)

BOILERPLATE = [
    "Partager cet article : Facebook Twitter LinkedIn WhatsApp. Abonnez-vous à notre newsletter pour recevoir "
    "chaque matin l’essentiel de l’actualité numérique africaine.",
    "LAISSER UNE RÉPONSE. Veuillez saisir votre commentaire ! Veuillez saisir votre nom ici. Vous avez entré une "
    "adresse e-mail incorrecte ! Veuillez saisir votre adresse e-mail ici.",
    "Si vous avez aimé ce texte, vous aimerez bien d'autres. Rejoignez notre canal Telegram et notre chaîne "
    "WhatsApp pour ne rien manquer de l'actualité des TIC en Afrique.",
    "Suivez Sputnik Afrique sur Telegram et sur X pour ne rien manquer. Abonnez-vous à notre chaîne pour être "
    "informé en premier des nouvelles du continent.",
    "Disclaimer: You are using Google Translate. The ICESCO is not responsible for the accuracy of the "
    "information in the translated language. Articles les plus récents.",
]


class Corpus:
    """Deterministic synthetic French articles: article i is the same text on every run."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        counts: dict[str, int] = {}
        for path in list((ROOT / "seeds").glob("*.txt")) + list((ROOT / "tests/data/dedupe").glob("*.txt")):
            for word in re.findall(r"[^\W\d_][^\W_]*(?:[’'][^\W_]+)?", path.read_text(encoding="utf-8")):
                counts[word] = counts.get(word, 0) + 1
        known = sorted(counts, key=lambda w: -counts[w])
        rng = np.random.default_rng(seed)
        syllables = ["ba", "ko", "ri", "ta", "mou", "ne", "sa", "li", "di", "ra", "gou", "me", "tin", "que",
                     "ion", "ent", "eur", "ville", "ane", "is", "ou", "é", "cha", "pre", "tra", "ver"]
        made_up = {"".join(rng.choice(syllables, size=rng.integers(2, 5))) for _ in range(24000)}
        self.vocab = np.array(known + sorted(made_up - set(known)), dtype=object)
        weights = 1.0 / (np.arange(len(self.vocab)) + 8.0) ** 1.05
        self.cdf = np.cumsum(weights) / weights.sum()

    def _words(self, rng: np.random.Generator, n: int) -> list[str]:
        return list(self.vocab[np.searchsorted(self.cdf, rng.random(n))])

    def _paragraphs(self, rng: np.random.Generator, n_words: int, topic: list[str]) -> list[str]:
        words = self._words(rng, n_words)
        for k in np.flatnonzero(rng.random(n_words) < 0.12):  # names and key terms recur in an article
            words[k] = topic[rng.integers(len(topic))]
        paragraphs, sentences, i = [], [], 0
        while i < n_words:
            size = int(rng.integers(12, 30))
            sentence = words[i:i + size]
            sentences.append(sentence[0].capitalize() + " " + " ".join(sentence[1:]) + ".")
            i += size
            if len(sentences) >= rng.integers(3, 6):
                paragraphs.append(" ".join(sentences))
                sentences = []
        if sentences:
            paragraphs.append(" ".join(sentences))
        return paragraphs

    def article(self, i: int, variant: int = 0) -> tuple[str, str, datetime]:
        """Title, body and date of article i; variant > 0 draws an unrelated article of the same shape."""
        rng = np.random.default_rng([self.seed, i, variant])
        topic = list(self.vocab[rng.integers(150, len(self.vocab), size=12)])
        n_words = int(np.clip(rng.normal(300, 100), 80, 900))
        title = " ".join(self._words(rng, int(rng.integers(7, 14)))).capitalize()
        paragraphs = self._paragraphs(rng, n_words, topic)
        if rng.random() < 0.33:
            paragraphs.append(BOILERPLATE[int(rng.integers(len(BOILERPLATE)))])
        published = EPOCH + timedelta(days=float(rng.random() * SPAN_DAYS))
        return title, "\n\n".join(paragraphs), published

    def rewrite(self, i: int) -> tuple[str, str, datetime]:
        """A light rewrite of article i: new title, new lead sentence, a sentence added, no boilerplate."""
        title, body, published = self.article(i)
        rng = np.random.default_rng([self.seed, i, 99])
        paragraphs = [p for p in body.split("\n\n") if p not in BOILERPLATE]
        topic = list(self.vocab[rng.integers(150, len(self.vocab), size=12)])
        lead = self._paragraphs(rng, 20, topic)[0]
        rest = paragraphs[0].split(". ", 1)
        paragraphs[0] = lead + (" " + rest[1] if len(rest) > 1 else "")
        paragraphs.append("Le ministre a salué un partenariat stratégique pour le numérique.")
        return "Nouveau titre : " + title.lower(), "\n\n".join(paragraphs), published + timedelta(days=9)


def stored_rows(corpus: Corpus, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(content hashes, signatures, published epochs) of articles 0..n-1, cached in bench/out/."""
    OUT.mkdir(parents=True, exist_ok=True)
    have = 0
    hashes: list[np.ndarray] = []
    sigs: list[np.ndarray] = []
    pubs: list[np.ndarray] = []
    for path in sorted(OUT.glob(f"dedupe_v{dedupe.SIGNATURE_VERSION}g{GENERATOR_VERSION}_*.npz")):
        data = np.load(path)
        start = int(path.stem.rsplit("_", 1)[1])
        if start != have:
            continue
        hashes.append(data["hashes"])
        sigs.append(data["sigs"])
        pubs.append(data["pubs"])
        have += len(data["pubs"])
        if have >= n:
            break
    chunk = 50_000
    while have < n:
        size = chunk  # whole chunks, so every size reuses the same cache files
        t0 = time.perf_counter()
        h = np.empty(size, dtype="S64")
        s = np.empty((size, len(signature("x", "x"))), dtype=np.uint8)
        p = np.empty(size, dtype=np.float64)
        for k in range(size):
            title, body, published = corpus.article(have + k)
            h[k] = fingerprint(title, body).encode()
            s[k] = np.frombuffer(signature(title, body), dtype=np.uint8)
            p[k] = published.timestamp()
        np.savez(OUT / f"dedupe_v{dedupe.SIGNATURE_VERSION}g{GENERATOR_VERSION}_{have:09d}.npz",
                 hashes=h, sigs=s, pubs=p)
        hashes.append(h)
        sigs.append(s)
        pubs.append(p)
        have += size
        rate = size / (time.perf_counter() - t0)
        print(f"  generated {have:,} stored articles ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    return (np.concatenate(hashes)[:n], np.concatenate(sigs)[:n], np.concatenate(pubs)[:n])


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _mib(size: float) -> str:
    return f"{size / 2**20:.0f} MiB"


@contextmanager
def bench_store(url: str | None) -> Iterator[tuple[Store, Path | None]]:
    """A fresh, migrated store and its SQLite file (None on PostgreSQL), removed afterwards.

    Without `url`: an SQLite file in a temporary directory. With a PostgreSQL URL: a new schema on that
    server (as tests/conftest.py's pg fixture does), dropped afterwards.
    """
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite:///{tmp}/bench.db")
            try:
                yield store, Path(tmp) / "bench.db"
            finally:
                store.close()
        return
    if not url.startswith("postgresql"):
        raise SystemExit(f"--store: a PostgreSQL URL (postgresql+psycopg://...), not {url}")
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        store = open_store(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}")
        try:
            yield store, None
        finally:
            store.close()
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def insert_articles(store: Store, first_id: int, hashes: list[str], sigs: list[bytes],
                    published: list[datetime]) -> None:
    """Stories and articles first_id.. (story id = article id) with Core executemany, no bands."""
    ids = range(first_id, first_id + len(hashes))
    with store.session() as session:
        conn = session.connection()
        conn.execute(insert(Story.__table__), [
            {"id": i, "representative_id": i, "title": "", "created_at": p, "published_at": p}
            for i, p in zip(ids, published)])
        conn.execute(insert(Article.__table__), [
            {"id": i, "source": "bench", "origin": "feed", "url": f"https://bench.example/{i}",
             "canonical_url": None, "guid": f"bench-{i}", "title": "", "body": "", "published_at": p,
             "fetched_at": p, "revision": 0, "content_hash": h, "signature": s, "relevance": 0.0,
             "relevance_terms": [], "status": "relevant", "story_id": i}
            for i, h, s, p in zip(ids, hashes, sigs, published)])


def build(store: Store, n: int, corpus: Corpus) -> tuple[float, float, int]:
    """Insert n stored articles, then index them with bands.add(): (insert s, index s, band rows)."""
    hashes, sigs, pubs = stored_rows(corpus, n)
    insert_s = index_s = 0.0
    for start in range(0, n, INSERT_CHUNK):
        stop = min(n, start + INSERT_CHUNK)
        chunk_sigs = [s.tobytes() for s in sigs[start:stop]]
        t0 = time.perf_counter()
        insert_articles(store, start + 1, [h.decode() for h in hashes[start:stop]], chunk_sigs,
                        [datetime.fromtimestamp(p, timezone.utc) for p in pubs[start:stop]])
        t1 = time.perf_counter()
        with store.session() as session:
            bands.add(session, list(zip(range(start + 1, stop + 1), chunk_sigs)))
        index_s += time.perf_counter() - t1
        insert_s += t1 - t0
    with store.session() as session:
        bands.merge(session.connection())  # the rows still in article_bands_new join the big table too
        if session.get_bind().dialect.name == "postgresql":  # what autovacuum soon does after a bulk load
            session.execute(text("ANALYZE stories, articles, article_bands"))
        rows = session.execute(text("SELECT count(*) FROM article_bands")).scalar_one()
    return insert_s, index_s, rows


def store_size(store: Store, path: Path | None, n: int) -> str:
    """Bytes per stored article, in all and per table (each with its indexes)."""
    with store.session() as session:
        if path is None:
            tables = {name: session.execute(text("SELECT pg_total_relation_size(:t)"), {"t": name}).scalar_one()
                      for name in ("article_bands", "articles", "stories")}
        else:
            try:  # the pages of each table and of its indexes
                tables = dict(session.execute(text(
                    "SELECT m.tbl_name, sum(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name "
                    "WHERE m.tbl_name IN ('article_bands', 'articles', 'stories') GROUP BY m.tbl_name")).all())
            except Exception:  # SQLite built without the dbstat table
                tables = {}
    detail = ", ".join(f"{name} {tables[name] / n:,.0f} B" for name in ("article_bands", "articles", "stories")
                       if name in tables)
    if path is None:
        total = sum(tables.values())
        return f"PostgreSQL {_mib(total)}, {total / n:,.0f} B per stored article ({detail}; with their indexes)"
    wal = Path(f"{path}-wal")
    size, wal_size = path.stat().st_size, wal.stat().st_size if wal.exists() else 0
    return (f"SQLite file {_mib(size)} + -wal {_mib(wal_size)}, {(size + wal_size) / n:,.0f} B per stored article"
            + (f" ({detail}; with their indexes)" if detail else ""))


def run_size(corpus: Corpus, n: int, queries: int, url: str | None) -> None:
    gc.collect()
    with bench_store(url) as (store, path):
        rss_open = rss_bytes()
        insert_s, index_s, band_rows = build(store, n, corpus)
        gc.collect()
        rss_built = rss_bytes()

        rng = np.random.default_rng(n)
        picks = rng.choice(n, size=min(queries, n), replace=False)
        cases = {
            "new": [(corpus.article(int(i), variant=1), None) for i in picks],
            "exact": [(_retyped(corpus.article(int(i))), int(i) + 1) for i in picks],
            "near": [(corpus.rewrite(int(i)), int(i) + 1) for i in picks],
        }
        print(f"\n== {n:,} stored articles ({'SQLite' if path else 'PostgreSQL'}) ==")
        print(f"insert stories + articles: {insert_s:.1f} s")
        print(f"index build: {index_s:.1f} s, {band_rows:,} band rows ({band_rows / n:.1f} per article), "
              f"{index_s / n * 1e6:.0f} µs per article")
        print(f"store size: {store_size(store, path, n)}")
        print(f"{'decision':8} {'find med':>9} {'find p99':>9} {'full med':>9} {'full p99':>9}  right   (ms)")
        with store.session() as session:
            for kind, items in cases.items():
                find_ms, full_ms, right = [], [], 0
                for (title, body, published), expected in items:
                    t0 = time.perf_counter_ns()
                    fp, sig = fingerprint(title, body), signature(title, body)
                    t1 = time.perf_counter_ns()
                    dup = bands.find(session, [(fp, sig, published)])[0]
                    t2 = time.perf_counter_ns()
                    find_ms.append((t2 - t1) / 1e6)
                    full_ms.append((t2 - t0) / 1e6)
                    if kind == "new":
                        right += dup is None
                    else:
                        right += dup is not None and dup.kind == kind and dup.story_id == expected
                print(f"{kind:8} {statistics.median(find_ms):9.3f} {_p99(find_ms):9.3f} "
                      f"{statistics.median(full_ms):9.3f} {_p99(full_ms):9.3f}  {right}/{len(items)}")

            new = [(fingerprint(t, b), signature(t, b), p) for (t, b, p), _ in cases["new"]]
            batches = [new[k:k + BATCH] for k in range(0, len(new) - BATCH + 1, BATCH)]
            batch_ms, right = [], 0
            for wanted in batches:
                t0 = time.perf_counter_ns()
                found = bands.find(session, wanted)
                batch_ms.append((time.perf_counter_ns() - t0) / 1e6 / len(wanted))
                right += sum(dup is None for dup in found)
        print(f"batch    {statistics.median(batch_ms):9.3f} {_p99(batch_ms):9.3f}   "
              f"{'':20}{right}/{len(batches) * BATCH}   (bands.find of {BATCH} new articles, per article)")

        add_ms = []
        for k, wanted in enumerate(batches):
            first = n + 1 + k * BATCH
            insert_articles(store, first, [h for h, _, _ in wanted], [s for _, s, _ in wanted],
                            [p for _, _, p in wanted])
            with store.session() as session:
                t0 = time.perf_counter_ns()
                bands.add(session, [(first + j, s) for j, (_, s, _) in enumerate(wanted)])
                add_ms.append((time.perf_counter_ns() - t0) / 1e6 / len(wanted))
        print(f"add      {statistics.median(add_ms):9.3f} {_p99(add_ms):9.3f}   "
              f"{'':27}(bands.add of {BATCH} stored articles, per article)")
        gc.collect()
        rss_done = rss_bytes()
        print(f"RSS: store open {_mib(rss_open)}, after build {_mib(rss_built)} ({_mib(rss_built - rss_open)} more), "
              f"after decisions {_mib(rss_done)} ({_mib(rss_done - rss_built)} more)")


def _retyped(article: tuple[str, str, datetime]) -> tuple[str, str, datetime]:
    """The same text under another site's typography: other title, case, spacing, apostrophes."""
    title, body, published = article
    body = body.replace("’", "'").replace(". ", ".  ").replace("\n\n", "\n\n\n")
    return title.upper() + " | Autre site", body, published + timedelta(days=2)


def _p99(values: list[float]) -> float:
    return float(np.percentile(values, 99))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="comma-separated numbers of stored articles (default 10000,100000; 1000000 works "
                             "but needs ~64 M band rows)")
    parser.add_argument("--queries", type=int, default=300, help="decisions timed per kind (default 300)")
    parser.add_argument("--store", metavar="URL",
                        help="a PostgreSQL server to use instead of an SQLite file, e.g. "
                             "postgresql+psycopg://postgres@127.0.0.1:5432/test (a fresh schema, dropped after)")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "").replace("k", "000").replace("M", "000000")) for s in args.sizes.split(",")]
    print(f"dedupe bench: NUM_PERM={dedupe.NUM_PERM} bands={dedupe.BANDS}x{dedupe.ROWS} "
          f"near>={dedupe.NEAR_THRESHOLD} (>={dedupe.FAR_THRESHOLD} beyond {dedupe.FAR_DAYS} days)")
    corpus = Corpus()
    stored_rows(corpus, max(sizes))  # generated once, before any memory is measured
    gc.collect()
    for n in sizes:
        run_size(corpus, n, args.queries, args.store)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
