"""The web view over HTTP (watcher.web on the daemon's server): pages, filters, escaping, 404s, access
rules, the Atom feed (parsed back with feedparser and checked against RFC 4287) and the CSV export."""

from __future__ import annotations

import base64
import csv
import io
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import pytest

from tests.support.stories import T0, add_story, agreement, alert
from watcher import web
from watcher.config import ConfigError, load_config
from watcher.http import HttpServer, health_handler
from watcher.store import open_store
from watcher.store.models import Source
from watcher.web import pages

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = '<script>alert("x")</script> & <b>Tunisie</b>\x0b\x1f'
TOKEN = "s3cret-token-0123456789"
CONFIG = """
store: {{url: "{url}"}}
sources:
  - {{name: dba, kind: feed, url: "https://dba.example/feed/"}}
  - {{name: ecofin, kind: feed, url: "https://ecofin.example/rss"}}
  - {{name: icesco, kind: feed, url: "https://icesco.example/rss"}}
subscriptions:
  - {{name: tunisie, any: [Tunisie]}}
  - {{name: "égypte et IA", any: [Égypte]}}
  - {{name: quiet, any: [Mongolie]}}
{extra}
"""
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def write_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "watcher.yaml"
    path.write_text(CONFIG.format(url=url, extra=extra), encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path: Path, store_url: str) -> Iterator[dict[str, Any]]:
    """A store with five stories (one hostile), the sources' health, and a server with the web view."""
    config = load_config(write_config(tmp_path, store_url), env={})
    store = open_store(store_url)
    with store.session() as s:
        tn = add_story(s, "La Tunisie et la Corée signent un MoU sur la cybersécurité", copies=["dba", "ecofin"],
                       days=3, agreement_=agreement(["Tunisia", "Korea, Republic of"], ["cybersecurity"]),
                       body="Le ministre tunisien a signé à Tunis un protocole sur l'intelligence artificielle.")
        eg = add_story(s, "L'Égypte et l'ICESCO : partenariat numérique", copies=["icesco"], days=2,
                       agreement_=agreement(["Egypt", "ICESCO"], ["digital_skills", "ai"], "partnership",
                                            summary="=HYPERLINK(\"http://evil.example\") L'ICESCO forme."))
        bad = add_story(s, HOSTILE, copies=["ecofin"], days=1,
                        agreement_=agreement(["Tunisia"], ["telecoms"], summary=HOSTILE))
        plain = add_story(s, "Sans accord extrait", copies=["dba", "dba"], days=0)
        s.flush()
        plain.articles[1].url = "javascript:alert(document.cookie)"  # a hostile feed's link
        add_story(s, "Match de football", copies=["dba"], days=4, status="ignored")
        alert(s, tn, "tunisie", T0 + timedelta(days=3, hours=1))
        alert(s, tn, "tunisie", T0 + timedelta(days=3, hours=1), notifier="mail")
        alert(s, bad, "tunisie", T0 + timedelta(days=1, hours=1))
        alert(s, eg, "égypte et IA", T0 + timedelta(days=2, hours=1))
        s.add(Source(name="dba", kind="feed", url="https://dba.example/feed/", created_at=T0, enabled=True,
                     last_polled_at=T0, last_success_at=T0, consecutive_failures=0))
        s.add(Source(name="ecofin", kind="feed", url="https://ecofin.example/rss", created_at=T0, enabled=True,
                     last_polled_at=T0, consecutive_failures=3, last_error="https://ecofin.example/rss: HTTP 503 <b>busy</b>"))
    yield from _serve(store, config, "127.0.0.1")
    store.close()


def _serve(store: Any, config: Any, host: str) -> Iterator[dict[str, Any]]:
    server = HttpServer("127.0.0.1", 0)  # always loopback here; `host` is what the web view is told
    server.route("/healthz", health_handler(lambda: {"status": "ok"}))
    web.mount(server, store, lambda: config, host)
    server.start()
    try:
        yield {"base": f"http://127.0.0.1:{server.address[1]}", "store": store, "config": config}
    finally:
        server.stop()


