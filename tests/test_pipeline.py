"""The poll cycle end to end against the four fixture sites (and broken ones) on a loopback server."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support.http import LocalServer, Request
from tests.support.sites import SITE_NAMES, MountedSite, mount
from watcher import clock
from watcher.config import Config
from watcher.fetch import Fetcher
from watcher.pipeline import PollContext, PollResult, poll, poll_source, select_sources
from watcher.store import Store, open_store
from watcher.store.models import Alert, Article, HttpCache, Source
from watcher.store.sources import backoff_delay

pytestmark = pytest.mark.timeout(60)
LAST_MODIFIED = "Mon, 20 May 2024 08:00:00 GMT"


# ---- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared_server() -> Iterator[LocalServer]:
    with LocalServer() as srv:  # one server per module: shutting one down costs 0.5 s
        yield srv


@pytest.fixture
def server(shared_server: LocalServer) -> LocalServer:
    shared_server.routes.clear()
    shared_server.requests.clear()
    return shared_server


@pytest.fixture
def store(tmp_path: Any) -> Iterator[Store]:
    st = open_store(f"sqlite:///{tmp_path}/watcher.db")
    yield st
    st.close()


def with_validators(server: LocalServer) -> None:
    """Give every static route an ETag and Last-Modified, and answer 304 to matching validators."""
    for path, route in list(server.routes.items()):
        if callable(route):
            continue
        status, headers, body = route
        etag = '"' + hashlib.md5(body).hexdigest() + '"'

        def handler(req: Request, status: int = status, headers: dict[str, str] = headers,
                    body: bytes = body, etag: str = etag) -> tuple[int, dict[str, str], bytes]:
            out = dict(headers, ETag=etag, **{"Last-Modified": LAST_MODIFIED})
            if req.headers.get("if-none-match") == etag or req.headers.get("if-modified-since") == LAST_MODIFIED:
                return 304, out, b""
            return status, out, body

        server.routes[path] = handler


def make_config(store: Store, sources: list[dict[str, Any]], **defaults: Any) -> Config:
    return Config.model_validate({
        "store": {"url": str(store.engine.url)},
        "defaults": {"per_host": 4, **defaults},
        "sources": sources,
        # max_age: the fixture articles are from 2019-2024 and must still be alertable.
        "subscriptions": [{"name": "everything", "any": ["coopération", "accord", "numérique"],
                           "max_age": "100000d", "notify": [{"notifier": "hook"}]}],
        "notifiers": {"hook": {"type": "slack", "webhook_url": "http://127.0.0.1:9/hook"}},
    })


def mount_all(server: LocalServer) -> dict[str, MountedSite]:
    return {name: mount(server, name) for name in SITE_NAMES}


def articles(store: Store, source: str | None = None) -> list[Article]:
    with store.session() as s:
        query = select(Article).order_by(Article.id)
        if source:
            query = query.where(Article.source == source)
        return list(s.scalars(query))


def source_row(store: Store, name: str) -> Source:
    with store.session() as s:
        row = s.scalar(select(Source).where(Source.name == name))
        assert row is not None
        return row


def by_source(results: list[PollResult]) -> dict[str, PollResult]:
    return {r.source: r for r in results}


def article_hits(server: LocalServer, site: MountedSite) -> int:
    paths = {a["url"][len(server.base):] for a in site.articles}
    return sum(1 for r in server.requests if r.path in paths)


def _strip(text: str) -> str:
    return " ".join(text.split())


# ---- all four kinds of source ---------------------------------------------------------------------

def test_first_poll_stores_the_right_articles_from_all_four_sites(server: LocalServer, store: Store) -> None:
    sites = mount_all(server)
    config = make_config(store, [s.source for s in sites.values()])
    results = by_source(poll(config, store))
    assert set(results) == set(SITE_NAMES)
    for name, site in sites.items():
        result = results[name]
        assert (result.status, result.error, result.errors) == ("ok", None, 0), result
        assert result.new == len(site.articles)
        stored = {a.title: a for a in articles(store, name)}
        assert set(stored) == {a["title"] for a in site.articles}, name
        for expected in site.articles:
            article = stored[expected["title"]]
            body = _strip(article.body)
            assert body.startswith(_strip(expected["first"])), (name, body[:200])
            assert body.endswith(_strip(expected["last"])), (name, body[-200:])
            assert article.published_at == datetime.fromisoformat(expected["published"])
            for junk in site.forbidden:
                assert junk not in article.body, (name, junk)
            assert article.origin == site.source["kind"]
    assert results["icesco"].pages >= 2  # the listing's page 2 holds one of the expected articles


def test_feed_with_full_content_needs_no_article_page(server: LocalServer, store: Store) -> None:
    dba = mount(server, "digital-business-africa")
    poll(make_config(store, [dba.source]), store)
    assert article_hits(server, dba) == 0  # content:encoded was enough
    assert len(articles(store)) == len(dba.articles)


def test_fetch_article_always_fetches_the_page(server: LocalServer, store: Store) -> None:
    dba = mount(server, "digital-business-africa")
    poll(make_config(store, [dict(dba.source, fetch_article="always")]), store)
    assert article_hits(server, dba) == len(dba.articles)
    authors = {a.author for a in articles(store)}
    assert {a["author"] for a in dba.articles} <= authors


# ---- conditional GET and unchanged listings -------------------------------------------------------

def test_second_poll_is_all_304_and_stores_nothing(server: LocalServer, store: Store) -> None:
    sites = mount_all(server)
    with_validators(server)
    config = make_config(store, [s.source for s in sites.values()])
    first = poll(config, store, due_only=False)
    assert all(r.status == "ok" for r in first)
    stored = len(articles(store))
    server.requests.clear()
    second = poll(config, store, due_only=False)
    assert {r.status for r in second} == {"not_modified"}
    assert sum(r.new for r in second) == 0 and len(articles(store)) == stored
    listing_urls = {s.source["url"] for s in sites.values()}
    listing_requests = [r for r in server.requests if server.base + r.path in listing_urls]
    assert len(listing_requests) == 4 == len(server.requests)  # no article page, no page 2
    assert all(r.headers.get("if-none-match") and r.headers.get("if-modified-since") for r in listing_requests)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(HttpCache)) == 4


def test_unchanged_listing_without_304_stores_nothing_and_fetches_no_page(server: LocalServer, store: Store) -> None:
    ecofin = mount(server, "agence-ecofin")  # no validators: every poll is a 200 with the same bytes
    config = make_config(store, [ecofin.source])
    poll(config, store)
    pages = article_hits(server, ecofin)
    result = poll(config, store, due_only=False)[0]
    assert (result.status, result.new, result.seen) == ("ok", 0, len(ecofin.articles))
    assert article_hits(server, ecofin) == pages


def test_an_unchanged_listing_is_not_parsed_again_even_by_a_new_process(
        server: LocalServer, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The body digest lives in the store: a fresh `watcher poll` skips byte-identical listings too."""
    ecofin = mount(server, "agence-ecofin")
    config = make_config(store, [ecofin.source])
    poll(config, store)
    restarted = open_store(config.store.url)  # a new Store: no state carried over in this process

    def no_parsing(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a byte-identical listing was parsed again")

    monkeypatch.setattr("watcher.sources.feed.FeedKind.parse_listing", no_parsing)
    result = poll(config, restarted, due_only=False)[0]
    assert (result.status, result.new, result.seen) == ("ok", 0, len(ecofin.articles))
    restarted.close()


def test_items_already_stored_are_not_fetched_again(server: LocalServer, store: Store) -> None:
    sputnik = mount(server, "sputnik-afrique")
    feed_path = sputnik.source["url"][len(server.base):]
    status, headers, full = server.routes[feed_path]
    # First poll: the feed without its first item; second: the full feed (one new item on top).
    first_item_end = full.index(b"</item>") + len(b"</item>")
    first_item_start = full.index(b"<item")
    server.routes[feed_path] = (status, headers, full[:first_item_start] + full[first_item_end:])
    config = make_config(store, [sputnik.source])
    assert poll(config, store)[0].new == len(sputnik.articles) - 1
    server.routes[feed_path] = (status, headers, full)
    result = poll(config, store, due_only=False)[0]
    assert (result.new, result.seen) == (1, len(sputnik.articles) - 1)
    for article in sputnik.articles:  # every article page was fetched exactly once over both polls
        assert len(server.hits(article["url"][len(server.base):])) == 1


def test_duplicate_entries_in_one_feed_are_stored_once(server: LocalServer, store: Store) -> None:
    base = server.base
    item = (f"<item><title>L'Egypte et le Maroc signent un accord de coopération numérique</title>"
            f"<link>{base}/a/1</link><guid>{base}/a/1</guid><pubDate>Mon, 20 May 2024 08:00:00 GMT</pubDate>"
            "<description>Accord de coopération numérique.</description>"
            "<content:encoded><![CDATA[<p>Le Caire et Rabat ont signé un accord de coopération dans le "
            "numérique, la cybersécurité et la formation des jeunes.</p>]]></content:encoded></item>")
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>'
            + item + item.replace("/a/1</guid>", "/a/1?utm_source=rss</guid>") + item
            + "</channel></rss>").encode()
    server.routes["/dup.xml"] = (200, {"Content-Type": "application/rss+xml"}, feed)
    config = make_config(store, [{"name": "dup", "kind": "feed", "url": server.url("/dup.xml")}])
    result = poll(config, store)[0]
    assert result.status == "ok" and result.new == 1
    assert len(articles(store)) == 1


def test_relative_links_and_rel_canonical(server: LocalServer, store: Store) -> None:
    page = ("<html><head><title>x</title><link rel='canonical' href='/articles/real-one'></head><body>"
            "<article><h1>Le Sénégal et le Maroc signent un accord</h1><div class='c'><p>Les deux pays ont signé "
            "un accord de coopération dans le numérique à Rabat, pour former des jeunes.</p></div></article>"
            "</body></html>").encode()
    server.routes["/listing"] = (200, {"Content-Type": "text/html"},
                                 b"<html><body><article><h3><a href='story?id=7&utm_source=x'>Accord</a></h3>"
                                 b"</article></body></html>")
    server.routes["/story"] = (200, {"Content-Type": "text/html; charset=utf-8"}, page)
    config = make_config(store, [{"name": "site", "kind": "html", "url": server.url("/listing"),
                                  "links": "article h3 a", "article": {"body": ".c"}}])
    assert poll(config, store)[0].new == 1
    stored = articles(store)[0]
    assert stored.url == server.url("/story?id=7&utm_source=x")
    assert stored.canonical_url.endswith("/articles/real-one")
    # The canonical URL listed elsewhere is recognised as stored before any fetch.
    server.routes["/listing"] = (200, {"Content-Type": "text/html"},
                                 b"<html><body><article><h3><a href='/articles/real-one'>Accord</a></h3>"
                                 b"</article></body></html>")
    result = poll(config, store, due_only=False)[0]
    assert (result.new, result.seen) == (0, 1)
    assert not server.hits("/articles/real-one")


# ---- failures stay with their source --------------------------------------------------------------

def test_broken_sources_are_reported_and_the_others_keep_working(server: LocalServer, store: Store) -> None:
    ecofin = mount(server, "agence-ecofin")
    server.routes["/500.xml"] = (500, {}, b"oops")
    server.routes["/html.xml"] = (200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html><body>Hi</body></html>")

    def slow(req: Request) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.5)
        return 200, {}, b""

    server.routes["/slow.xml"] = slow
    config = make_config(store, [
        ecofin.source,
        {"name": "five-hundred", "kind": "feed", "url": server.url("/500.xml")},
        {"name": "html-not-feed", "kind": "feed", "url": server.url("/html.xml")},
        {"name": "too-slow", "kind": "feed", "url": server.url("/slow.xml"), "timeout": "0.3s"},
    ])
    results = by_source(poll(config, store))
    assert results["agence-ecofin"].status == "ok" and results["agence-ecofin"].new == len(ecofin.articles)
    expectations = {"five-hundred": ("transient", "HTTP 500"),
                    "html-not-feed": ("permanent", "HTML page"),
                    "too-slow": ("transient", "timed out")}
    for name, (kind, words) in expectations.items():
        result = results[name]
        assert result.status == "error" and result.error_kind == kind, result
        assert words in result.error and server.base in result.error  # the reason names the URL
        row = source_row(store, name)
        assert (row.consecutive_failures, row.last_error_kind, row.last_status) == (1, kind, "error")
        assert words in row.last_error
    assert source_row(store, "agence-ecofin").consecutive_failures == 0


def test_a_failing_article_page_keeps_the_listing_uncached(server: LocalServer, store: Store) -> None:
    sputnik = mount(server, "sputnik-afrique")
    with_validators(server)
    missing = sputnik.articles[0]["url"][len(server.base):]
    good_route = server.routes[missing]
    server.routes[missing] = (503, {}, b"down for now")
    config = make_config(store, [sputnik.source])
    result = poll(config, store)[0]
    assert result.status == "ok" and result.errors == 1 and result.new == len(sputnik.articles) - 1
    assert missing in result.item_errors[0]
    server.routes[missing] = good_route
    retry = poll(config, store, due_only=False)[0]  # validators were not stored: no 304 hides the item
    assert (retry.status, retry.new, retry.errors) == ("ok", 1, 0)
    third = poll(config, store, due_only=False)[0]
    assert third.status == "not_modified"


def test_a_gone_article_page_falls_back_to_the_feed_summary(server: LocalServer, store: Store) -> None:
    sputnik = mount(server, "sputnik-afrique")
    gone = sputnik.articles[0]
    server.routes[gone["url"][len(server.base):]] = (404, {}, b"not found")
    result = poll(make_config(store, [sputnik.source]), store)[0]
    assert (result.status, result.new, result.errors) == ("ok", len(sputnik.articles), 0)
    stored = {a.url: a for a in articles(store)}[gone["url"]]
    assert stored.body and stored.body == stored.summary  # the announce the feed gave


def test_a_crash_in_one_source_does_not_touch_the_others(server: LocalServer, store: Store,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ecofin = mount(server, "agence-ecofin")
    dba = mount(server, "digital-business-africa")
    import watcher.pipeline as pipeline

    real = pipeline.get_kind

    def exploding(name: str) -> Any:
        kind = real(name)

        class Boom(kind):  # type: ignore[valid-type,misc]
            name = ""

            @classmethod
            def parse_listing(cls, body: bytes, url: str, content_type: str | None, source: Any) -> Any:
                if source.name == "agence-ecofin":
                    raise RuntimeError("parser bug")
                return kind.parse_listing(body, url, content_type, source)
        return Boom

    monkeypatch.setattr(pipeline, "get_kind", exploding)
    results = by_source(poll(make_config(store, [ecofin.source, dba.source]), store))
    assert results["agence-ecofin"].status == "error" and "parser bug" in results["agence-ecofin"].error
    assert results["digital-business-africa"].new == len(dba.articles)


# ---- backoff and recovery -------------------------------------------------------------------------

def test_backoff_grows_and_recovers(server: LocalServer, store: Store) -> None:
    state = {"status": 503}

    def flaky(req: Request) -> tuple[int, dict[str, str], bytes]:
        if state["status"] != 200:
            return state["status"], {}, b"down"
        return 200, {"Content-Type": "application/rss+xml"}, b'<?xml version="1.0"?><rss version="2.0"><channel>' \
            b"<title>t</title></channel></rss>"

    server.routes["/flaky.xml"] = flaky
    config = make_config(store, [{"name": "flaky", "kind": "feed", "url": server.url("/flaky.xml"),
                                  "interval": "10m"}])
    at = datetime(2024, 5, 20, 8, 0, tzinfo=timezone.utc)
    delays = []
    try:
        for _ in range(4):
            clock.freeze(at)
            assert select_sources(config, store)  # due again exactly when the backoff said
            assert poll(config, store)[0].status == "error"
            row = source_row(store, "flaky")
            delays.append(row.next_poll_at - at)
            clock.freeze(row.next_poll_at - timedelta(seconds=1))
            assert not select_sources(config, store)  # not due before its time
            at = row.next_poll_at
        assert source_row(store, "flaky").consecutive_failures == 4
        for shorter, longer in zip(delays, delays[1:]):
            assert longer > shorter * 1.3  # doubles, give or take 20 % jitter
        assert timedelta(minutes=8) <= delays[0] <= timedelta(minutes=12)
        state["status"] = 200
        clock.freeze(at)
        assert poll(config, store)[0].status == "ok"
        row = source_row(store, "flaky")
        assert row.consecutive_failures == 0 and row.next_poll_at == at + timedelta(minutes=10)
        assert row.last_success_at == at and row.enabled
    finally:
        clock.freeze(None)


def test_backoff_delay_is_capped_and_respects_retry_after() -> None:
    rng = random.Random(1)
    interval, cap = timedelta(minutes=30), timedelta(hours=24)
    assert backoff_delay(20, interval, cap, rng=rng) == cap
    assert backoff_delay(1, interval, cap, rng=rng, retry_after=7200) == timedelta(hours=2)
    assert backoff_delay(1, interval, cap, rng=rng, retry_after=10 ** 9) == cap
    permanent = backoff_delay(1, interval, cap, permanent=True, rng=random.Random(2))
    transient = backoff_delay(1, interval, cap, rng=random.Random(2))
    assert abs(permanent - transient * 4) < timedelta(milliseconds=1)


def test_retry_after_schedules_the_next_poll(server: LocalServer, store: Store) -> None:
    server.routes["/busy.xml"] = (429, {"Retry-After": "86000"}, b"")
    config = make_config(store, [{"name": "busy", "kind": "feed", "url": server.url("/busy.xml")}])
    result = poll(config, store)[0]
    assert result.retry_after == 86000 and result.next_poll_at is not None
    assert result.next_poll_at - result.polled_at >= timedelta(seconds=86000)


# ---- flood guard, standalone per-source polling ---------------------------------------------------

def test_first_poll_backlog_is_not_alerted_but_later_items_are(server: LocalServer, store: Store) -> None:
    sputnik = mount(server, "sputnik-afrique")
    feed_path = sputnik.source["url"][len(server.base):]
    status, headers, full = server.routes[feed_path]
    start, end = full.index(b"<item"), full.index(b"</item>") + len(b"</item>")
    server.routes[feed_path] = (status, headers, full[:start] + full[end:])
    config = make_config(store, [sputnik.source])
    poll(config, store)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 0  # the backlog is stored silently
    assert len(articles(store)) == len(sputnik.articles) - 1
    server.routes[feed_path] = (status, headers, full)
    result = poll(config, store, due_only=False)[0]
    assert result.new == 1 and result.alerts >= 1
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == result.alerts


def test_poll_source_works_on_its_own(server: LocalServer, store: Store) -> None:
    ecofin = mount(server, "agence-ecofin")
    with_validators(server)
    config = make_config(store, [ecofin.source])
    select_sources(config, store)  # the daemon syncs the sources table at start

    async def go() -> PollResult:
        async with Fetcher(per_host=4) as fetcher:
            ctx = PollContext.create(config, store, fetcher)
            return await poll_source(ctx, config.sources[0])

    result = asyncio.run(go())
    assert result.status == "ok" and result.new == len(ecofin.articles)
    row = source_row(store, "agence-ecofin")  # health recorded by the standalone call
    assert row.last_status == "ok" and row.next_poll_at is not None and row.first_success_at is not None
    assert asyncio.run(go()).status == "not_modified"  # its validators were stored too


def test_unknown_source_name_is_refused(store: Store) -> None:
    config = make_config(store, [])
    with pytest.raises(KeyError, match="nope"):
        poll(config, store, ["nope"])


def test_fetch_article_never_keeps_the_feed_text(server: LocalServer, store: Store) -> None:
    sputnik = mount(server, "sputnik-afrique")  # its feed carries the announce only
    result = poll(make_config(store, [dict(sputnik.source, fetch_article="never")]), store)[0]
    assert (result.status, result.new) == ("ok", len(sputnik.articles))
    assert article_hits(server, sputnik) == 0
    assert all(a.body and a.body == a.summary for a in articles(store))


def test_two_sources_sharing_a_listing_url(server: LocalServer, store: Store) -> None:
    ecofin = mount(server, "agence-ecofin")
    with_validators(server)
    twin = dict(ecofin.source, name="ecofin-twin")
    config = make_config(store, [ecofin.source, twin])
    results = by_source(poll(config, store))
    assert {r.status for r in results.values()} == {"ok"}
    # One URL is one article: whichever source stored it first, the other finds it already stored.
    assert sum(r.new for r in results.values()) == len(ecofin.articles)
    assert sum(r.seen for r in results.values()) == len(ecofin.articles)
    assert len(articles(store)) == len(ecofin.articles)
    assert {r.status for r in poll(config, store, due_only=False)} == {"not_modified"}


def test_config_sync_adds_updates_and_disables_sources(server: LocalServer, store: Store) -> None:
    ecofin = mount(server, "agence-ecofin")
    dba = mount(server, "digital-business-africa")
    poll(make_config(store, [ecofin.source, dba.source]), store)
    moved = dict(dba.source, url=server.url("/moved.xml"))
    server.routes["/moved.xml"] = (500, {}, b"")
    results = by_source(poll(make_config(store, [moved]), store))  # ecofin removed, dba moved
    assert set(results) == {"digital-business-africa"}  # a changed URL is due at once
    assert not source_row(store, "agence-ecofin").enabled
    assert source_row(store, "digital-business-africa").url == server.url("/moved.xml")
    assert len(articles(store, "agence-ecofin")) == len(ecofin.articles)  # history stays
