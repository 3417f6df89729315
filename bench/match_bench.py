"""Benchmark of subscription matching: compile time and per-article time for 100 to 10,000 subscriptions.

Synthetic but French-shaped: articles of ~5 KB built from French function words, the cooperation and
digital vocabulary, country names (with elisions, accents and hyphens) and a long tail of filler words
drawn with a Zipf-like distribution; subscriptions mix `any`, `all` and `none` lists, quoted phrases
and trailing-* prefixes over the same vocabulary. Two mixes: "broad" (a fifth of the keywords are
common words such as "numérique" or "Tunisie", so ~5% of all subscriptions match each article) and
"specific" (2%), because the cost per article grows with the number of matches it produces.

    .venv/bin/python bench/match_bench.py [--articles 1000] [--subs 100,1000,10000] [--seed 7] [--repeat 3]

Prints, for each subscription count: compile time, time per article for match() (tokenising included)
and for match_document() on an already tokenised article, and the average number of matches. Times are
CPU time of this process (time.process_time), so other load on the machine inflates them less than
wall time; each is the best of --repeat passes over all articles, because load from other processes
(shared caches, the other core) still adds to CPU time, and only ever upwards. The garbage collector
stays on (matching allocates two objects per match, so its collections are part of the cost), but a
full collection runs before each timed pass, so the objects left by compiling are not charged to it.
Targets (issue 6): compile <= 2 s and <= 0.5 ms per article with 10,000 subscriptions.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable

from watcher.config import SubscriptionConfig
from watcher.matching import Matcher, document
from watcher.relevance import Classifier

# CPU time of this process: on a shared machine, wall time mostly measures the other processes.
clock = time.process_time

FUNCTION_WORDS = (
    "le la les un une des du de et à au aux en dans pour par sur avec entre qui que est sont a ont "
    "ce cette ces son sa ses leur leurs plus aussi ainsi selon lors après avant depuis vers sous"
).split()
DOMAIN = (
    "coopération accord partenariat convention mémorandum protocole signé paraphé bilatérale ministre "
    "ministère gouvernement ambassadeur délégation numérique télécommunications cybersécurité "
    "intelligence artificielle données fibre optique haut débit start-up innovation formation "
    "infrastructures réseau opérateur régulateur plateforme services transformation digitale 5G 4G "
    "satellite câble sous-marin e-gouvernement identité connectivité internet cloud"
).split()
PLACES = (
    "Tunisie Maroc Algérie Égypte Sénégal Mali Niger Cameroun Gabon Congo Bénin Togo Ghana Nigeria "
    "Kenya Rwanda Éthiopie Djibouti Mauritanie Tchad Madagascar Guinée Guinée-Bissau Côte-d'Ivoire "
    "Burkina Libye Soudan Jordanie Qatar Chine Corée Japon Inde Russie Turquie France Iran USA UIT "
    "CEDEAO ICESCO ALECSO AICTO UNESCO Union-africaine"
).split()
ELIDED = ("l'", "d'", "l’", "d’", "qu'", "jusqu'")


def _filler_vocabulary(rng: random.Random, size: int) -> list[str]:
    """Pseudo-French content words (a long tail like real news vocabulary)."""
    syllables = "ba bé ca co da de fo ga gi la lé ma mé na no pa pé ra ré sa so ta té va vi tion ment eur ique".split()
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def _zipf_pick(rng: random.Random, words: list[str]) -> str:
    # Rank r is picked with probability ~ 1/r: a few words are frequent, most are rare.
    return words[min(int(len(words) ** rng.random()) - 1, len(words) - 1)]


def make_articles(rng: random.Random, count: int, filler: list[str], size: int = 5000) -> list[tuple[str, str]]:
    """Articles of ~size bytes; each is about a few places and a dozen domain words, like real news."""
    articles = []
    for _ in range(count):
        places = rng.sample(PLACES, 3)
        domain = rng.sample(DOMAIN, 12)
        parts: list[str] = []
        length = 0
        while length < size:
            roll = rng.random()
            if roll < 0.45:
                word = rng.choice(FUNCTION_WORDS)
            elif roll < 0.55:
                word = rng.choice(domain)
            elif roll < 0.58:
                word = rng.choice(ELIDED) + rng.choice(places).replace("-", " ", rng.random() < 0.3)
            elif roll < 0.60:
                word = rng.choice(places)
            else:
                word = _zipf_pick(rng, filler)
            if rng.random() < 0.06:
                word += rng.choice([",", ".", " :", " »", ";"])
            parts.append(word.capitalize() if rng.random() < 0.05 else word)
            length += len(word) + 1
        title = " ".join(rng.choice(domain + places) for _ in range(8))
        articles.append((title, " ".join(parts)))
    return articles


def _term(rng: random.Random, filler: list[str], common: float) -> str:
    """One keyword: a place or domain word with probability `common`, else a specific term."""
    roll = rng.random()
    if roll < common / 2:
        return rng.choice(PLACES)
    if roll < common:
        return rng.choice(DOMAIN)
    roll = rng.random()
    if roll < 0.2:  # quoted phrase of two words
        return f'"{_zipf_pick(rng, filler)} {rng.choice(filler)}"'
    if roll < 0.35:  # prefix: a word family, like "numéri*" (a 4-letter stem would match a fifth of all words)
        word = rng.choice(filler + DOMAIN)
        return word[: max(6, len(word) - 2)] + "*"
    return rng.choice(filler)


def make_subscriptions(rng: random.Random, count: int, filler: list[str], common: float) -> list[SubscriptionConfig]:
    """any (50%), all (30%), any + all (20%); a `none` list on 30% of them."""
    subs = []
    for i in range(count):
        shape = rng.random()
        spec: dict[str, list[str]] = {}
        if shape < 0.5:
            spec["any"] = [_term(rng, filler, common) for _ in range(rng.randint(1, 4))]
        elif shape < 0.8:
            spec["all"] = [_term(rng, filler, common) for _ in range(rng.randint(2, 3))]
        else:
            spec["any"] = [_term(rng, filler, common) for _ in range(rng.randint(1, 3))]
            spec["all"] = [_term(rng, filler, common)]
        if rng.random() < 0.3:
            spec["none"] = [_term(rng, filler, common) for _ in range(rng.randint(1, 2))]
        subs.append(SubscriptionConfig(name=f"sub-{i}", **spec))
    return subs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--subs", default="100,1000,10000", help="comma-separated subscription counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per figure; the best is printed")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    filler = _filler_vocabulary(rng, 20000)
    articles = make_articles(rng, args.articles, filler)
    avg_kb = statistics.mean(len((t + b).encode()) for t, b in articles) / 1024
    print(f"{len(articles)} articles, {avg_kb:.1f} KB on average")

    t0 = clock()
    docs = [document(t, b) for t, b in articles]
    tokenise_ms = (clock() - t0) / len(articles) * 1000
    print(f"tokenise (fold + tokens + token string): {tokenise_ms:.3f} ms/article")

    classifier = Classifier.from_config(None)
    t0 = clock()
    for t, b in articles:
        classifier.classify(t, b)
    print(f"relevance classify (tokenising included): {(clock() - t0) / len(articles) * 1000:.3f} ms/article")

    for label, common in (("broad", 0.20), ("specific", 0.02)):
        print(f"\n{label} subscriptions: {common:.0%} of terms are common place/domain words")
        print(f"{'subs':>6} {'compile s':>10} {'match ms/art':>13} {'pre-tokenised ms/art':>21} {'matches/art':>12}")
        for count in [int(n) for n in args.subs.split(",")]:
            subs = make_subscriptions(random.Random(args.seed + count), count, filler, common)
            _run(articles, docs, subs, args.repeat)


def _best(repeat: int, work: Callable[[], object]) -> float:
    """The lowest CPU time of `repeat` runs of work(), each after a full garbage collection."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = clock()
        work()
        times.append(clock() - t0)
    return min(times)


def _run(articles: list[tuple[str, str]], docs: list[str], subs: list[SubscriptionConfig], repeat: int) -> None:
    compile_s = _best(repeat, lambda: Matcher(subs))
    matcher = Matcher(subs)

    def match_all() -> None:
        for t, b in articles:
            matcher.match(t, b, "agence-ecofin", 0.8)

    def match_documents() -> None:  # each result is dropped at once, as ingest does after enqueuing
        for doc in docs:
            matcher.match_document(doc, "agence-ecofin", 0.8)

    full_ms = _best(repeat, match_all) / len(articles) * 1000
    pre_ms = _best(repeat, match_documents) / len(articles) * 1000
    total = sum(len(matcher.match_document(doc, "agence-ecofin", 0.8)) for doc in docs)
    print(f"{len(subs):>6} {compile_s:>10.3f} {full_ms:>13.3f} {pre_ms:>21.3f} {total / len(articles):>12.1f}")


if __name__ == "__main__":
    main()
