"""The store on SQLite and PostgreSQL: migrations from empty, constraints, aware timestamps."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from watcher.store import open_store
from watcher.store.db import current_revision, make_engine, table_names, upgrade
from watcher.store.models import Article, Story

T0 = datetime(2024, 5, 29, 12, 0, tzinfo=timezone.utc)


def _article(**kw: object) -> Article:
    values = dict(source="s", guid="g1", title="t", body="b", fetched_at=T0, content_hash="h", canonical_url="https://a.example/1")
    values.update(kw)
    return Article(**values)  # type: ignore[arg-type]


def test_migrations_from_empty(store_url: str) -> None:
    engine = make_engine(store_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) is not None
    upgrade(engine)  # a second upgrade is a no-op
    engine.dispose()
    store = open_store(store_url)
    assert {"sources", "articles", "stories", "alerts", "http_cache", "locks"} <= set(table_names(store))
    store.close()


def test_unique_canonical_url(store_url: str) -> None:
    store = open_store(store_url)
    with store.session() as s:
        s.add(_article())
    with pytest.raises(IntegrityError):
        with store.session() as s:
            s.add(_article(guid="g2"))
    with store.session() as s:  # the same guid from another source is another item
        s.add(_article(source="other", canonical_url="https://a.example/2"))
        assert len(s.scalars(select(Article)).all()) == 2
    store.close()


def test_timestamps_come_back_aware_utc(store_url: str) -> None:
    store = open_store(store_url)
    with store.session() as s:
        story = Story(title="x", created_at=T0)
        s.add(story)
        s.flush()
        s.add(_article(story_id=story.id, published_at=T0))
    with store.session() as s:
        article = s.scalars(select(Article)).one()
        assert article.published_at == T0 and article.published_at.tzinfo is not None
    store.close()


def test_naive_datetimes_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path}/w.db")
    with pytest.raises(Exception, match="naive datetime"):
        with store.session() as s:
            s.add(_article(fetched_at=datetime(2024, 1, 1)))
    store.close()


def test_sqlite_pragmas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path}/sub/w.db")  # the directory is created
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 10000
    store.close()


def test_head_revision_follows_alembic() -> None:
    """open_store reads the head from file names to avoid importing alembic; alembic must agree."""
    from alembic.script import ScriptDirectory

    from watcher.store.db import MIGRATIONS, head_revision

    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_open_store_upgrades_an_older_schema(store_url: str) -> None:
    from watcher.store.db import head_revision, stored_revision

    engine = make_engine(store_url)
    upgrade(engine, "0001")
    assert stored_revision(engine) == "0001"
    engine.dispose()
    store = open_store(store_url)
    assert stored_revision(store.engine) == head_revision()
    store.close()


def test_migration_0005_indexes_the_articles_already_stored(store_url: str) -> None:
    """The near-duplicate index moved into the store: a store from before it gets band rows for its
    articles, so a copy stored after the upgrade still joins their stories."""
    from watcher.dedupe import band_keys, fingerprint, signature
    from watcher.store import bands
    from watcher.store.models import ArticleBand

    engine = make_engine(store_url)
    upgrade(engine, "0004")
    engine.dispose()
    text = " ".join(f"mot{i} phrase{i % 7} texte{i % 11}" for i in range(120))
    sig = signature("Titre", text)
    with make_engine(store_url).begin() as conn:  # written as a 0004 store would be: no band rows
        story_id = conn.execute(Story.__table__.insert().values(title="t", created_at=T0)).inserted_primary_key[0]
        conn.execute(Article.__table__.insert().values(
            source="s", origin="feed", guid="g1", title="Titre", body=text, fetched_at=T0,
            content_hash=fingerprint("Titre", text), signature=sig, revision=0, relevance=0.0,
            relevance_terms=[], status="relevant", story_id=story_id))
    store = open_store(store_url)  # upgrades to head
    with store.session() as s:
        rows = s.scalars(select(ArticleBand.band)).all()
        assert sorted(rows) == sorted(band_keys(sig)) and len(rows) > 50
        near = signature("Autre titre", text + " Une phrase de plus.")
        [found] = bands.find(s, [("0" * 64, near, T0)])
        assert found is not None and found.kind == "near" and found.story_id == story_id
    store.close()


def test_band_rows_move_into_article_bands_in_bulk(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """New band rows wait in article_bands_new and move into article_bands once MERGE_ROWS are there;
    a lookup finds an article wherever its rows are, and a correction's old keys go from both tables."""
    from watcher.dedupe import band_keys, fingerprint, signature
    from watcher.store import bands
    from watcher.store.tables import article_bands, article_bands_new

    def rows(s, table) -> set[tuple[int, int]]:  # type: ignore[no-untyped-def]
        return {(band, article_id) for band, article_id in s.execute(select(table.c.band, table.c.article_id))}

    texts = [" ".join(f"mot{i}{k} phrase{i % 7} texte{i % 11}" for i in range(120)) for k in range(3)]
    sigs = [signature("Titre", text) for text in texts]
    monkeypatch.setattr(bands, "MERGE_ROWS", len(band_keys(sigs[0])) + 1)  # the second article tips it over
    store = open_store(store_url)
    with store.session() as s:
        stored = []
        for k, (text, sig) in enumerate(zip(texts, sigs)):
            story = Story(title="t", created_at=T0)
            s.add(story)
            s.flush()
            article = _article(guid=f"g{k}", canonical_url=None, body=text, signature=sig, story_id=story.id,
                               content_hash=fingerprint("Titre", text))
            s.add(article)
            s.flush()
            bands.add(s, [(article.id, sig)])
            stored.append((article.id, story.id))
            if k == 0:
                assert rows(s, article_bands) == set() and len(rows(s, article_bands_new)) == len(band_keys(sig))
    with store.session() as s:  # after the second add, the first two moved; the third waits
        moved, waiting = rows(s, article_bands), rows(s, article_bands_new)
        assert {a for _, a in moved} == {stored[0][0], stored[1][0]}
        assert waiting == {(key, stored[2][0]) for key in band_keys(sigs[2])}
        for (article_id, story_id), text in zip(stored, texts):
            [found] = bands.find(s, [("0" * 64, signature("Autre titre", text + " Une phrase."), T0)])
            assert found is not None and (found.article_id, found.story_id) == (article_id, story_id)
        bands.replace(s, stored[0][0], sigs[0], sigs[2])  # article 1 now reads like article 3
        bands.replace(s, stored[2][0], sigs[2], sigs[0])
        after = rows(s, article_bands) | rows(s, article_bands_new)
    assert {k for k, a in after if a == stored[0][0]} == set(band_keys(sigs[2]))
    assert {k for k, a in after if a == stored[2][0]} == set(band_keys(sigs[0]))
    store.close()


