"""Deduplication benchmark: decision time, index memory and rebuild time with 10k..1M stored articles.

Stored articles are synthetic French: words drawn from a Zipf-weighted vocabulary (the words of the
seeds and of tests/data/dedupe/, then ~20,000 made-up words for the long tail of names and rare
terms), each article with its own recurring topic words, sentences and paragraphs, and one of a few
shared boilerplate tails on a third of them (shared tails are what makes unrelated articles look
alike to LSH). Their fingerprints and signatures are computed with watcher.dedupe itself and cached in
bench/out/ (1M takes several minutes the first time).

For each size it prints:
- load: StoryIndex.load() from in-memory rows, and (unless --no-sqlite) start-up as the daemon does
  it: SELECT of the five columns from an SQLite table plus load();
- memory: index.nbytes() and the growth of the process RSS when the index is built;
- per decision (new / exact / near): find() alone, and fingerprint + signature + find() together,
  median and 99th percentile in ms, and whether every decision was right.

    .venv/bin/python bench/dedupe_bench.py                 # 10k, 100k
    .venv/bin/python bench/dedupe_bench.py --sizes 1000000 --queries 300
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher import dedupe  # noqa: E402
from watcher.dedupe import StoryIndex, fingerprint, signature  # noqa: E402

OUT = ROOT / "bench" / "out"
GENERATOR_VERSION = 1
EPOCH = datetime(2022, 1, 1, tzinfo=timezone.utc)
SPAN_DAYS = 3 * 365

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


def as_db_rows(hashes: np.ndarray, sigs: np.ndarray, pubs: np.ndarray) -> list[tuple]:
    """Rows as the store returns them: (article_id, story_id, content_hash, signature, published_at)."""
    return [(i + 1, i + 1, h.decode(), s.tobytes(), datetime.fromtimestamp(p, timezone.utc))
            for i, (h, s, p) in enumerate(zip(hashes, sigs, pubs))]


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def sqlite_startup(rows: list[tuple]) -> float:
    """Seconds to SELECT the five columns from an SQLite file and load() the index from them."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, story_id INTEGER, content_hash VARCHAR(64), "
                   "signature BLOB, published_at DATETIME)")
        db.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?)",
                       ((a, s, h, g, p.isoformat(sep=" ")) for a, s, h, g, p in rows))
        db.commit()
        db.close()
        t0 = time.perf_counter()
        db = sqlite3.connect(path)
        cursor = db.execute("SELECT id, story_id, content_hash, signature, published_at FROM articles")
        index = StoryIndex.load((a, s, h, g, datetime.fromisoformat(p) if p else None) for a, s, h, g, p in cursor)
        elapsed = time.perf_counter() - t0
        db.close()
        assert len(index) == len(rows)
        return elapsed


def run_size(corpus: Corpus, n: int, queries: int, with_sqlite: bool) -> None:
    hashes, sigs, pubs = stored_rows(corpus, n)
    rows = as_db_rows(hashes, sigs, pubs)
    del hashes, sigs, pubs
    gc.collect()
    before = rss_bytes()
    t0 = time.perf_counter()
    index = StoryIndex.load(rows)
    load_s = time.perf_counter() - t0
    gc.collect()
    grown = rss_bytes() - before
    startup = sqlite_startup(rows) if with_sqlite else None
    del rows
    gc.collect()

    rng = np.random.default_rng(n)
    picks = rng.choice(n, size=min(queries, n), replace=False)
    cases = {
        "new": [(corpus.article(int(i), variant=1), None) for i in picks],
        "exact": [(_retyped(corpus.article(int(i))), int(i) + 1) for i in picks],
        "near": [(corpus.rewrite(int(i)), int(i) + 1) for i in picks],
    }
    print(f"\n== {n:,} stored articles ==")
    print(f"load (rebuild from rows): {load_s:.2f} s"
          + (f"   start-up (SQLite SELECT + load): {startup:.2f} s" if startup is not None else ""))
    print(f"index memory: nbytes {index.nbytes() / 2**20:.0f} MiB, RSS growth {grown / 2**20:.0f} MiB, "
          f"{index.nbytes() / n:.0f} bytes/article")
    print(f"{'decision':8} {'find med':>9} {'find p99':>9} {'full med':>9} {'full p99':>9}  right")
    for kind, items in cases.items():
        find_ms, full_ms, right = [], [], 0
        for (title, body, published), expected in items:
            t0 = time.perf_counter_ns()
            fp, sig = fingerprint(title, body), signature(title, body)
            t1 = time.perf_counter_ns()
            dup = index.find(fp, sig, published)
            t2 = time.perf_counter_ns()
            find_ms.append((t2 - t1) / 1e6)
            full_ms.append((t2 - t0) / 1e6)
            if kind == "new":
                right += dup is None
            else:
                right += dup is not None and dup.kind == kind and dup.story_id == expected
        print(f"{kind:8} {statistics.median(find_ms):9.3f} {_p99(find_ms):9.3f} "
              f"{statistics.median(full_ms):9.3f} {_p99(full_ms):9.3f}  {right}/{len(items)}")
    add_ms = []
    for k, ((title, body, published), _) in enumerate(cases["new"]):
        fp, sig = fingerprint(title, body), signature(title, body)
        t0 = time.perf_counter_ns()
        index.add(n + k + 1, n + k + 1, fp, sig, published)
        add_ms.append((time.perf_counter_ns() - t0) / 1e6)
    print(f"add      {statistics.median(add_ms):9.3f} {_p99(add_ms):9.3f}   (ms, after a decision)")


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
                        help="comma-separated numbers of stored articles (default 10000,100000; 1000000 works)")
    parser.add_argument("--queries", type=int, default=300, help="decisions timed per kind (default 300)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite start-up measurement")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "").replace("k", "000").replace("M", "000000")) for s in args.sizes.split(",")]
    print(f"dedupe bench: NUM_PERM={dedupe.NUM_PERM} bands={dedupe.BANDS}x{dedupe.ROWS} "
          f"near>={dedupe.NEAR_THRESHOLD} (>={dedupe.FAR_THRESHOLD} beyond {dedupe.FAR_DAYS} days)")
    corpus = Corpus()
    for n in sizes:
        run_size(corpus, n, args.queries, not args.no_sqlite)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
