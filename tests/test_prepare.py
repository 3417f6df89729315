"""watcher.prepare: a feed entry's text, inline or in the worker process, is the same text."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.http import LocalServer
from tests.support.sites import SITE_NAMES, SITES_DIR, mount
from watcher import dedupe, prepare
from watcher.config import Config
from watcher.pipeline import poll
from watcher.prepare import FeedText, Preparer, feed_text, features
from watcher.scheduler import pipeline_poller
from watcher.sources.feed import parse_feed
from watcher.store import Store, open_store
from watcher.store.models import Article

pytestmark = pytest.mark.timeout(60)


def feed_items() -> list[tuple[str, str | None]]:
    """(title, content) of the Digital Business Africa fixture feed's entries."""
    body = (SITES_DIR / "digital-business-africa" / "www" / "feed" / "index.xml").read_bytes()
    listing = parse_feed(body.replace(b"{{BASE}}", b"http://127.0.0.1"), "http://127.0.0.1/feed/")
    items = [(entry.title or "", entry.content) for entry in listing.entries]
    assert items and all(content for _, content in items)
    return items


def run(preparer: Preparer, items: list[tuple[str, str | None]]) -> list[FeedText | Exception]:
    return asyncio.run(preparer.feed_texts(items))


@pytest.fixture
def preparer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Preparer]:
    monkeypatch.setattr(prepare, "WORKER_AFTER", 0)  # every batch in the worker
    p = Preparer()
    yield p
    p.close()


def test_feed_text_is_what_ingest_and_corrections_compute() -> None:
    title = "Le Maroc et l'Égypte signent un accord numérique"
    content = ("<div class='share'>Partager sur Facebook</div>"
               "<p>Rabat et Le Caire ont signé mardi un protocole d'accord sur la cybersécurité.</p>"
               "<p>Le texte prévoit la formation de 500 ingénieurs et un centre commun de données.</p>")
    text = feed_text(title, content)
    assert text.body.startswith("Rabat et Le Caire") and "Facebook" not in text.body
    assert text.language == "fr"
    assert text.features == features(title, text.body)
    # the same keys a correction recomputes (ingest._apply_correction)
    assert text.features.content_hash == dedupe.fingerprint(title, text.body)
    assert text.features.signature == dedupe.signature(title, text.body)
    assert feed_text(title, "<p>  </p>") == FeedText("")


def test_the_worker_prepares_exactly_what_inline_does(preparer: Preparer) -> None:
    items = feed_items()
    assert run(preparer, items) == [feed_text(*item) for item in items]
    assert (preparer.in_worker, preparer.inline) == (len(items), 0)


def test_an_entry_that_cannot_be_prepared_fails_alone(preparer: Preparer) -> None:
    items: list[Any] = feed_items()[:2]
    items.insert(1, ("broken", 12345))  # not text: fragment_body raises on it
    texts = run(preparer, items)
    assert isinstance(texts[1], AttributeError)
    assert texts[0] == feed_text(*items[0]) and texts[2] == feed_text(*items[2])
    assert preparer.in_worker == 3


def test_a_worker_that_dies_loses_no_entry(preparer: Preparer, caplog: pytest.LogCaptureFixture) -> None:
    items = feed_items()
    run(preparer, items[:1])
    (pid,) = preparer._pool._processes  # type: ignore[union-attr]  # the worker, now running
    os.kill(pid, signal.SIGKILL)
    with caplog.at_level(logging.WARNING, logger="watcher.prepare"):
        texts = run(preparer, items)
        again = run(preparer, items)  # not replaced within the cycle: inline from now on
    assert texts == again == [feed_text(*item) for item in items]
    assert preparer.inline == 2 * len(items)
    assert any(r.getMessage() == "prepare.worker_failed" for r in caplog.records)


