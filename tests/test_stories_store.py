"""The story query layer (watcher.store.stories) on SQLite and PostgreSQL: filters, pages, copies, feeds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.support.stories import T0, add_story, agreement, alert
from watcher.matching import TermError
from watcher.store import open_store
from watcher.store import stories as story_store
from watcher.store.stories import StoryFilter

@pytest.fixture
def store(store_url: str):  # type: ignore[no-untyped-def]
    store = open_store(store_url)
    with store.session() as s:
        tn = add_story(s, "La Tunisie et la Corée signent un MoU sur la cybersécurité", copies=["dba", "ecofin", "dba"],
                       days=3, agreement_=agreement(["Tunisia", "Korea, Republic of"], ["cybersecurity"]),
                       body="Le ministre tunisien a signé à Tunis un protocole d'accord sur l'intelligence artificielle.")
        eg = add_story(s, "L'Égypte et l'ICESCO : partenariat numérique", copies=["icesco"], days=2,
                       agreement_=agreement(["Egypt", "ICESCO"], ["digital_skills", "ai"], "partnership"))
        add_story(s, "Le Nigeria lance un programme télécoms", copies=["sputnik"], days=1,
                  agreement_=agreement(["Nigeria"], ["telecoms"], "programme",
                                       summary='Il ne s\'agit pas du "Niger".'))
        add_story(s, "Côte d'Ivoire : accord avec le Maroc", copies=["ecofin"], days=0,
                  agreement_=agreement(["Côte d'Ivoire", "Morocco"], ["e_government"], "agreement"))
        add_story(s, "Match de football", copies=["dba"], days=4, status="ignored")
        add_story(s, "Sans accord extrait", copies=["dba"], days=-1)
        alert(s, tn, "tunisie", T0 + timedelta(days=3, hours=1))
        alert(s, tn, "tunisie", T0 + timedelta(days=3, hours=2), notifier="mail")
        alert(s, eg, "egypte", T0 + timedelta(days=2, hours=1))
        alert(s, tn, "egypte", T0 + timedelta(days=5))
    yield store
    store.close()


def titles(store: Any, **kwargs: Any) -> list[str]:
    with store.session() as s:
        return [r.title for r in story_store.list_stories(s, StoryFilter(**kwargs)).rows]


def test_lists_relevant_stories_newest_first_with_copies(store: Any) -> None:
    with store.session() as s:
        page = story_store.list_stories(s, StoryFilter())
    assert [r.title.split()[0] for r in page.rows] == ["La", "L'Égypte", "Le", "Côte", "Sans"]
    assert not page.has_more and not page.truncated
    first = page.rows[0]
    assert first.copies == 3 and first.sources == ["dba", "ecofin"] and first.source == "dba"
    assert first.url.startswith("https://dba.example/") and first.parties == ["Tunisia", "Korea, Republic of"]
    assert first.instrument == "mou" and first.domains == ["cybersecurity"]
    assert page.rows[-1].agreement is None and page.rows[-1].parties == []


def test_party_filter_is_exact_on_the_parsed_list(store: Any) -> None:
    assert titles(store, party="Niger") == []  # "Nigeria" and a summary quoting "Niger" do not count
    assert len(titles(store, party="Nigeria")) == 1
    assert titles(store, party="Korea, Republic of") == ["La Tunisie et la Corée signent un MoU sur la cybersécurité"]
    assert titles(store, party="Côte d'Ivoire") == ["Côte d'Ivoire : accord avec le Maroc"]  # non-ASCII, quote
    assert titles(store, party="ICESCO", domain="ai") == ["L'Égypte et l'ICESCO : partenariat numérique"]
    assert titles(store, party="ICESCO", domain="cybersecurity") == []
    assert titles(store, party="100%_") == []  # LIKE wildcards are escaped


def test_source_subscription_since_filters(store: Any) -> None:
    assert titles(store, sources=["ecofin"]) == ["La Tunisie et la Corée signent un MoU sur la cybersécurité",
                                                 "Côte d'Ivoire : accord avec le Maroc"]
    assert len(titles(store, sources=["icesco", "sputnik"])) == 2
    assert titles(store, subscription="egypte") == ["La Tunisie et la Corée signent un MoU sur la cybersécurité",
                                                    "L'Égypte et l'ICESCO : partenariat numérique"]
    assert titles(store, subscription="nobody") == []
    assert len(titles(store, since=T0 + timedelta(days=2))) == 2
    assert len(titles(store, with_agreement=True)) == 4


def test_search_is_accent_and_case_insensitive(store: Any) -> None:
    assert titles(store, search="egypte") == ["L'Égypte et l'ICESCO : partenariat numérique"]
    assert titles(store, search="CYBERSECURITE") == titles(store, search="cybersécurité") != []
    assert len(titles(store, search='"intelligence artificielle"')) == 1  # in the body only
    # In a title, in the agreement's summary; the Tunisian story (summary "accord" too) is excluded.
    assert [t[:4] for t in titles(store, search="accord -tunisie")] == ["L'Ég", "Côte", "Sans"]
    assert titles(store, search="football") == []  # ignored stories are not listed
    with pytest.raises(TermError):
        titles(store, search='"unbalanced')


def test_pages(store: Any) -> None:
    with store.session() as s:
        one = story_store.list_stories(s, StoryFilter(limit=2))
        two = story_store.list_stories(s, StoryFilter(limit=2, offset=2))
        three = story_store.list_stories(s, StoryFilter(limit=2, offset=4))
        searched = story_store.list_stories(s, StoryFilter(limit=1, offset=1, search="accord"))
    assert one.has_more and two.has_more and not three.has_more
    assert len({r.id for r in one.rows + two.rows + three.rows}) == 5
    assert len(searched.rows) == 1 and searched.has_more


def test_search_stops_after_its_budget(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(story_store, "SEARCH_SCAN", 2)
    with store.session() as s:
        page = story_store.list_stories(s, StoryFilter(search="maroc"))
    assert page.rows == [] and page.truncated and page.scanned == 2


def test_story_with_every_copy(store: Any) -> None:
    with store.session() as s:
        first = story_store.list_stories(s, StoryFilter(limit=1)).rows[0]
        detail = story_store.get_story(s, first.id)
        assert story_store.get_story(s, 999999) is None
    assert detail is not None and [a.source for a in detail.copies] == ["dba", "ecofin", "dba"]
    assert detail.story.copies == 3 and detail.subscriptions == ["egypte", "tunisie"]


def test_subscription_entries_one_per_story(store: Any) -> None:
    with store.session() as s:
        tunisie = story_store.subscription_entries(s, "tunisie")
        egypte = story_store.subscription_entries(s, "egypte")
        assert story_store.subscription_entries(s, "nobody") == []
    assert len(tunisie) == 1 and tunisie[0].matched_at == T0 + timedelta(days=3, hours=1)
    assert tunisie[0].terms == ["tunisie"] and tunisie[0].story.copies == 3
    assert [e.story.title[:3] for e in egypte] == ["La ", "L'É"]  # most recently matched first


def test_iter_stories_ignores_paging(store: Any) -> None:
    with store.session() as s:
        rows = list(story_store.iter_stories(s, StoryFilter(limit=1, with_agreement=True)))
    assert len(rows) == 4
