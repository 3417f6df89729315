"""Article extraction: the four fixture sites (selectors and generic), encodings, dates, language, edge pages."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.sites import SITE_NAMES, load_site
from watcher.extract import decode_html, extract_article, fragment_body, guess_language
from watcher.sources.dates import parse_date
from watcher.sources.feed import parse_feed

BASE = "https://fixture.example.org"


def _selectors(source: dict[str, Any]) -> SimpleNamespace | None:
    article = source.get("article")
    if not article:
        return None
    return SimpleNamespace(**{k: article.get(k) for k in ("title", "body", "date", "author")})


def _site_articles() -> list[tuple[str, dict[str, Any]]]:
    return [(name, article) for name in SITE_NAMES for article in load_site(name).articles]


def _page(name: str, path: str) -> bytes:
    site = load_site(name)
    return site.files()[path].read_bytes().replace(b"{{BASE}}", (BASE + "/" + name).encode())


def _assert_clean(body: str, name: str, article: dict[str, Any]) -> None:
    site = load_site(name)
    for marker in site.forbidden:
        assert marker not in body, f"{name}: boilerplate {marker!r} in body"
    for other in site.articles:
        if other["path"] != article["path"]:
            assert other["title"] not in body, f"{name}: related title {other['title']!r} in body"
    assert "\n\n\n" not in body and body == body.strip()


@pytest.mark.parametrize("name,article", _site_articles(), ids=lambda v: v if isinstance(v, str) else v["path"][-40:])
def test_fixture_article_with_site_selectors(name: str, article: dict[str, Any]) -> None:
    site = load_site(name)
    mounted = site.mounted(BASE, "/" + name)
    url = mounted.base + article["path"]
    result = extract_article(_page(name, article["path"]), url, _selectors(mounted.source), "text/html; charset=utf-8")
    assert result.title == article["title"]
    assert result.published == datetime.fromisoformat(article["published"])
    assert result.published.tzinfo == timezone.utc
    paragraphs = result.body.split("\n\n")
    assert paragraphs[0].startswith(article["first"])
    assert paragraphs[-1].endswith(article["last"])
    if article.get("author"):
        assert result.author == article["author"]
    assert result.language == "fr"
    _assert_clean(result.body, name, article)
    if b'rel="canonical"' in _page(name, article["path"]):
        assert result.canonical_url == url


@pytest.mark.parametrize("name,article", _site_articles(), ids=lambda v: v if isinstance(v, str) else v["path"][-40:])
def test_fixture_article_without_selectors(name: str, article: dict[str, Any]) -> None:
    # The generic path (trafilatura + metadata) must still be right and boilerplate-free; it may miss
    # an intro kept outside the main text block (Ecofin's itemIntroText, Sputnik's announce).
    url = BASE + "/" + name + article["path"]
    result = extract_article(_page(name, article["path"]), url, None)
    assert result.title == article["title"]
    assert result.published == datetime.fromisoformat(article["published"])
    assert result.body.endswith(article["last"])
    _assert_clean(result.body, name, article)


def test_wordpress_feed_content_gives_the_same_clean_body() -> None:
    site = load_site("digital-business-africa")
    listing = parse_feed(site.files()["/feed/"].read_bytes(), "https://www.digitalbusiness.africa/feed/")
    by_title = {a["title"]: a for a in site.articles}
    for entry in listing.entries:
        article = by_title[entry.title]
        body = fragment_body(entry.content)
        assert body.split("\n\n")[0].startswith(article["first"])
        assert body.endswith(article["last"])
        _assert_clean(body, "digital-business-africa", article)


def test_fragment_body_edge_cases() -> None:
    assert fragment_body(None) == ""
    assert fragment_body("   ") == ""
    assert fragment_body("texte nu sans balise") == "texte nu sans balise"
    assert fragment_body("<p>Un<br/>deux</p><script>x()</script><p>trois</p>") == "Un deux\n\ntrois"
    deep = "<div>" * 5000 + "profond" + "</div>" * 5000
    assert "profond" in fragment_body(deep) or fragment_body(deep) == ""


# --- encodings ------------------------------------------------------------------------------------

TEXT = "Coopération “numérique” – Sénégal : l’accord prévoit 5 € par élève."


@pytest.mark.parametrize("body,content_type", [
    (TEXT.encode("cp1252"), "text/html; charset=windows-1252"),
    (TEXT.encode("cp1252"), "text/html; charset=ISO-8859-1"),  # Latin-1 label, windows-1252 bytes
    (TEXT.encode("cp1252"), 'text/html; charset="latin1"'),
    (b'<meta charset="windows-1252">' + TEXT.encode("cp1252"), "text/html"),
    (b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">' + TEXT.encode("cp1252"), None),
    (TEXT.encode("cp1252") * 4, None),  # nothing declared: detected
    (TEXT.encode("cp1252") * 4, "text/html; charset=utf-8"),  # mislabelled as UTF-8
    (TEXT.encode("utf-8"), "text/html; charset=utf-8"),
    (TEXT.encode("utf-8"), None),
    (TEXT.encode("utf-8"), "text/html; charset=iso-8859-1"),  # UTF-8 served with a Latin-1 label
    (b'<meta charset="windows-1252">' + TEXT.encode("utf-8"), None),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "text/html; charset=iso-8859-1"),  # a BOM wins
    (b"\xff\xfe" + TEXT.encode("utf-16-le"), None),
])
def test_decode_html(body: bytes, content_type: str | None) -> None:
    assert TEXT in decode_html(body, content_type)


def test_latin1_page_without_cp1252_specials() -> None:
    text = "Le Bénin et l'Égypte coopèrent ; à Cotonou, l'été."
    assert text in decode_html(text.encode("latin-1"), "text/html; charset=iso-8859-1")
    assert text in decode_html(b"<html><head><meta charset=iso-8859-1></head><body>" + text.encode("latin-1"), None)


def test_utf8_under_a_latin1_label_without_typographic_characters() -> None:
    text = "Le Bénin et l'Égypte coopèrent dans le numérique."  # every byte also valid windows-1252
    assert text in decode_html(text.encode("utf-8"), "text/html; charset=iso-8859-1")


def test_damaged_utf8_stays_utf8() -> None:
    body = "Accord numérique entre le Sénégal et le Bénin ".encode("utf-8") + b"\xff\xfe\xc3("
    decoded = decode_html(body, "text/html; charset=utf-8")
    assert decoded.startswith("Accord numérique entre le Sénégal et le Bénin") and "\ufffd" in decoded


def test_windows_1252_article_page() -> None:
    page = """<!DOCTYPE html><html lang="fr"><head>
        <meta http-equiv="Content-Type" content="text/html; charset=windows-1252">
        <title>Coopération numérique – Sénégal et Gambie</title></head><body>
        <nav><a href="/">Accueil</a> | <a href="/tic/">TIC</a></nav>
        <article><h1>Coopération numérique – Sénégal et Gambie</h1>
        <p class="date">Publié le mardi 23 janvier 2024 à 14h30</p>
        <div class="texte"><p>Dakar et Banjul ont signé un protocole d’accord sur la fibre optique.</p>
        <p>Le coût du projet s’élève à 12 millions d’€, financés à parts égales.</p>
        <p>Partager</p></div></article></body></html>"""
    result = extract_article(page.encode("cp1252"), "https://cp1252.example.net/article/42", 
                             SimpleNamespace(title="h1", body=".texte", date=".date", author=None), "text/html")
    assert result.title == "Coopération numérique – Sénégal et Gambie"
    assert result.body == ("Dakar et Banjul ont signé un protocole d’accord sur la fibre optique.\n\n"
                           "Le coût du projet s’élève à 12 millions d’€, financés à parts égales.")
    assert result.published == datetime(2024, 1, 23, 14, 30, tzinfo=timezone.utc)


# --- dates ----------------------------------------------------------------------------------------

UTC = timezone.utc


@pytest.mark.parametrize("text,expected", [
    ("2024-05-29T10:00:00+02:00", datetime(2024, 5, 29, 8, 0, tzinfo=UTC)),
    ("2024-05-29T08:00:00Z", datetime(2024, 5, 29, 8, 0, tzinfo=UTC)),
    ("2024-05-29 08:00:00", datetime(2024, 5, 29, 8, 0, tzinfo=UTC)),
    ("2024-05-29", datetime(2024, 5, 29, tzinfo=UTC)),
    ("Tue, 23 Jan 2024 10:00:00 +0100", datetime(2024, 1, 23, 9, 0, tzinfo=UTC)),
    ("Tue, 23 Jan 2024 10:00:00 GMT", datetime(2024, 1, 23, 10, 0, tzinfo=UTC)),
    ("29 mai 2024", datetime(2024, 5, 29, tzinfo=UTC)),
    ("mardi 23 janvier 2024", datetime(2024, 1, 23, tzinfo=UTC)),
    ("Mardi 23 Janvier 2024 à 14h30", datetime(2024, 1, 23, 14, 30, tzinfo=UTC)),
    ("Publié le: Mercredi, 12 Juin 2019 13:32", datetime(2019, 6, 12, 13, 32, tzinfo=UTC)),
    ("1er août 2024", datetime(2024, 8, 1, tzinfo=UTC)),
    ("12 févr. 2024", datetime(2024, 2, 12, tzinfo=UTC)),
    ("le 5 décembre 2023, 09:15", datetime(2023, 12, 5, 9, 15, tzinfo=UTC)),
    ("May 29, 2024", datetime(2024, 5, 29, tzinfo=UTC)),
    ("23.07.2023", datetime(2023, 7, 23, tzinfo=UTC)),
    ("23/07/2023 14:04", datetime(2023, 7, 23, 14, 4, tzinfo=UTC)),
    ("1690113420", datetime(2023, 7, 23, 11, 57, tzinfo=UTC)),
    ("1690113420000", datetime(2023, 7, 23, 11, 57, tzinfo=UTC)),
    (1690113420, datetime(2023, 7, 23, 11, 57, tzinfo=UTC)),
    ("", None), ("demain", None), ("31 février 2024", None), ("0", None), (None, None),
])
def test_parse_date(text: Any, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("head,body,expected", [
    ('<meta property="article:published_time" content="2024-03-01T10:00:00+01:00">', "", datetime(2024, 3, 1, 9, tzinfo=UTC)),
    ("", '<time datetime="2024-03-02T08:00:00Z">2 mars</time>', datetime(2024, 3, 2, 8, tzinfo=UTC)),
    ("", '<span data-unixtime="1709366400">02.03.2024</span>', datetime(2024, 3, 2, 8, tzinfo=UTC)),
    ('<script type="application/ld+json">{"@graph":[{"@type":"NewsArticle","datePublished":"2024-03-03"}]}</script>',
     "", datetime(2024, 3, 3, tzinfo=UTC)),
    ("", '<div class="post-date">Publié le 4 mars 2024</div>', datetime(2024, 3, 4, tzinfo=UTC)),
    ("", "<p>Aucune date ici.</p>", None),
])
def test_generic_date_sources(head: str, body: str, expected: datetime | None) -> None:
    page = f"<html><head>{head}</head><body><h1>T</h1>{body}<article><p>Texte.</p></article></body></html>"
    assert extract_article(page, "https://d.example/a", None).published == expected


def test_date_selector_reads_attributes_before_text() -> None:
    page = ('<h1>T</h1><div class="meta"><a data-unixtime="1707393600">il y a deux jours</a></div>'
            '<div class="b"><p>Texte.</p></div>')
    sel = SimpleNamespace(title="h1", body=".b", date="[data-unixtime]", author=None)
    assert extract_article(page, "https://d.example/a", sel).published == datetime(2024, 2, 8, 12, tzinfo=UTC)


# --- metadata -------------------------------------------------------------------------------------

@pytest.mark.parametrize("page,expected", [
    ('<html lang="fr-FR"><body><p>x</p></body></html>', "fr"),
    ('<html lang="EN_us"><body><p>x</p></body></html>', "en"),
    ('<html><head><meta http-equiv="Content-Language" content="ar"></head><body><p>x</p></body></html>', "ar"),
    ('<html><head><meta property="og:locale" content="fr_FR"></head><body><p>x</p></body></html>', "fr"),
    ("<html><body><article><p>" + "Le ministre et son homologue ont signé un accord de coopération pour la formation des jeunes dans le numérique. " * 3 + "</p></article></body></html>", "fr"),
    ("<html><body><article><p>" + "The minister and his counterpart signed a cooperation agreement on the training of young people in digital skills. " * 3 + "</p></article></body></html>", "en"),
])
def test_language(page: str, expected: str) -> None:
    assert extract_article(page, "https://l.example/a", None).language == expected


def test_guess_language_is_unsure_on_little_text() -> None:
    assert guess_language("Accord signé") is None
    assert guess_language("") is None


def test_canonical_url_resolved_and_checked() -> None:
    page = '<html><head><link rel="canonical" href="/fr/article/12"></head><body><h1>T</h1><p>x</p></body></html>'
    assert extract_article(page, "https://c.example/fr/article/12?utm_source=x", None).canonical_url == \
        "https://c.example/fr/article/12"
    page = '<html><head><link rel="canonical" href="javascript:alert(1)"></head><body><p>x</p></body></html>'
    assert extract_article(page, "https://c.example/a", None).canonical_url is None


def test_author_from_selector_meta_or_byline() -> None:
    sel = SimpleNamespace(title=None, body=".b", date=None, author=".auteur")
    page = '<span class="auteur">Par Awa Ndiaye</span><div class="b"><p>Texte de l’article.</p></div>'
    assert extract_article(page, "https://a.example/1", sel).author == "Awa Ndiaye"
    page = '<html><head><meta name="author" content="Chidi Okafor"></head><body><p>x</p></body></html>'
    assert extract_article(page, "https://a.example/2", None).author == "Chidi Okafor"
    page = '<div class="b"><p>Texte de l’article.</p><p>Par Jean Materne Zambo</p></div>'
    result = extract_article(page, "https://a.example/3", SimpleNamespace(title=None, body=".b", date=None, author=None))
    assert result.author == "Jean Materne Zambo"
    assert result.body == "Texte de l’article."


def test_body_selector_that_misses_falls_back_to_generic_extraction() -> None:
    page = ("<html><body><nav><a href='/'>Accueil</a></nav><article><h1>Titre</h1>"
            + "".join(f"<p>Paragraphe numéro {i} de l’article sur la coopération numérique entre deux pays.</p>" for i in range(6))
            + "</article><footer>© 2024 Tous droits réservés</footer></body></html>")
    sel = SimpleNamespace(title="h1", body=".td-post-content", date=None, author=None)
    result = extract_article(page, "https://g.example/a", sel)
    assert result.body.startswith("Paragraphe numéro 0")
    assert "Accueil" not in result.body and "droits" not in result.body


def test_nested_body_matches_are_not_repeated() -> None:
    page = '<div class="a"><div class="a"><p>Une fois.</p></div></div>'
    sel = SimpleNamespace(title=None, body=".a", date=None, author=None)
    assert extract_article(page, "https://n.example/a", sel).body == "Une fois."


@pytest.mark.parametrize("page", [b"", b"\x00\xff\xfe garbage \x89PNG", b"<<<>>>", "<div>" * 3000 + "fond",
                                  b"<html><body></body></html>"])
def test_odd_pages_never_raise(page: bytes | str) -> None:
    result = extract_article(page, "https://odd.example/a", SimpleNamespace(title="h1", body="p", date="time", author=None))
    assert isinstance(result.body, str) and isinstance(result.title, str)


def test_arabic_single_byte_page_is_detected_not_read_as_latin() -> None:
    text = "وقعت الإيسيسكو والمنظمة العربية لتكنولوجيات الاتصال والمعلومات اتفاقية تعاون في مجال الحوكمة الرقمية. "
    assert text.strip() in decode_html((text * 3).encode("cp1256"), None)