def test_band_rows_survive_replicas_moving_them_at_once(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers on PostgreSQL add band rows and move them concurrently, many times: every row ends
    up in exactly one of the two tables (a replica moves only the rows its transaction sees)."""
    import threading

    from watcher.dedupe import band_keys, signature
    from watcher.store import bands
    from watcher.store.tables import article_bands, article_bands_new

    monkeypatch.setattr(bands, "MERGE_ROWS", 100)  # nearly every add moves rows
    store = open_store(pg_url)
    expected: set[tuple[int, int]] = set()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for k in range(15):
                text = " ".join(f"{name}{k}mot{i} phrase{i % 7}" for i in range(80))
                sig = signature("Titre", text)
                with store.session() as s:
                    story = Story(title="t", created_at=T0)
                    s.add(story)
                    s.flush()
                    article = _article(source=name, guid=f"g{k}", canonical_url=None, signature=sig,
                                       story_id=story.id)
                    s.add(article)
                    s.flush()
                    bands.add(s, [(article.id, sig)])
                    with lock:
                        expected.update((key, article.id) for key in band_keys(sig))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with store.session() as s:
        big = {tuple(row) for row in s.execute(select(article_bands.c.band, article_bands.c.article_id))}
        new = {tuple(row) for row in s.execute(select(article_bands_new.c.band, article_bands_new.c.article_id))}
    store.close()
    assert big and not big & new
    assert big | new == expected


def test_migration_0006_downgrade_keeps_the_staged_band_rows(store_url: str) -> None:
    """Going back to 0005 (no article_bands_new) moves the staged rows into article_bands first."""
    from alembic import command

    from watcher.dedupe import band_keys, signature
    from watcher.store import bands
    from watcher.store.db import alembic_config
    from watcher.store.tables import article_bands

    text = " ".join(f"mot{i} phrase{i % 7} texte{i % 11}" for i in range(120))
    sig = signature("Titre", text)
    store = open_store(store_url)
    with store.session() as s:
        story = Story(title="t", created_at=T0)
        s.add(story)
        s.flush()
        article = _article(body=text, signature=sig, story_id=story.id)
        s.add(article)
        s.flush()
        bands.add(s, [(article.id, sig)])  # far below MERGE_ROWS: the rows stay staged
        article_id = article.id
    store.close()
    engine = make_engine(store_url)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    with engine.connect() as conn:
        assert "article_bands_new" not in inspect(conn).get_table_names()
        rows = conn.execute(select(article_bands.c.band).where(article_bands.c.article_id == article_id)).scalars()
        assert sorted(rows) == sorted(band_keys(sig))
    engine.dispose()


def test_savepoint_does_not_commit_the_transaction_early(store_url: str) -> None:
    """Articles are written inside a SAVEPOINT after reads, the outbox rows after it: all or nothing."""
    store = open_store(store_url)
    with pytest.raises(RuntimeError), store.session() as s:
        s.execute(select(Article.id)).all()  # a read first: no write has begun the transaction yet
        with s.begin_nested():
            s.add(_article())
        raise RuntimeError("crash before the outbox rows and the commit")
    with store.session() as s:
        assert s.execute(select(Article.id)).all() == []
    store.close()


def test_the_daemon_migrates_in_a_child_and_keeps_alembic_out(store_url: str) -> None:
    """`watcher run` upgrades the schema in a forked child, so Alembic, Mako and Pygments (~12 MB) never
    load into the long-running process; a second start finds the schema current and does nothing."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from watcher.cli.run import _migrate\n"
        "from watcher.store.db import head_revision, make_engine, stored_revision\n"
        f"_migrate({store_url!r})\n"
        f"_migrate({store_url!r})\n"
        "loaded = sorted(m for m in ('alembic', 'mako', 'pygments') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
        f"assert stored_revision(make_engine({store_url!r})) == head_revision()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# SQLite cannot reflect the expression index ix_stories_when (PostgreSQL compares it); say so once, quietly.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_migrations_build_exactly_the_tables_the_code_uses(store_url: str) -> None:
    """watcher.store.tables (Core, used by the poll cycle) and the ORM models over it describe the schema
    the migrations create: no column, type, index or constraint differs."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from watcher.store import models, tables

    assert models.Base.metadata is tables.metadata
    engine = make_engine(store_url)
    upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    engine.dispose()
    assert differences == []


def test_a_warm_poll_cycle_never_imports_the_orm(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Sources, validators and health go through Core (watcher.store.tables): a `watcher poll` whose
    feeds all answer 304 stays clear of sqlalchemy.orm and the models (~0.15 s of its start-up)."""
    import subprocess
    import sys

    config = tmp_path / "watcher.yaml"
    config.write_text(f'store: {{url: "sqlite:///{tmp_path}/w.db"}}\n'
                      "sources:\n  - {name: gone, kind: feed, url: 'http://127.0.0.1:9/feed.xml', robots: false}\n")
    script = (
        "import sys\n"
        "from watcher.cli import main\n"
        f"assert main(['--config', {str(config)!r}, 'poll', '--all']) == 0\n"
        "loaded = sorted(m for m in ('sqlalchemy.orm', 'watcher.store.models') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout
