"""The feed source kind: data-driven cases (tests/data/feeds/), the fixture sites' feeds, the fast/slow
parser agreement, hostile XML (entities, nesting, size) and the kind registry."""

from __future__ import annotations

import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from tests.support.sites import load_site
from watcher.sources import Entry, Listing, ParseError, SourceKind, UnknownKind, get_kind, kinds
from watcher.sources.feed import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"
CASES = sorted(p for p in FEEDS.iterdir() if p.suffix != ".yaml")
DEFAULT_URL = "https://example.org/feed/"


def _case(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.with_suffix(".yaml").read_text(encoding="utf-8")) or {}


def _source(name: str = "test") -> SimpleNamespace:
    return SimpleNamespace(name=name, kind="feed")


_OPS = ("_not_contains", "_contains", "_startswith")


def _check_entry(entry: Entry, expected: dict[str, Any], where: str) -> None:
    """`expected` maps an Entry field to its value, or `field_contains` / `field_not_contains` /
    `field_startswith` to a fragment; dates are ISO strings."""
    for key, want in expected.items():
        op = next((o for o in _OPS if key.endswith(o)), "")
        field = key.removesuffix(op)
        got = getattr(entry, field)
        if field in ("published", "updated") and isinstance(want, str):
            want = datetime.fromisoformat(want)
        if op == "_contains":
            assert want in (got or ""), f"{where}: {field} {got!r} lacks {want!r}"
        elif op == "_not_contains":
            assert want not in (got or ""), f"{where}: {field} {got!r} has {want!r}"
        elif op == "_startswith":
            assert (got or "").startswith(want), f"{where}: {field} {got!r} does not start with {want!r}"
        else:
            assert got == want, f"{where}: {field} is {got!r}, expected {want!r}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_feed_case(path: Path) -> None:
    case = _case(path)
    body = path.read_bytes()
    url = case.get("url", DEFAULT_URL)
    content_type = case.get("content_type", "application/rss+xml")
    kind = get_kind("feed")
    if "error" in case:
        with pytest.raises(ParseError) as caught:
            kind.parse_listing(body, url, content_type, _source())
        for fragment in case["error"]:
            assert fragment in str(caught.value)
        assert caught.value.url == url
        return
    listing = kind.parse_listing(body, url, content_type, _source())
    assert isinstance(listing, Listing)
    # `entries`: exactly these; `entries_at_least`: these first, maybe more (recovery may salvage extra).
    expected = case["entries"] if "entries" in case else case["entries_at_least"]
    if "entries" in case:
        assert len(listing.entries) == len(expected), [e.url for e in listing.entries]
    assert len(listing.entries) >= len(expected), [e.url for e in listing.entries]
    for index, (entry, want) in enumerate(zip(listing.entries, expected)):
        _check_entry(entry, want, f"{path.name} entry {index + 1}")
        assert entry.published is None or entry.published.tzinfo == timezone.utc
    if "parser" in case:
        assert listing.parser == case["parser"]
    for fragment in case.get("warnings", []):
        assert any(fragment in w for w in listing.warnings), (fragment, listing.warnings)
    if "max_title_length" in case:
        assert all(len(e.title) <= case["max_title_length"] for e in listing.entries)
        assert all(len(e.summary or "") <= case["max_title_length"] for e in listing.entries)
    if case.get("both_parsers", True):
        fast = parse_feed(body, url, content_type, parser="fastfeedparser")
        slow = parse_feed(body, url, content_type, parser="feedparser")
        assert fast.entries == slow.entries


@pytest.mark.parametrize("name", ["digital-business-africa", "agence-ecofin", "sputnik-afrique"])
def test_fixture_site_feeds(name: str) -> None:
    site = load_site(name)
    mounted = site.mounted("http://127.0.0.1:8000", f"/{name}")
    feed_path = mounted.source["url"].removeprefix(mounted.base)
    body = site.files()[feed_path].read_bytes().replace(b"{{BASE}}", mounted.base.encode())
    listing = get_kind("feed").parse_listing(body, mounted.source["url"], site.content_type(feed_path, Path("x.xml")),
                                            SimpleNamespace(**mounted.source))
    assert listing.parser == "fastfeedparser"
    assert listing.warnings == []
    assert [e.url for e in listing.entries] == [a["url"] for a in mounted.articles]
    for entry, article in zip(listing.entries, mounted.articles):
        assert entry.title == article["title"]
        assert entry.published == datetime.fromisoformat(article["published"])
        assert entry.summary
    slow = parse_feed(body, mounted.source["url"], None, parser="feedparser")
    assert slow.entries == listing.entries


def test_wordpress_feed_carries_full_content() -> None:
    site = load_site("digital-business-africa")
    body = site.files()["/feed/"].read_bytes()
    listing = parse_feed(body, "https://www.digitalbusiness.africa/feed/")
    assert all(e.content and e.content.count("<p>") >= 4 for e in listing.entries)
    assert listing.entries[0].guid.startswith("{{BASE}}/?p=")
    assert listing.entries[0].author == "Ange Ponou"
    assert "Coopération" in listing.entries[0].categories


def wordpress_feed(items: int, paragraphs: int = 6) -> bytes:
    """A WordPress-shaped RSS 2.0 feed with content:encoded, `items` entries."""
    paragraph = ("<p>Le ministre et son homologue ont signé un protocole d’accord de coopération numérique "
                 "portant sur la cybersécurité, la 5G et la formation de jeunes ingénieurs.</p>\n")
    parts = ['<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
             'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
             "<channel><title>Bench</title><link>https://bench.example.org</link><language>fr-FR</language>"]
    for i in range(items):
        parts.append(
            f"<item><title>Accord numérique n°{i}</title><link>https://bench.example.org/{i}/accord/</link>"
            f"<dc:creator><![CDATA[Rédaction]]></dc:creator><pubDate>Tue, 23 Jan 2024 10:{i % 60:02d}:00 +0000</pubDate>"
            f"<category><![CDATA[Coopération]]></category><guid isPermaLink=\"false\">https://bench.example.org/?p={i}</guid>"
            f"<description><![CDATA[Résumé {i} [&#8230;]]]></description>"
            f"<content:encoded><![CDATA[{paragraph * paragraphs}]]></content:encoded></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def test_ten_thousand_entries_parse_in_bounded_time_and_memory() -> None:
    body = wordpress_feed(10_000, paragraphs=1)
    tracemalloc.start()
    started = time.perf_counter()
    listing = parse_feed(body, "https://bench.example.org/feed/")
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(listing.entries) == 10_000
    assert listing.parser == "fastfeedparser"
    assert listing.entries[-1].url == "https://bench.example.org/9999/accord/"
    # Generous bounds (a shared 2-core machine): this guards against quadratic work, not for speed.
    assert elapsed < 30, elapsed
    assert peak < 40 * len(body), (peak, len(body))


@pytest.mark.parametrize("depth", [300, 5_000, 100_000])
def test_deeply_nested_xml_is_an_error_or_a_listing(depth: int) -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Profond</title>'
            b"<item><title>Avant</title><link>https://deep.example.org/avant</link></item>"
            + b"<x>" * depth + b"texte" + b"</x>" * depth +
            b"<item><title>Apres</title><link>https://deep.example.org/apres</link></item></channel></rss>")
    try:
        listing = parse_feed(body, "https://deep.example.org/feed")
    except ParseError as exc:
        assert "https://deep.example.org/feed" in str(exc)
        return
    assert "https://deep.example.org/avant" in [e.url for e in listing.entries]


def test_deeply_nested_garbage_never_escapes_as_recursion_error() -> None:
    body = b"<rss>" + b"<item><title>" * 3_000
    try:
        parse_feed(body, "https://deep.example.org/garbage", parser="feedparser")
    except ParseError:
        pass


def test_feedparser_is_never_handed_a_path_or_url(tmp_path: Path) -> None:
    # feedparser opens a string that names a file or URL; the body must be read as data only.
    secret = tmp_path / "secret.xml"
    secret.write_bytes(b'<rss version="2.0"><channel><item><title>SECRET</title>'
                       b"<link>https://secret.example/</link></item></channel></rss>")
    for body in (str(secret).encode(), f"file://{secret}".encode()):
        try:
            listing = parse_feed(body, "https://example.org/feed", parser="feedparser")
        except ParseError:
            continue
        assert all(e.title != "SECRET" for e in listing.entries)


def test_fast_path_falls_back_when_it_reads_short(monkeypatch: pytest.MonkeyPatch) -> None:
    import fastfeedparser

    body = (FEEDS / "rss2-wordpress.xml").read_bytes()
    monkeypatch.setattr(fastfeedparser, "parse", lambda content: {"entries": []})
    listing = parse_feed(body, DEFAULT_URL)
    assert listing.parser == "feedparser"
    assert len(listing.entries) == 2


def test_fast_path_exception_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import fastfeedparser

    def broken(content: bytes) -> dict[str, Any]:
        raise RuntimeError("native extractor crashed")

    monkeypatch.setattr(fastfeedparser, "parse", broken)
    listing = parse_feed((FEEDS / "atom.xml").read_bytes(), DEFAULT_URL)
    assert listing.parser == "feedparser"
    assert [e.title for e in listing.entries][1] == "Entrée mise à jour seulement"


def test_registry_knows_both_kinds_and_rejects_unknown() -> None:
    assert {"feed", "html"} <= set(kinds())
    assert get_kind("feed").name == "feed"
    with pytest.raises(UnknownKind) as caught:
        get_kind("gopher")
    assert "gopher" in str(caught.value) and "feed" in str(caught.value)


def test_a_new_kind_registers_by_defining_it() -> None:
    from watcher import sources

    class SitemapKind(SourceKind):
        name = "test-sitemap"

        @classmethod
        def parse_listing(cls, body: bytes, url: str, content_type: str | None, source: Any) -> Listing:
            return Listing(entries=[Entry(url=url)])

    try:
        assert get_kind("test-sitemap") is SitemapKind
        assert get_kind("test-sitemap").parse_listing(b"", "https://x.example/", None, None).entries[0].url
    finally:
        sources._REGISTRY.pop("test-sitemap", None)


def test_fixture_sites_are_served_with_base_rewritten() -> None:
    import urllib.request

    from tests.support.sites import serve_sites

    with serve_sites("sputnik-afrique", "icesco") as (server, sites):
        sputnik = sites["sputnik-afrique"]
        with urllib.request.urlopen(sputnik.source["url"], timeout=10) as response:
            body = response.read()
            assert response.headers["Content-Type"].startswith("application/rss+xml")
        assert b"{{BASE}}" not in body
        listing = get_kind("feed").parse_listing(body, sputnik.source["url"], None, SimpleNamespace(**sputnik.source))
        assert [e.url for e in listing.entries] == [a["url"] for a in sputnik.articles]
        with urllib.request.urlopen(sputnik.articles[0]["url"], timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/html")
            assert sputnik.articles[0]["title"].encode() in response.read()
        icesco = sites["icesco"]
        assert icesco.source["url"] == server.base + "/icesco/fr/category/a-la-une/"
        with urllib.request.urlopen(icesco.source["url"] + "page/2/", timeout=10) as response:
            assert (server.base + "/icesco/fr/2024/03/05/").encode() in response.read()


def test_warnings_are_capped_and_entries_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from watcher.sources import feed

    body = b"<rss version='2.0'><channel>" + b"<item><title>sans lien</title></item>" * 100 + \
        b"".join(b"<item><link>https://cap.example/%d</link></item>" % i for i in range(30)) + b"</channel></rss>"
    listing = parse_feed(body, "https://cap.example/feed")
    assert len(listing.entries) == 30
    assert len(listing.warnings) == 20
    assert listing.warnings[-1] == "... and 81 more warnings"
    monkeypatch.setattr(feed, "MAX_ENTRIES", 110)
    listing = parse_feed(body, "https://cap.example/feed")
    assert [e.url for e in listing.entries] == [f"https://cap.example/{i}" for i in range(10)]
    assert "only the first 110" in listing.warnings[0]


@pytest.mark.parametrize("name", ["digital-business-africa", "agence-ecofin", "icesco", "sputnik-afrique"])
def test_fixture_site_sources_are_valid_config_and_parse(name: str) -> None:
    from watcher.config import SourceConfig

    site = load_site(name)
    mounted = site.mounted("http://127.0.0.1:8080", f"/{name}")
    source = SourceConfig(**mounted.source)
    path = str(source.url).removeprefix(mounted.base)
    body = site.files()[path].read_bytes().replace(b"{{BASE}}", mounted.base.encode())
    listing = get_kind(source.kind).parse_listing(body, str(source.url), None, source)
    assert listing.entries and all(e.url.startswith(mounted.base) for e in listing.entries)
