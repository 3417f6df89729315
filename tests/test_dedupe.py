"""Deduplication: fingerprints, signatures, the story index, and the labelled set in tests/data/dedupe/."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from watcher import dedupe
from watcher.dedupe import EMPTY_FINGERPRINT, Duplicate, StoryIndex, fingerprint, signature, similarity

DATA = Path(__file__).parent / "data" / "dedupe"
T0 = datetime(2024, 6, 5, 8, 0, tzinfo=timezone.utc)


@dataclass
class Case:
    file: str
    story: str
    published: datetime
    title: str
    body: str


def load_cases() -> list[Case]:
    labels = yaml.safe_load((DATA / "labels.yaml").read_text(encoding="utf-8"))["articles"]
    cases = []
    for row in labels:
        text = (DATA / row["file"]).read_text(encoding="utf-8")
        title, _, body = text.partition("\n\n")
        day: date = row["published"]
        published = datetime(day.year, day.month, day.day, 8, 0, tzinfo=timezone.utc)
        cases.append(Case(row["file"], row["story"], published, title.strip(), body.strip()))
    return cases


CASES = load_cases()


def assign_stories(cases: list[Case]) -> tuple[list[int], list[Duplicate | None], StoryIndex]:
    """Feed the cases in order: find, then add (a new story id when find() says new)."""
    index = StoryIndex()
    stories: list[int] = []
    decisions: list[Duplicate | None] = []
    next_story = 1000
    for article_id, case in enumerate(cases, start=1):
        fp, sig = fingerprint(case.title, case.body), signature(case.title, case.body)
        dup = index.find(fp, sig, case.published)
        if dup is None:
            story = next_story
            next_story += 1
        else:
            story = dup.story_id
        index.add(article_id, story, fp, sig, case.published)
        stories.append(story)
        decisions.append(dup)
    return stories, decisions, index


def pairwise(labels: list[str], predicted: list[int]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(labels)), 2):
        same, said = labels[i] == labels[j], predicted[i] == predicted[j]
        tp += same and said
        fp += said and not same
        fn += same and not said
    return tp, fp, fn


# --- the labelled set ------------------------------------------------------------------------


def test_labelled_set_is_big_and_varied() -> None:
    assert len(CASES) >= 30
    assert len({c.story for c in CASES}) >= 10
    assert sum(c.file.startswith("seed-") and "_" not in c.file for c in CASES) == 5
    for case in CASES:
        assert case.body, f"{case.file}: empty body"


def test_labelled_set_precision_and_recall() -> None:
    stories, decisions, _ = assign_stories(CASES)
    for case, story, dup in zip(CASES, stories, decisions):
        how = "new" if dup is None else f"{dup.kind} {dup.similarity:.2f} of #{dup.article_id}"
        print(f"  {case.file:28} label={case.story:18} story={story} {how}")
    tp, fp, fn = pairwise([c.story for c in CASES], stories)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"dedupe labelled set: {len(CASES)} articles, {len(set(c.story for c in CASES))} stories, "
          f"pairs tp={tp} fp={fp} fn={fn} precision={precision:.3f} recall={recall:.3f}")
    assert fp == 0, "a false merge of two different stories"
    assert precision >= 0.95
    assert recall >= 0.95


@pytest.mark.parametrize("merge_rows", [10**9, 100], ids=["rows-kept-new", "rows-moved-often"])
def test_labelled_set_decides_the_same_through_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         merge_rows: int) -> None:
    """The store's index (watcher.store.bands) makes the in-memory index's decisions, case by case,
    whether the band rows sit in article_bands_new or were moved into article_bands."""
    from watcher.store import bands, open_store
    from watcher.store.models import Article, Story

    monkeypatch.setattr(bands, "MERGE_ROWS", merge_rows)
    expected, _, _ = assign_stories(CASES)
    store = open_store(f"sqlite:///{tmp_path}/dedupe.db")
    stories: dict[int, int] = {}  # in-memory story id -> stored story id
    with store.session() as s:
        for i, case in enumerate(CASES):
            fp, sig = fingerprint(case.title, case.body), signature(case.title, case.body)
            [dup] = bands.find(s, [(fp, sig, case.published)])
            if dup is None:  # a new story here must be a new story in memory too
                assert expected[i] not in stories, case.file
                story = Story(title=case.title, created_at=T0)
                s.add(story)
                s.flush()
                stories[expected[i]] = story.id
            else:
                assert dup.story_id == stories.get(expected[i]), case.file
            article = Article(source="s", guid=case.file, title=case.title, body=case.body, fetched_at=T0,
                              published_at=case.published, content_hash=fp, signature=sig,
                              story_id=stories[expected[i]])
            s.add(article)
            s.flush()
            bands.add(s, [(article.id, sig)])
    store.close()


def test_expected_kinds_on_known_copies() -> None:
    _, decisions, _ = assign_stories(CASES)
    by_file = dict(zip((c.file for c in CASES), decisions))
    assert by_file["seed-001_b.txt"] is not None and by_file["seed-001_b.txt"].kind == "exact"
    assert by_file["seed-001_e.txt"] is not None and by_file["seed-001_e.txt"].kind == "exact"
    assert by_file["kr-tn-ai-2025_c.txt"] is not None and by_file["kr-tn-ai-2025_c.txt"].kind == "exact"
    assert by_file["seed-002_b.txt"] is not None and by_file["seed-002_b.txt"].kind == "near"
    assert by_file["kr-tn-ai-2025_a.txt"] is None  # not the 2024 Tunisia-Korea MoU
    assert by_file["bj-huawei-2024_a.txt"] is None  # shares a paragraph with the Senegal story


# --- fingerprint and signature ----------------------------------------------------------------

BODY = ("Le ministre tunisien des Technologies de la communication et l’ambassadeur de Corée ont signé "
        "un mémorandum d’accord pour la transformation numérique, la 5G et la cybersécurité. ") * 4


@pytest.mark.parametrize("variant", [
    BODY.upper(),
    BODY.replace("é", "e").replace("’", "'"),
    BODY.replace(" ", "   ").replace(". ", ".\n\n"),
    BODY.replace(",", " ,").replace(".", " !"),
    "  " + BODY + "  ",
])
def test_fingerprint_ignores_case_accents_spacing_punctuation(variant: str) -> None:
    assert fingerprint("Un titre", variant) == fingerprint("Un autre titre", BODY)


def test_fingerprint_sees_words() -> None:
    assert fingerprint("t", BODY) != fingerprint("t", BODY.replace("tunisien", "marocain"))
    assert len(fingerprint("t", BODY)) == 64


def test_short_body_includes_title() -> None:
    assert fingerprint("Accord Tunisie-Corée", "Lire la suite.") != fingerprint("Accord Maroc-Chine", "Lire la suite.")
    assert signature("Accord Tunisie-Corée", "Lire la suite.") != signature("Accord Maroc-Chine", "Lire la suite.")


def test_empty_article() -> None:
    assert fingerprint("", "") == EMPTY_FINGERPRINT
    assert signature("", "  ") == b""
    index = StoryIndex()
    index.add(1, 10, EMPTY_FINGERPRINT, b"", T0)
    assert index.find(EMPTY_FINGERPRINT, b"", T0) is None


def test_signature_is_compact_stable_bytes() -> None:
    sig = signature("t", BODY)
    assert isinstance(sig, bytes) and len(sig) == 1 + dedupe.NUM_PERM * 2
    assert sig == signature("autre titre", BODY)
    assert similarity(sig, sig) == 1.0
    assert similarity(sig, b"") == 0.0


def test_similarity_tracks_shared_text() -> None:
    base = CASES[1]  # seed 001
    other = next(c for c in CASES if c.file == "kr-tn-ai-2025_a.txt")
    s_base = signature(base.title, base.body)
    s_added = signature(base.title, base.body + " Une phrase ajoutée à la fin, pour voir.")
    assert similarity(s_base, s_added) > 0.85
    assert similarity(s_base, signature(other.title, other.body)) < 0.2


# --- StoryIndex --------------------------------------------------------------------------------

def _article(text: str) -> tuple[str, bytes]:
    return fingerprint("", text), signature("", text)


STORY_A = " ".join(f"Phrase {i} du premier article sur la coopération numérique entre la Tunisie et la Corée." for i in range(30))
STORY_B = " ".join(f"Ligne {i} d’un autre article sur le centre d’IA financé par la KOICA à Tunis." for i in range(30))
# A light rewrite: the first sentences said differently, one sentence added at the end.
REWRITE_A = "Un chapeau réécrit par un autre site pour présenter l’accord. " \
    + STORY_A.split(" Phrase 6 ", 1)[1] + " Une phrase ajoutée."


def test_find_exact_near_and_new() -> None:
    index = StoryIndex()
    fp_a, sig_a = _article(STORY_A)
    index.add(1, 100, fp_a, sig_a, T0)
    assert index.find(*_article(STORY_B), T0) is None
    exact = index.find(fp_a, sig_a, T0 + timedelta(days=3))
    assert exact == Duplicate("exact", 100, 1, 1.0)
    near = index.find(*_article(REWRITE_A), T0 + timedelta(days=1))
    assert near is not None and near.kind == "near" and near.story_id == 100 and near.article_id == 1
    assert dedupe.NEAR_THRESHOLD <= near.similarity < 1.0


def test_best_near_duplicate_wins() -> None:
    index = StoryIndex()
    far_copy = STORY_A[: len(STORY_A) * 2 // 3]
    index.add(1, 100, *_article(far_copy), T0)
    index.add(2, 200, *_article(STORY_A.replace("Phrase 29", "Fin")), T0)
    dup = index.find(*_article(STORY_A), T0)
    assert dup is not None and dup.story_id == 200


def test_republication_weeks_later_merges_but_not_a_year_later() -> None:
    index = StoryIndex()
    index.add(1, 100, *_article(STORY_A), T0)
    fp, sig = _article(REWRITE_A)
    assert similarity(sig, signature("", STORY_A)) < dedupe.FAR_THRESHOLD
    weeks = index.find(fp, sig, T0 + timedelta(weeks=6))
    assert weeks is not None and weeks.story_id == 100
    assert index.find(fp, sig, T0 + timedelta(days=400)) is None
    assert index.find(fp, sig, None) is not None  # unknown date: no time guard
    assert index.find(*_article(STORY_A), T0 + timedelta(days=400)) is not None  # verbatim: still one story


def test_add_again_replaces_remove_and_exclude() -> None:
    index = StoryIndex()
    index.add(1, 100, *_article(STORY_A), T0)
    index.add(1, 100, *_article(STORY_B), T0)  # corrected article: new text replaces the old
    assert len(index) == 1
    assert index.find(*_article(STORY_A), T0) is None
    assert index.find(*_article(STORY_B), T0) is not None
    assert index.find(*_article(STORY_B), T0, exclude=1) is None
    assert index.story_of(1) == 100
    assert index.remove(1) and not index.remove(1)
    assert index.find(*_article(STORY_B), T0) is None and index.story_of(1) is None


def test_a_stale_signature_is_not_banded() -> None:
    """A signature of another version has no band keys: its article is found by fingerprint only."""
    _, sig = _article(STORY_B)
    assert dedupe.band_keys(bytes([dedupe.SIGNATURE_VERSION + 1]) + sig[1:]) == []
    assert dedupe.band_keys(b"") == [] and dedupe.band_keys(None) == []
    assert len(dedupe.band_keys(sig)) > 50


def test_growth_and_delta_merges_keep_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Adds beyond the initial capacity and past the delta merge point find the same stories."""
    monkeypatch.setattr(dedupe._MultiMap, "MERGE_AT", 50)
    index = StoryIndex(capacity=4)
    texts = [f"Article numéro {i} : " + " ".join(f"mot{i}x{j}" for j in range(60)) for i in range(70)]
    for i, text in enumerate(texts):
        index.add(i + 1, 1000 + i, *_article(text), T0)
    for i, text in enumerate(texts):
        dup = index.find(*_article(text + " ajout"), T0)
        assert dup is not None and dup.story_id == 1000 + i and dup.kind == "near"
    assert index.nbytes() > 0


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_any_text_gives_well_formed_keys(title: str, body: str) -> None:
    fp, sig = fingerprint(title, body), signature(title, body)
    assert len(fp) == 64 and int(fp, 16) >= 0
    assert sig == b"" or (len(sig) == 1 + dedupe.NUM_PERM * 2 and similarity(sig, sig) == 1.0)
    assert (sig == b"") == (fp == EMPTY_FINGERPRINT)


def test_one_word_article_is_indexed() -> None:
    index = StoryIndex()
    index.add(1, 100, *_article("Coopération"), T0)
    assert index.find(*_article("coopération !"), T0) == Duplicate("exact", 100, 1, 1.0)
    assert index.find(*_article("Partenariat"), T0) is None


@pytest.mark.parametrize("title,body", [
    ("L’Iran offre au Mali ses compétences", "Le ministère malien de la Communication a annoncé la volonté de l’Iran " * 5),
    ("Titre seul, corps court", "Trois mots ici."),
    ("", ""),
])
def test_keys_from_tokens_agree_with_fingerprint_and_signature(title: str, body: str) -> None:
    """Ingest computes both keys from words it already tokenised; they must equal the text-based ones."""
    from watcher.text import tokens

    assert dedupe.keys(tokens(title), tokens(body)) == (dedupe.fingerprint(title, body), dedupe.signature(title, body))