def get(base: str, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(base + path, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8")


def story_titles(html: str) -> list[str]:
    return re.findall(r'<div class="title"><a href="/stories/\d+">(.*?)</a>', html)


# ---- pages ---------------------------------------------------------------------------------------

def test_index_lists_stories_with_agreements_and_escapes_titles(site: dict[str, Any]) -> None:
    status, headers, html = get(site["base"], "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<script" not in html and "http://" not in html.split("</style>")[0]  # no script, no CDN
    assert len(story_titles(html)) == 4  # the ignored story is not listed
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Tunisie&lt;/b&gt;" in html
    first = html.split('<li>')[1]
    assert "Tunisia" in first and "Korea, Republic of" in first and ">protocole d&#39;accord<" in first
    assert "dba, ecofin" in first and "2 copies" in first and "2025-03-04" in first
    assert 'href="/feeds/tunisie.atom"' in html and 'href="/feeds/%C3%A9gypte%20et%20IA.atom"' in html


def test_filters(site: dict[str, Any]) -> None:
    base = site["base"]
    tunisia = story_titles(get(base, "/?party=tunisie")[2])
    assert len(tunisia) == 2 and "La Tunisie" in tunisia[0]
    assert len(story_titles(get(base, "/?party=Tunisia&domain=cybers%C3%A9curit%C3%A9")[2])) == 1
    assert story_titles(get(base, "/?source=icesco")[2]) == ["L&#39;Égypte et l&#39;ICESCO : partenariat numérique"]
    assert len(story_titles(get(base, "/?subscription=tunisie")[2])) == 2
    assert story_titles(get(base, "/?q=EGYPTE")[2]) == story_titles(get(base, "/?source=icesco")[2])
    assert len(story_titles(get(base, "/?q=%22intelligence+artificielle%22")[2])) == 1  # in a body
    assert len(story_titles(get(base, "/?since=2025-03-04")[2])) == 1
    status, _, html = get(base, "/?party=Atlantide")
    assert status == 200 and "Atlantide" in html and story_titles(html) == []
    status, _, html = get(base, "/?since=hier")
    assert status == 400 and "since" in html and "hier" in html
    status, _, html = get(base, "/?q=%22unbalanced")
    assert status == 400 and "unbalanced double quote" in html


def test_pages_and_form_keep_filters(site: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "PER_PAGE", 2)
    first = get(site["base"], "/?party=&source=")[2]
    assert len(story_titles(first)) == 2 and 'href="/?page=2"' in first and 'rel="prev"' not in first
    second = get(site["base"], "/?page=2")[2]
    assert len(story_titles(second)) == 2 and 'href="/"' in second and 'rel="next"' not in second
    assert set(story_titles(first)).isdisjoint(story_titles(second))
    filtered = get(site["base"], "/?party=tunisie&q=tunisie")[2]
    assert 'value="tunisie"' in filtered and "/agreements.csv?party=tunisie&amp;q=tunisie" in filtered


def test_story_page_has_every_copy_and_the_agreement(site: dict[str, Any]) -> None:
    index = get(site["base"], "/")[2]
    ids = re.findall(r'href="/stories/(\d+)"', index)
    status, _, html = get(site["base"], f"/stories/{ids[0]}")
    assert status == 200 and html.count("<tr>") == 3  # header + two copies
    assert "https://dba.example/" in html and "https://ecofin.example/" in html
    assert "Korea, Republic of" in html and "Les deux pays ont signé un accord." in html
    assert 'href="/?subscription=tunisie"' in html
    hostile = get(site["base"], f"/stories/{ids[2]}")[2]
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile
    plain = get(site["base"], f"/stories/{ids[3]}")[2]
    assert 'href="javascript:' not in plain and "javascript:alert(document.cookie)" in plain  # shown, not linked
    for path in ("/stories/999999", "/stories/abc", "/stories", "/nowhere"):
        assert get(site["base"], path)[0] == 404, path


def test_sources_page_shows_health(site: dict[str, Any]) -> None:
    status, _, html = get(site["base"], "/sources")
    assert status == 200
    assert "1 en échec : ecofin" in html and "HTTP 503 &lt;b&gt;busy&lt;/b&gt;" in html
    assert "https://ecofin.example/rss:" not in html  # the URL prefix of the error is dropped
    assert '<td class="failing">failing (3)</td>' in html and "2025-03-01 12:00" in html


def test_read_only_methods(site: dict[str, Any]) -> None:
    assert get(site["base"], "/", method="POST")[0] == 405
    status, headers, body = get(site["base"], "/", method="HEAD")
    assert status == 200 and body == "" and int(headers["Content-Length"]) > 0


# ---- the Atom feed -------------------------------------------------------------------------------

def test_atom_feed_parses_back_and_has_what_rfc_4287_requires(site: dict[str, Any]) -> None:
    status, headers, text = get(site["base"], "/feeds/tunisie.atom")
    assert status == 200 and headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(text)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and parsed.feed.title == "Cooperation Watcher : tunisie"
    assert [e.title for e in parsed.entries] == ["La Tunisie et la Corée signent un MoU sur la cybersécurité",
                                                 HOSTILE[:-2]]  # one entry per story; control chars dropped
    first = parsed.entries[0]
    assert first.id.startswith("urn:uuid:") and first.link == site["base"] + "/stories/" + first.link.split("/")[-1]
    assert any(link.rel == "related" and link.href.startswith("https://dba.example/") for link in first.links)
    assert "Tunisia" in first.summary and "Les deux pays ont signé un accord." in first.summary
    _check_rfc4287(ElementTree.fromstring(text.encode("utf-8")), site["base"] + "/feeds/tunisie.atom")
    again = feedparser.parse(get(site["base"], "/feeds/tunisie.atom")[2])
    assert [e.id for e in again.entries] == [e.id for e in parsed.entries]  # stable ids


def _check_rfc4287(feed: ElementTree.Element, self_url: str) -> None:
    """The elements RFC 4287 requires (section 4.1.1 and 4.1.2), each exactly once, with valid values."""
    assert feed.tag == ATOM + "feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(ATOM + name)) == 1, name
    assert RFC3339.match(feed.findtext(ATOM + "updated") or "")
    assert re.match(r"^(tag|urn):", feed.findtext(ATOM + "id") or "")
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    assert [link.get("href") for link in feed.findall(ATOM + "link") if link.get("rel") == "self"] == [self_url]
    entries = feed.findall(ATOM + "entry")
    assert entries
    ids = [e.findtext(ATOM + "id") for e in entries]
    assert len(set(ids)) == len(ids)
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(ATOM + name)) == 1, name
        assert RFC3339.match(entry.findtext(ATOM + "updated") or "")
        alternates = [link for link in entry.findall(ATOM + "link") if link.get("rel", "alternate") == "alternate"]
        assert len(alternates) == 1 and alternates[0].get("href", "").startswith("http")
        assert (entry.findtext(ATOM + "summary") or "").strip()


def test_feed_of_unicode_name_empty_feed_and_unknown_subscription(site: dict[str, Any]) -> None:
    status, _, text = get(site["base"], "/feeds/%C3%A9gypte%20et%20IA.atom")
    parsed = feedparser.parse(text)
    assert status == 200 and not parsed.bozo and len(parsed.entries) == 1
    assert "%C3%A9gypte%20et%20IA.atom" in next(link.href for link in parsed.feed.links if link.rel == "self")
    quiet = get(site["base"], "/feeds/quiet.atom")
    assert quiet[0] == 200 and not feedparser.parse(quiet[2]).bozo and feedparser.parse(quiet[2]).entries == []
    _check_feed_head(ElementTree.fromstring(quiet[2].encode("utf-8")))
    for path in ("/feeds/nobody.atom", "/feeds/tunisie", "/feeds/tunisie.rss", "/feeds/a/b.atom"):
        assert get(site["base"], path)[0] == 404, path


def _check_feed_head(feed: ElementTree.Element) -> None:
    for name in ("id", "title", "updated"):
        assert len(feed.findall(ATOM + name)) == 1


def test_feed_links_follow_the_proxy(site: dict[str, Any]) -> None:
    text = get(site["base"], "/feeds/tunisie.atom", {"X-Forwarded-Proto": "https", "Host": "watch.example.org"})[2]
    parsed = feedparser.parse(text)
    assert parsed.entries[0].link.startswith("https://watch.example.org/stories/")


# ---- CSV export ----------------------------------------------------------------------------------

def test_agreements_csv_parses_back(site: dict[str, Any]) -> None:
    status, headers, text = get(site["base"], "/agreements.csv")
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3  # stories with an agreement; not the one without, not the ignored one
    first = rows[0]
    assert first["parties"] == "Tunisia; Korea, Republic of" and first["instrument"] == "mou"
    assert first["domains"] == "cybersecurity" and first["copies"] == "2" and first["sources"] == "dba; ecofin"
    assert first["party_kinds"] == "Tunisia=country; Korea, Republic of=country"
    egypt = next(r for r in rows if "ICESCO" in r["parties"])
    assert egypt["summary"].startswith("'=HYPERLINK")  # a formula is neutralised for spreadsheets
    filtered = list(csv.DictReader(io.StringIO(get(site["base"], "/agreements.csv?party=%C3%A9gypte")[2])))
    assert [r["parties"] for r in filtered] == ["Egypt; ICESCO"]
    empty = get(site["base"], "/agreements.csv?party=Atlantide")[2]
    assert empty.splitlines()[0].startswith("id,date,title") and len(empty.splitlines()) == 1
    assert get(site["base"], "/agreements.csv?since=later")[0] == 400


# ---- access --------------------------------------------------------------------------------------

@pytest.fixture
def exposed(tmp_path: Path, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Iterator[dict[str, Any]]:
    """The web view told it is bound to 0.0.0.0, with or without a token (the test's parameter)."""
    url = f"sqlite:///{tmp_path}/watcher.db"
    token = request.param
    extra = 'web: {token: "${WATCHER_WEB_TOKEN:-}"}'
    config = load_config(write_config(tmp_path, url, extra), env={"WATCHER_WEB_TOKEN": token} if token else {})
    store = open_store(url)
    caplog.set_level(logging.INFO, logger="watcher")
    yield from _serve(store, config, "0.0.0.0")
    store.close()


@pytest.mark.parametrize("exposed", [None], indirect=True)
def test_elsewhere_than_loopback_without_token_refuses(exposed: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    for path in ("/", "/stories/1", "/sources", "/feeds/tunisie.atom", "/agreements.csv"):
        status, _, body = get(exposed["base"], path)
        assert status == 403 and "not a loopback address" in body and "web" in body, path
    assert get(exposed["base"], "/healthz")[0] == 200
    warned = [r for r in caplog.get_records("setup") if r.getMessage() == "web.refused"]
    assert warned and warned[0].levelno == logging.WARNING and warned[0].host == "0.0.0.0"


@pytest.mark.parametrize("exposed", [TOKEN], indirect=True)
def test_elsewhere_than_loopback_needs_the_token(exposed: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    base = exposed["base"]
    status, headers, _ = get(base, "/")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
    basic = lambda user, password: "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()  # noqa: E731
    assert get(base, "/", {"Authorization": basic("analyst", "wrong-token-0123456789")})[0] == 401
    assert get(base, "/", {"Authorization": "Bearer nope"})[0] == 401
    assert get(base, "/", {"Authorization": "Basic %%%"})[0] == 401
    assert get(base, "/", {"Authorization": basic("analyst", TOKEN)})[0] == 200
    assert get(base, "/feeds/tunisie.atom", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert get(base, "/healthz")[0] == 200
    records = caplog.get_records("setup") + caplog.records
    assert [r for r in records if r.getMessage() == "web.token_required"]
    assert not [r for r in records if r.getMessage() == "web.refused"]
    assert all(TOKEN not in r.getMessage() + str(vars(r)) for r in records)


def test_loopback_addresses() -> None:
    from watcher.web.auth import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.0.2.7", "example.org", ""))


def test_web_config_is_validated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/watcher.db"
    path = write_config(tmp_path, url, 'web:\n  token: "short"\n')
    with pytest.raises(ConfigError) as short:
        load_config(path, env={})
    assert any(re.search(r"watcher\.yaml:\d+ web\.token: a web token needs at least 16", e) for e in short.value.errors)
    assert "short" not in str(short.value).split("web.token")[1].split("characters")[0]
    path = write_config(tmp_path, url, 'web: {tokn: x}\n')
    with pytest.raises(ConfigError) as unknown:
        load_config(path, env={})
    assert any("web.tokn: unknown key" in e for e in unknown.value.errors)
    path = write_config(tmp_path, url, 'web: {token: "${WATCHER_WEB_TOKEN:-}", base_url: "https://w.example/"}\n')
    config = load_config(path, env={})
    assert config.web.token is None and config.web.base_url == "https://w.example"
    assert load_config(path, env={"WATCHER_WEB_TOKEN": TOKEN}).web.token == TOKEN