def test_a_preparer_without_worker_never_starts_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare, "WORKER_AFTER", 0)
    p = Preparer(worker=False)
    items = feed_items()
    assert run(p, items) == run(p, items) == [feed_text(*item) for item in items]
    assert p._pool is None and p.inline == 2 * len(items)


def test_a_small_cycle_never_starts_a_worker() -> None:
    p = Preparer()
    items = feed_items()
    assert len(items) < prepare.WORKER_AFTER
    assert run(p, items) == [feed_text(*item) for item in items]
    assert p._pool is None and p.inline == len(items)


def test_past_the_threshold_work_stays_inline_until_the_worker_is_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare, "WORKER_AFTER", 1)
    p = Preparer()
    items = feed_items()
    try:
        run(p, items)  # inline: below the threshold
        run(p, items)  # the worker is starting (a spawned interpreter takes >100 ms): still inline
        assert (p.inline, p.in_worker) == (2 * len(items), 0) and p._pool is not None
        assert p._started is not None and p._started.result(timeout=30)
        assert run(p, items) == [feed_text(*item) for item in items]
        assert p.in_worker == len(items)
    finally:
        p.close()
    assert p._pool is None


# ---- through the whole cycle -----------------------------------------------------------------------

def _config(store: Store, sources: list[dict[str, Any]], **daemon: Any) -> Config:
    return Config.model_validate({
        "store": {"url": str(store.engine.url)}, "defaults": {"per_host": 4}, "sources": sources, "daemon": daemon,
        "subscriptions": [{"name": "all", "any": ["accord"], "max_age": "100000d", "notify": [{"notifier": "hook"}]}],
        "notifiers": {"hook": {"type": "slack", "webhook_url": "http://127.0.0.1:9/hook"}}})


def _stored(store: Store) -> list[tuple[Any, ...]]:
    """Each stored article's text, keys and status, with the articles its story groups it with."""
    with store.session() as s:
        rows = list(s.scalars(select(Article).order_by(Article.source, Article.guid)))
        story = {a.story_id: sorted((b.source, b.guid) for b in rows if b.story_id == a.story_id) for a in rows}
        return [(a.source, a.guid, a.title, a.body, a.language, a.content_hash, a.signature, a.status,
                 story[a.story_id]) for a in rows]


def test_a_cycle_stores_the_same_articles_with_or_without_the_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    stored = {}
    with LocalServer() as server:
        sources = [mount(server, name).source for name in SITE_NAMES]
        # "off": a cycle told not to start one (the daemon's default) does not, whatever the threshold
        for mode, after, worker in (("inline", None, True), ("worker", 0, True), ("off", 0, False)):
            monkeypatch.setattr(prepare, "WORKER_AFTER", after)
            store = open_store(f"sqlite:///{tmp_path}/{mode}.db")
            try:
                with caplog.at_level(logging.INFO, logger="watcher.prepare"):
                    results = poll(_config(store, sources), store, worker=worker)
                assert all(r.status == "ok" and r.errors == 0 for r in results), results
                stored[mode] = _stored(store)
            finally:
                store.close()
    stopped = [r for r in caplog.records if r.getMessage() == "prepare.worker_stopped"]
    # the worker cycle's (the Digital Business Africa feed carries its articles' text); the inline one started none
    assert len(stopped) == 1 and stopped[0].in_worker >= 3
    assert stored["worker"] == stored["inline"] == stored["off"] and len(stored["inline"]) >= 8


def test_the_daemon_starts_a_worker_only_when_its_config_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import watcher.pipeline

    store = open_store(f"sqlite:///{tmp_path}/w.db")
    asked: list[bool] = []
    monkeypatch.setattr(watcher.pipeline, "poll", lambda *args, **kwargs: asked.append(kwargs["worker"]) or [])
    try:
        for daemon in ({}, {"worker": True}):
            pipeline_poller(_config(store, [], **daemon), store, ["any"])
    finally:
        store.close()
    assert asked == [False, True]  # off unless `daemon.worker: true`
