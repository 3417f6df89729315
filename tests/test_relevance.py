"""Relevance classifier: the labelled French set (tests/data/relevance/), the seeds, explanations, config."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from watcher.config import RelevanceConfig
from watcher.relevance import Classifier, Lexicon, LexiconError

ROOT = Path(__file__).resolve().parents[1]
LABELLED = sorted((Path(__file__).parent / "data" / "relevance").glob("*.yaml"))
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_config(RelevanceConfig())


def _load(path: Path) -> dict:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert case["label"] in ("relevant", "irrelevant"), f"{path}: label must be relevant or irrelevant"
    return case


def test_labelled_set_is_big_and_mixed() -> None:
    cases = [_load(p) for p in LABELLED]
    assert len(cases) >= 40
    labels = [c["label"] for c in cases]
    assert labels.count("relevant") >= 15 and labels.count("irrelevant") >= 15
    kinds = " ".join(c["kind"] for c in cases if c["label"] == "irrelevant")
    for look_alike in ("football", "prix", "smartphone", "élection", "défense"):
        assert look_alike in kinds, f"no {look_alike} look-alike in the labelled set"


def test_precision_and_recall(classifier: Classifier) -> None:
    tp = fp = fn = 0
    wrong: list[str] = []
    for path in LABELLED:
        case = _load(path)
        result = classifier.classify(case["title"], case["body"])
        expected = case["label"] == "relevant"
        tp += result.relevant and expected
        fp += result.relevant and not expected
        fn += expected and not result.relevant
        if result.relevant != expected:
            wrong.append(f"{path.name}: {result.score} {result.terms}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    assert precision >= 0.95 and recall >= 0.95, "\n".join(wrong)


@pytest.mark.parametrize("path", SEEDS, ids=[p.name for p in SEEDS])
def test_every_seed_is_relevant(classifier: Classifier, path: Path) -> None:
    # Raw seed text, boilerplate and " date ..." first line included: the classifier copes with both.
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = classifier.classify(lines[0], "\n".join(lines[1:]))
    assert result.relevant, f"{path.name}: {result.score} {result.terms}"


def test_explanation_names_categories_terms_and_title_hits(classifier: Classifier) -> None:
    result = classifier.classify(
        "Accord de cybersécurité entre la Tunisie et le Maroc",
        "Les ministres ont signé un mémorandum d'entente sur la cybersécurité et le numérique.",
    )
    assert result.relevant
    assert "cooperation:accord@title" in result.terms
    assert "topic:cybersécurité@title" in result.terms
    assert "actor:Tunisie@title" in result.terms
    assert "cooperation:mémorandum d'entente" in result.terms
    assert "actor:ministres" in result.terms
    assert 0.0 < result.score <= 1.0


def test_title_hits_weigh_more(classifier: Classifier) -> None:
    body = "Le ministre a évoqué le numérique."
    in_title = classifier.classify("Accord de coopération avec le Sénégal", body)
    in_body = classifier.classify("Une rencontre", "Accord de coopération avec le Sénégal. " + body)
    assert in_title.score > in_body.score


def test_each_required_category_is_needed(classifier: Classifier) -> None:
    assert not classifier.classify("Accord de coopération entre le Mali et le Niger", "Sur l'élevage.").relevant
    assert not classifier.classify("Le numérique au Mali", "La 5G et la fibre optique progressent.").relevant
    full = classifier.classify("Accord de coopération numérique entre le Mali et le Niger", "La 5G et la fibre.")
    assert full.relevant and full.score >= classifier.threshold


def test_empty_article_is_irrelevant(classifier: Classifier) -> None:
    result = classifier.classify("", "")
    assert (result.score, result.relevant, result.terms) == (0.0, False, [])


def test_config_threshold_overrides_lexicon(classifier: Classifier) -> None:
    title, body = "Le Sénégal et le Maroc signent un accord numérique", ""
    assert classifier.classify(title, body).relevant
    strict = Classifier.from_config(RelevanceConfig(threshold=0.99))
    assert strict.threshold == 0.99
    assert not strict.classify(title, body).relevant


def test_config_extra_terms(classifier: Classifier) -> None:
    title, body = "Le Sénégal et le Maroc signent un accord", "Il porte sur la géomatique."
    assert not classifier.classify(title, body).relevant
    extended = Classifier.from_config(RelevanceConfig(extra={"topic": ["géomatique"]}))
    result = extended.classify(title, body)
    assert result.relevant and "topic:géomatique" in result.terms


def test_config_extra_unknown_category() -> None:
    with pytest.raises(LexiconError, match="relevance.extra.topics: unknown category"):
        Classifier.from_config(RelevanceConfig(extra={"topics": ["x"]}))


def test_config_lexicon_replaces_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "lex.yaml").write_text(yaml.safe_dump({
        "threshold": 0.2, "half": 1.0, "required": ["sport"],
        "categories": {"sport": {"weight": 1.0, "terms": ["football"]}},
    }), encoding="utf-8")
    custom = Classifier.from_config(RelevanceConfig(lexicon="lex.yaml"), base_dir=tmp_path)
    assert custom.classify("Football", "").relevant
    assert not custom.classify("Accord numérique Tunisie Maroc", "").relevant


@pytest.mark.parametrize("text,message", [
    ("categories: [", "invalid YAML"),
    ("threshold: 0.5", "categories"),
    ("categories: {a: {terms: [x]}}\nrequired: [b]", "required category 'b'"),
    ("categories: {a: {terms: ['num*rique']}}", "categories.a"),
    ("categories: {a: {weight: heavy, terms: [x]}}", "categories.a: weight"),
])
def test_bad_lexicon_is_reported(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError, match=message) as info:
        Classifier(Lexicon.load(path))
    assert str(path) in str(info.value)


def test_missing_lexicon_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="cannot read lexicon"):
        Classifier.from_config(SimpleNamespace(threshold=None, lexicon=str(tmp_path / "nope.yaml"), extra={}))


def test_shipped_lexicon_compiles_every_term() -> None:
    lexicon = Lexicon.default()
    assert set(lexicon.required) == {"cooperation", "topic", "actor"}
    Classifier(lexicon)  # raises LexiconError naming the entry if a term is malformed
