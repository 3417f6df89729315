"""Table-driven subscription matching (tests/data/matching_cases.yaml), Query, and config reload."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import assume, given, settings, strategies as st

from watcher.config import SubscriptionConfig, load_config
from watcher.matching import Match, Matcher, Query, TermError, TermSet, parse_term

CASES = yaml.safe_load((Path(__file__).parent / "data" / "matching_cases.yaml").read_text(encoding="utf-8"))


def _article(case: dict) -> tuple[str, str, str, float]:
    body = case.get("body", "")
    if "body_repeat" in case:
        body = body * case["body_repeat"] + case.get("body_tail", "")
    return case.get("title", ""), body, case.get("source", "agence-ecofin"), case.get("relevance", 0.8)


def _sub(name: str, spec: dict) -> SubscriptionConfig:
    return SubscriptionConfig(name=name, **spec)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matching_case(case: dict) -> None:
    matcher = Matcher([_sub("s", case["sub"])])
    result = matcher.match(*_article(case))
    assert [m.subscription for m in result] == (["s"] if case["match"] else [])
    if case["match"] and "terms" in case:
        assert sorted(result[0].terms) == sorted(case["terms"])


@pytest.mark.parametrize("word_set_min", [0, 10**9], ids=["word-set", "one-automaton"])
def test_all_cases_in_one_matcher(monkeypatch: pytest.MonkeyPatch, word_set_min: int) -> None:
    # The same answers when every case's subscription is compiled into one matcher together, with
    # single words looked up in a word set (large configs) or scanned in the automaton (small ones).
    monkeypatch.setattr(TermSet, "WORD_SET_MIN", word_set_min)
    matcher = Matcher([_sub(f"case{i}", c["sub"]) for i, c in enumerate(CASES)])
    for i, case in enumerate(CASES):
        names = {m.subscription for m in matcher.match(*_article(case))}
        assert (f"case{i}" in names) == case["match"], case["name"]


def test_enough_cases() -> None:
    assert len(CASES) >= 40


@given(st.text(), st.text(), st.text())
def test_a_keyword_always_matches_its_own_text(term: str, before: str, after: str) -> None:
    assume("*" not in term)
    try:
        parse_term(term)
    except TermError:
        return
    sub = SimpleNamespace(name="s", any=[term], all=[], none=[], sources=[], min_relevance=None)
    assert Matcher([sub]).match("", f"{before} {term} {after}", "x", 1.0)


def test_matches_keep_config_order_and_are_independent() -> None:
    matcher = Matcher([
        _sub("b", {"any": ["Tunisie"]}),
        _sub("a", {"any": ["Tunisie"], "none": ["football"]}),
        _sub("c", {"all": ["Tunisie", "numérique"]}),
    ])
    assert matcher.match("Tunisie", "football et numérique", "x", 0.5) == [
        Match("b", ["Tunisie"]),
        Match("c", ["Tunisie", "numérique"]),
    ]


@pytest.mark.parametrize("term,key,prefix", [
    ("Mali", " mali ", False),
    ('"intelligence artificielle"', " intelligence artificielle ", False),
    ("«intelligence artificielle»", " intelligence artificielle ", False),
    ("numéri*", " numeri", True),
    ("transformation numéri*", " transformation numeri", True),
    ("l'Égypte", " egypte ", False),
    ("Guinée-Bissau", " guinee bissau ", False),
])
def test_parse_term(term: str, key: str, prefix: bool) -> None:
    parsed = parse_term(term)
    assert (parsed.key, parsed.prefix) == (key, prefix)


@pytest.mark.parametrize("term", ["", "   ", "*", "num*rique", '""', "—", "«»"])
def test_bad_terms_are_rejected(term: str) -> None:
    with pytest.raises(TermError):
        parse_term(term)


def test_bad_term_names_the_subscription() -> None:
    # The config validates terms too; the Matcher still refuses them when built from other objects.
    sub = SimpleNamespace(name="tunisia-digital", any=["Tunisie"], all=["num*rique"], none=[], sources=[],
                          min_relevance=None)
    with pytest.raises(TermError, match="tunisia-digital.*all.*num\\*rique"):
        Matcher([sub])


def test_duplicate_subscription_names_are_rejected() -> None:
    with pytest.raises(TermError, match="twice"):
        Matcher([_sub("x", {"any": ["a"]}), _sub("x", {"any": ["b"]})])


def test_empty_matcher_matches_nothing() -> None:
    assert Matcher([]).match("Tunisie", "numérique", "x", 1.0) == []


@pytest.mark.parametrize("query,texts,expected", [
    ("Tunisie", ("La Tunisie", ""), True),
    ("Tunisie", ("tunique", ""), False),
    ('"intelligence artificielle" Égypte', ("l'Egypte", "Intelligence artificielle"), True),
    ('"intelligence artificielle" Égypte', ("l'Egypte", "intelligence économique artificielle"), False),
    ("numéri* -football", ("La numérisation", ""), True),
    ("numéri* -football", ("La numérisation", "et le football"), False),
    ('-"coupe du monde" Sénégal', ("Sénégal", "Coupe du monde"), False),
    ("l'Égypte", ("d’EGYPTE",), True),
    ("Mali", ("Somalie",), False),
    ("IA", ("via",), False),
])
def test_query(query: str, texts: tuple[str, ...], expected: bool) -> None:
    assert Query(query).matches(*texts) is expected


@pytest.mark.parametrize("query", ["", "   ", '"unbalanced', "num*rique"])
def test_bad_query(query: str) -> None:
    with pytest.raises(TermError):
        Query(query)


def _write_config(path: Path, subscriptions: list[dict]) -> None:
    path.write_text(yaml.safe_dump({"subscriptions": subscriptions}, allow_unicode=True), encoding="utf-8")


def test_config_reload_recompiles_subscriptions(tmp_path: Path) -> None:
    cfg = tmp_path / "watcher.yaml"
    article = ("La Tunisie et le Maroc signent un accord", "Le texte porte sur la cybersécurité.", "icesco", 0.9)
    _write_config(cfg, [{"name": "tn", "any": ["Tunisie"], "all": ["numérique"]}])
    before = Matcher(load_config(cfg).subscriptions)
    assert before.match(*article) == []

    _write_config(cfg, [
        {"name": "tn", "any": ["Tunisie"], "all": ["cybersécurité"]},
        {"name": "ma", "any": ["Maroc"], "none": ["cybersécurité"]},
    ])
    after = Matcher(load_config(cfg).subscriptions)
    assert after.match(*article) == [Match("tn", ["Tunisie", "cybersécurité"])]
    # The old matcher is untouched: a reload swaps matchers, it does not mutate one in place.
    assert before.match(*article) == []


# ---- `watcher match NAME`, end to end through the CLI ---------------------------------------------

def _store_with_articles(tmp_path: Path) -> Path:
    from datetime import datetime, timedelta, timezone

    from watcher.store import open_store
    from watcher.store.models import Article

    url = f"sqlite:///{tmp_path}/watcher.db"
    cfg = tmp_path / "watcher.yaml"
    cfg.write_text(yaml.safe_dump({
        "store": {"url": url},
        "sources": [
            {"name": "agence-ecofin", "kind": "feed", "url": "http://127.0.0.1:9/feed"},
            {"name": "sputnik-afrique", "kind": "feed", "url": "http://127.0.0.1:9/rss"},
        ],
        "subscriptions": [
            {"name": "tunisia-digital", "any": ["Tunisie", "Tunisia"], "all": ["numérique"], "none": ["football"]},
            {"name": "ecofin-egypt", "any": ["Égypte"], "sources": ["agence-ecofin"], "min_relevance": 0.6},
        ],
    }, allow_unicode=True), encoding="utf-8")
    base = datetime(2024, 6, 1, tzinfo=timezone.utc)
    articles = [
        # (source, title, body, relevance, status)
        ("agence-ecofin", "La Tunisie mise sur le numérique", "Un accord avec la Corée.", 0.8, "relevant"),
        ("agence-ecofin", "Tunisie : football et numérique", "La finale.", 0.7, "relevant"),
        ("sputnik-afrique", "Le numérique en Tunisie", "Coopération.", 0.9, "ignored"),
        ("agence-ecofin", "Accord numérique", "Il porte une tunique.", 0.8, "relevant"),
        ("agence-ecofin", "L'Égypte et la Russie", "Cybersécurité.", 0.9, "relevant"),
        ("agence-ecofin", "D’Égypte au Soudan", "Fibre optique.", 0.5, "relevant"),
        ("sputnik-afrique", "L'Égypte et la Chine", "Intelligence artificielle.", 0.9, "relevant"),
    ]
    store = open_store(url)
    try:
        with store.session() as session:
            for i, (source, title, body, relevance, status) in enumerate(articles):
                session.add(Article(
                    source=source, guid=f"g{i}", url=f"https://example.org/{i}", title=title, body=body,
                    published_at=base + timedelta(days=i), fetched_at=base + timedelta(days=i),
                    content_hash=f"h{i}", relevance=relevance, relevance_terms=[], status=status,
                ))
    finally:
        store.close()
    return cfg


def test_cli_match_lists_what_the_subscription_would_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from watcher.cli import main

    cfg = _store_with_articles(tmp_path)
    assert main(["--config", str(cfg), "match", "tunisia-digital", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    # Not the football one (none), not the ignored one (status), not the "tunique" one (whole words).
    assert [(r["title"], r["terms"]) for r in rows] == [("La Tunisie mise sur le numérique", ["Tunisie", "numérique"])]

    assert main(["--config", str(cfg), "match", "tunisia-digital", "--status", "all", "--format", "json"]) == 0
    assert [r["title"] for r in json.loads(capsys.readouterr().out)] == [
        "Le numérique en Tunisie", "La Tunisie mise sur le numérique"]  # newest first

    assert main(["--config", str(cfg), "match", "ecofin-egypt", "--format", "json"]) == 0
    # sources: agence-ecofin only; min_relevance 0.6 against the stored score.
    assert [r["title"] for r in json.loads(capsys.readouterr().out)] == ["L'Égypte et la Russie"]

    assert main(["--config", str(cfg), "match", "ecofin-egypt"]) == 0
    out = capsys.readouterr().out
    assert "L'Égypte et la" in out and "  Égypte  " in out
    assert "1 matching for subscription 'ecofin-egypt' (6 stored relevant articles tried)" in out


def test_cli_match_unknown_subscription(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from watcher.cli import main

    cfg = _store_with_articles(tmp_path)
    assert main(["--config", str(cfg), "match", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no subscription named 'nope'" in err and "tunisia-digital, ecofin-egypt" in err


# ---- The compiled matcher against a plain reference --------------------------------------------------
# Matcher judges all subscriptions at once (weights summed per subscription, see watcher.match_table)
# and finds terms with one automaton or a word set. The reference below checks one subscription at a
# time with substring tests on the token string; both must give the same matches, in the same order,
# with the same terms.

_TERMS = ["Mali", "mali", "Somalie", "IA", "via", "numérique", "numéri*", "numérisation", "l'Égypte",
          "Egypte", "intelligence artificielle", '"intelligence artificielle"', "intelligence", "artificielle",
          "protocole d'accord", "accord", "accord*", "Tunisie", "tunis*", "Guinée-Bissau", "Guinée",
          "football", "de", "transformation numéri*", "5G", "fibre optique"]
_WORDS = ["le", "la", "de", "d'", "l'", "Mali", "MALI", "Somalie", "via", "IA", "numérique", "Numérisation",
          "Égypte", "intelligence", "artificielle", "protocole", "accord", "accords", "Tunisie", "Tunis",
          "Guinée-Bissau", "Guinée", "Bissau", "football", "transformation", "5G", "fibre", "optique", ",", "."]
_SOURCES = ["agence-ecofin", "icesco", "sputnik-afrique"]


def _reference(subs: list[SimpleNamespace], title: str, body: str, source: str, relevance: float) -> list[Match]:
    from watcher.matching import document

    doc = document(title, body)

    def fired(raw: str) -> bool:  # keys start and end on word boundaries, so a substring test is exact
        return parse_term(raw).key in doc

    out = []
    for sub in subs:
        if sub.any and not any(map(fired, sub.any)):
            continue
        if not all(map(fired, sub.all)) or any(map(fired, sub.none)):
            continue
        if (sub.sources and source not in sub.sources) or (
                sub.min_relevance is not None and relevance < sub.min_relevance):
            continue
        labels: dict[str, str] = {}  # key -> the term as first written, `any` then `all`
        for raw in sub.any + sub.all:
            labels.setdefault(parse_term(raw).key, raw.strip())
        out.append(Match(sub.name, [text for key, text in labels.items() if key in doc]))
    return out


def _subscription(any_: list[str], all_: list[str], none: list[str], sources: list[str],
                  min_relevance: float | None) -> SimpleNamespace:
    return SimpleNamespace(any=any_, all=all_, none=none, sources=sources, min_relevance=min_relevance)


_subscriptions = st.lists(
    st.builds(
        _subscription,
        st.lists(st.sampled_from(_TERMS), max_size=6),
        st.lists(st.sampled_from(_TERMS), max_size=4),
        st.lists(st.sampled_from(_TERMS), max_size=3),
        st.lists(st.sampled_from(_SOURCES), max_size=2),
        st.none() | st.sampled_from([0.0, 0.5, 0.8, 1.0]),
    ),
    max_size=12,
)
_texts = st.lists(st.sampled_from(_WORDS), max_size=30).map(" ".join)


@pytest.mark.parametrize("word_set_min", [0, 10**9], ids=["word-set", "one-automaton"])
@settings(max_examples=400, deadline=None)
@given(subs=_subscriptions, title=_texts, body=_texts, source=st.sampled_from(_SOURCES),
       relevance=st.sampled_from([0.0, 0.5, 0.7, 0.8, 1.0, float("nan")]))
def test_matcher_agrees_with_a_plain_reference(word_set_min: int, subs: list[SimpleNamespace], title: str,
                                               body: str, source: str, relevance: float) -> None:
    for i, sub in enumerate(subs):
        sub.name = f"s{i}"
    original, TermSet.WORD_SET_MIN = TermSet.WORD_SET_MIN, word_set_min
    try:
        matcher = Matcher(subs)
    finally:
        TermSet.WORD_SET_MIN = original
    assert matcher.match(title, body, source, relevance) == _reference(subs, title, body, source, relevance)


def test_matcher_agrees_with_the_reference_on_long_term_lists() -> None:
    # The weights depend on the longest `any` and `all` lists: one subscription with many terms must
    # not let another's count spill into the next weight.
    subs = [
        SimpleNamespace(name="many-any", any=_TERMS, all=[], none=[], sources=[], min_relevance=None),
        SimpleNamespace(name="many-all", any=[], all=_TERMS[:12], none=[], sources=[], min_relevance=None),
        SimpleNamespace(name="one-all", any=["Mali"], all=["accord"], none=[], sources=[], min_relevance=None),
        SimpleNamespace(name="none-only", any=[], all=[], none=["football"], sources=[], min_relevance=None),
    ]
    matcher = Matcher(subs)
    for body in ["Mali accord", "Mali accords", " ".join(_WORDS), "Mali Somalie IA via accord football", ""]:
        expected = _reference(subs, "", body, "icesco", 0.5)
        assert matcher.match("", body, "icesco", 0.5) == expected, body


def test_an_article_without_any_term_matches_only_subscriptions_without_positive_terms() -> None:
    # No term fired: only a subscription with nothing but `none` terms can match (with no terms).
    only_none = SimpleNamespace(name="only-none", any=[], all=[], none=["football"], sources=[], min_relevance=None)
    tunisia = SimpleNamespace(name="tn", any=["Tunisie"], all=[], none=[], sources=[], min_relevance=None)
    assert Matcher([tunisia]).match("Le Maroc", "Un accord.", "x", 1.0) == []
    assert Matcher([tunisia, only_none]).match("Le Maroc", "Un accord.", "x", 1.0) == [Match("only-none", [])]
    assert Matcher([tunisia, only_none]).match("Le Maroc", "Le football.", "x", 1.0) == []


def test_compiling_terms_does_not_import_numpy() -> None:
    # Loading a configuration validates its terms with watcher.matching; only building a Matcher
    # needs numpy (watcher.match_table), so commands that never match do not pay for importing it.
    import subprocess
    import sys

    code = ("import sys; from watcher.matching import Query, parse_term; parse_term('numéri*'); Query('Mali');"
            " assert 'numpy' not in sys.modules, 'numpy imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
