"""The ingest step: identity, corrections, stories across sources, one alert per story, the flood guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from watcher.clock import now
from watcher.config import Config, load_config
from watcher.ingest import Draft, Ingestor
from watcher.store import Store, open_store
from watcher.store.models import Alert, Article, ArticleRevision, Story

BODY = (
    "Le ministère malien de la Communication et de l’Économie numérique a annoncé la volonté de l’Iran de "
    "former des spécialistes maliens dans des domaines tels que les télécommunications, la cybersécurité et "
    "la 5G. Cet engagement iranien a été exprimé lors d’une réunion entre le ministre malien Alhamdou Ag "
    "Ilyène et l’ambassadeur iranien Hossein Taleshi Salehani mercredi 19 juillet.\n\n"
    "La rencontre s’est tenue dans le but de renforcer la coopération entre l’Iran et le Mali, en mettant "
    "l’accent sur les domaines des télécommunications et du numérique. Plusieurs projets ont été annoncés, "
    "tels que la création d’un centre d’innovation au Mali et le renforcement des capacités de la "
    "télévision nationale malienne. Un protocole d'accord sera signé avant la fin de l'année.\n\n"
    "Le numérique est un nouveau domaine de coopération entre Bamako et Téhéran. Leur rapprochement avait "
    "connu une nouvelle étape en 2022, l’année des visites croisées des ministres des Affaires étrangères."
)
REWRITE = (
    "Téhéran va former des experts maliens du numérique, selon le ministère malien de la Communication.\n\n"
    + BODY.split("\n\n", 1)[1]
    + "\n\nSuivez-nous sur les réseaux sociaux pour plus d'actualités."
)
FOOTBALL = (
    "Les Aigles du Mali ont battu le Sénégal deux buts à zéro samedi soir à Bamako lors des "
    "éliminatoires de la Coupe d'Afrique des nations. L'entraîneur a salué la solidarité de son équipe "
    "et la ferveur du public, venu nombreux au stade du 26 Mars malgré la chaleur."
)

CONFIG = """
sources:
  - {name: a, kind: feed, url: "http://127.0.0.1:9/a.xml"}
  - {name: b, kind: feed, url: "http://127.0.0.1:9/b.xml"}
notifiers:
  sink: {type: slack, webhook_url: "http://127.0.0.1:9/hook"}
subscriptions:
  - {name: mali, any: [Mali], notify: [{notifier: sink}]}
"""


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> tuple[Config, Store, Ingestor]:
    path = tmp_path / "watcher.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    config = load_config(path, env={})
    store = open_store(store_url)
    yield config, store, Ingestor(config)
    store.close()


def draft(**kw: object) -> Draft:
    values: dict[str, object] = dict(source="a", guid="a-1", url="https://site-a.example/iran-mali",
                                     title="L’Iran offre au Mali ses compétences numériques", body=BODY,
                                     published_at=now())
    values.update(kw)
    return Draft(**values)  # type: ignore[arg-type]


def count(store: Store, model: type) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_identity_corrections_copies_and_alerts(env: tuple[Config, Store, Ingestor]) -> None:
    _, store, ingestor = env
    with store.session() as s:
        first = ingestor.ingest(s, [draft()])
    assert (first.new, first.alerts) == (1, 1)

    with store.session() as s:  # the same item again, and again with tracking parameters: no-ops
        again = ingestor.ingest(s, [draft(), draft(guid="a-1-bis", url="http://www.site-a.example/iran-mali?utm_source=rss#top")])
    assert again.unchanged == 2 and again.new == again.alerts == 0

    with store.session() as s:  # a corrected title: updated in place, recorded, not re-alerted
        fixed = ingestor.ingest(s, [draft(title="L’Iran offre au Mali ses compétences en télécommunications")])
    assert fixed.updated == 1 and fixed.alerts == 0
    with store.session() as s:
        article = s.scalars(select(Article)).one()
        assert article.revision == 1 and "télécommunications" in article.title
        assert s.scalars(select(ArticleRevision)).one().old_title == "L’Iran offre au Mali ses compétences numériques"
        assert s.scalars(select(Story)).one().title == article.title  # the story follows its first copy

    with store.session() as s:  # the story rewritten on another site joins the first story
        copy = ingestor.ingest(s, [draft(source="b", guid="b-9", url="https://site-b.example/mali-iran",
                                         title="Le Mali et l'Iran coopèrent dans le numérique", body=REWRITE)])
    assert copy.copies == 1 and copy.new == 0
    assert count(store, Story) == 1 and count(store, Article) == 2
    assert count(store, Alert) == 1  # one alert per story, not per copy


def test_a_second_process_sees_the_first_ones_articles(env: tuple[Config, Store, Ingestor]) -> None:
    config, store, ingestor = env
    with store.session() as s:
        ingestor.ingest(s, [draft()])
    other = Ingestor(config)  # a restart, or another daemon on the same database
    with store.session() as s:
        result = other.ingest(s, [draft(source="b", guid="b-1", url="https://site-b.example/x", body=REWRITE)])
    assert result.copies == 1 and count(store, Story) == 1


def test_a_running_replica_sees_articles_stored_after_it_started(env: tuple[Config, Store, Ingestor]) -> None:
    config, store, ingestor = env
    replica = Ingestor(config)  # started first: it must not need a reload to see what others store
    with store.session() as s:
        ingestor.ingest(s, [draft()])
    with store.session() as s:
        result = replica.ingest(s, [draft(source="b", guid="b-1", url="https://site-b.example/x", body=REWRITE)])
    assert result.copies == 1 and count(store, Story) == 1


def test_a_correction_replaces_the_article_in_the_near_duplicate_index(env: tuple[Config, Store, Ingestor]) -> None:
    _, store, ingestor = env
    with store.session() as s:
        ingestor.ingest(s, [draft()])
    with store.session() as s:  # the source replaces the text entirely
        assert ingestor.ingest(s, [draft(body=FOOTBALL * 2)]).updated == 1
    with store.session() as s:  # a copy of the old text is no longer a copy of anything stored
        old_copy = ingestor.ingest(s, [draft(source="b", guid="b-1", url="https://site-b.example/x", body=REWRITE)])
    assert old_copy.new == 1
    with store.session() as s:  # a rewrite of the new text joins the corrected article's story
        new_copy = ingestor.ingest(s, [draft(source="b", guid="b-2", url="https://site-b.example/y",
                                             body=FOOTBALL * 2 + " Un article de notre correspondant.")])
    assert new_copy.copies == 1
    assert count(store, Story) == 2


def test_silent_and_irrelevant_articles_do_not_alert(env: tuple[Config, Store, Ingestor]) -> None:
    _, store, ingestor = env
    with store.session() as s:
        backlog = ingestor.ingest(s, [draft()], silent=True)
        sport = ingestor.ingest(s, [draft(guid="foot", url="https://site-a.example/foot",
                                          title="Football : le Mali bat le Sénégal", body=FOOTBALL)])
    assert backlog.new == 1 and backlog.alerts == 0
    assert sport.ignored == 1 and sport.alerts == 0
    assert count(store, Alert) == 0
    with store.session() as s:
        assert s.scalars(select(Article.status).where(Article.guid == "foot")).one() == "ignored"


def test_duplicates_within_one_batch(env: tuple[Config, Store, Ingestor]) -> None:
    _, store, ingestor = env
    with store.session() as s:
        result = ingestor.ingest(s, [draft(), draft()])
    assert (result.new, result.unchanged) == (1, 1) and count(store, Article) == 1


def test_a_story_and_its_copy_in_one_batch(env: tuple[Config, Store, Ingestor]) -> None:
    _, store, ingestor = env
    with store.session() as s:
        result = ingestor.ingest(s, [draft(), draft(source="b", guid="b-1", url="https://site-b.example/y", body=REWRITE)])
    assert (result.new, result.copies, result.alerts) == (1, 1, 1)
    with store.session() as s:
        story = s.scalars(select(Story)).one()
        first = s.scalars(select(Article).order_by(Article.id)).first()
        assert story.representative_id == first.id and first.source == "a"


def test_a_race_with_another_process_stores_the_rest(env: tuple[Config, Store, Ingestor], monkeypatch: pytest.MonkeyPatch) -> None:
    """Another daemon stored an item between our lookup and our write: the batch falls back, nothing is lost."""
    _, store, ingestor = env
    with store.session() as s:
        ingestor.ingest(s, [draft()])
    monkeypatch.setattr("watcher.ingest._existing", lambda session, drafts, canonicals: {})  # the lookup misses it
    other = draft(guid="a-2", url="https://site-a.example/foot", title="Football : le Mali bat le Sénégal", body=FOOTBALL)
    with store.session() as s:
        result = ingestor.ingest(s, [draft(), other])
    assert (result.unchanged, result.new) == (1, 1)
    assert count(store, Article) == 2


def test_stories_and_copies_interleaved_in_one_batch(env: tuple[Config, Store, Ingestor]) -> None:
    """The batch's rows are written with multi-row INSERTs: each article gets its story and each story its
    first article as representative, whatever order the database returns the new ids in."""
    _, store, ingestor = env
    drafts = [draft(), draft(source="b", guid="foot", url="https://site-b.example/foot", body=FOOTBALL),
              draft(source="b", guid="b-1", url="https://site-b.example/y", body=REWRITE),
              draft(guid="a-9", url="https://site-a.example/foot-copy", title="Le Mali bat le Sénégal", body=FOOTBALL)]
    with store.session() as s:
        result = ingestor.ingest(s, drafts)
    assert (result.new, result.copies) == (2, 2)
    with store.session() as s:
        by_guid = {a.guid: a for a in s.scalars(select(Article))}
        assert [by_guid[d.guid].id for d in drafts] == result.article_ids
        mali, foot = by_guid["a-1"].story, by_guid["foot"].story
        assert mali is not None and foot is not None and mali.id != foot.id
        assert by_guid["b-1"].story_id == mali.id and by_guid["a-9"].story_id == foot.id
        assert (mali.representative_id, foot.representative_id) == (by_guid["a-1"].id, by_guid["foot"].id)
        assert (mali.title, foot.title) == (drafts[0].title, drafts[1].title)
