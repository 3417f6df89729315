"""The html source kind: article links and the next page from a listing page, with CSS selectors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.support.sites import load_site
from watcher.sources import ParseError, get_kind

BASE = "https://icesco.example.org"


def _source(links: str | None = "article h3 a", next: str | None = "a.next", name: str = "test") -> SimpleNamespace:
    return SimpleNamespace(name=name, kind="html", links=links, next=next, max_pages=3)


def _parse(html: str | bytes, url: str = BASE + "/fr/actualites/", content_type: str | None = "text/html; charset=utf-8",
           **source: str | None):
    body = html.encode() if isinstance(html, str) else html
    return get_kind("html").parse_listing(body, url, content_type, _source(**source))


def test_icesco_fixture_listing_pages() -> None:
    site = load_site("icesco")
    mounted = site.mounted(BASE, "")
    files = site.files()
    source = SimpleNamespace(**mounted.source)
    by_page = {1: [], 2: []}
    url = mounted.source["url"]
    for page in (1, 2):
        path = url.removeprefix(BASE)
        body = files[path].read_bytes().replace(b"{{BASE}}", BASE.encode())
        listing = get_kind("html").parse_listing(body, url, "text/html; charset=UTF-8", source)
        assert listing.parser == "html"
        by_page[page] = listing.entries
        if page == 1:
            assert listing.next_url == BASE + "/fr/category/a-la-une/page/2/"
            url = listing.next_url
        else:
            assert listing.next_url is None
    expected = {a["url"]: a["title"] for a in mounted.articles}
    found = {e.url: e.title for e in by_page[1] + by_page[2]}
    assert found == expected
    assert all(e.guid == e.url for e in by_page[1])
    # The thumbnail and "Lire la suite" links to the same articles are not picked up twice.
    assert len(by_page[1]) == 2 and len(by_page[2]) == 1


def test_relative_links_resolved_and_duplicates_removed() -> None:
    listing = _parse("""<html><body>
        <article><h3><a href="/fr/2024/05/01/un/">Un</a></h3></article>
        <article><h3><a href="2024/05/02/deux/">Deux</a></h3></article>
        <article><h3><a href="../archives/trois/">  Trois
              (suite) </a></h3></article>
        <article><h3><a href="https://ICESCO.example.org/fr/2024/05/01/un/?utm_source=x#top">Un encore</a></h3></article>
        <article><h3><a href="//icesco.example.org/fr/quatre/">Quatre</a></h3></article>
        </body></html>""")
    assert [(e.url, e.title) for e in listing.entries] == [
        (BASE + "/fr/2024/05/01/un/", "Un"),
        (BASE + "/fr/actualites/2024/05/02/deux/", "Deux"),
        (BASE + "/fr/archives/trois/", "Trois (suite)"),
        ("https://icesco.example.org/fr/quatre/", "Quatre"),
    ]


def test_base_href_is_honoured() -> None:
    listing = _parse('<html><head><base href="https://cdn.example.net/news/"></head><body>'
                     '<article><h3><a href="a.html">A</a></h3></article></body></html>')
    assert listing.entries[0].url == "https://cdn.example.net/news/a.html"


def test_unfetchable_links_are_skipped_with_a_warning() -> None:
    listing = _parse("""<html><body>
        <article><h3><a href="javascript:void(0)">JS</a></h3></article>
        <article><h3><a href="mailto:presse@icesco.org">Mail</a></h3></article>
        <article><h3><a>Sans href</a></h3></article>
        <article><h3><a href="file:///etc/passwd">Fichier</a></h3></article>
        <article><h3><a href="/fr/ok/">OK</a></h3></article></body></html>""")
    assert [e.url for e in listing.entries] == [BASE + "/fr/ok/"]
    assert len(listing.warnings) == 4


def test_selector_may_match_a_container_of_the_link() -> None:
    listing = _parse('<div class="card"><span>x</span><a href="/a/" title="Titre A"><img src="a.jpg"></a></div>',
                     links="div.card")
    assert listing.entries[0].url == BASE + "/a/"
    assert listing.entries[0].title == "Titre A"


def test_next_link_resolved_and_self_links_ignored() -> None:
    page = '<article><h3><a href="/x/">X</a></h3></article><a class="next" href="page/2/">Suivant</a>'
    assert _parse(page).next_url == BASE + "/fr/actualites/page/2/"
    looping = '<article><h3><a href="/x/">X</a></h3></article><a class="next" href="/fr/actualites/#">Suivant</a>'
    assert _parse(looping).next_url is None
    assert _parse(page, next=None).next_url is None


def test_no_links_is_a_parse_error_naming_the_url_and_selector() -> None:
    with pytest.raises(ParseError) as caught:
        _parse("<html><body><p>Le thème a changé.</p></body></html>", url=BASE + "/fr/vide/")
    assert BASE + "/fr/vide/" in str(caught.value)
    assert "article h3 a" in str(caught.value)


def test_bad_selector_and_missing_selector_are_parse_errors() -> None:
    with pytest.raises(ParseError, match="bad CSS selector"):
        _parse("<article><h3><a href='/a/'>A</a></h3></article>", links="article >>> a[")
    with pytest.raises(ParseError, match="no `links` selector"):
        _parse("<article><h3><a href='/a/'>A</a></h3></article>", links=None)


def test_empty_body_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="empty"):
        _parse(b"")


def test_windows_1252_listing_titles_decoded() -> None:
    html = '<article><h3><a href="/fr/cooperation/">Coopération “numérique” – Sénégal</a></h3></article>'
    listing = _parse(html.encode("cp1252"), content_type="text/html; charset=windows-1252")
    assert listing.entries[0].title == "Coopération “numérique” – Sénégal"
    # The same bytes with no declared charset: detected, not mojibake.
    listing = _parse(html.encode("cp1252") * 3, content_type="text/html")
    assert listing.entries[0].title == "Coopération “numérique” – Sénégal"
