"""Property: whatever bytes arrive, SourceKind.parse_listing returns a Listing or raises ParseError.

Random bytes and mutations of the real fixture feeds (truncation, byte flips, hostile snippets such as
DOCTYPEs, entity references, CDATA ends and stray tags, deleted and repeated slices) go through both kinds.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watcher.sources import Listing, ParseError, get_kind
from watcher.urls import is_fetchable

# Mutations put "<?xml" processing instructions mid-page; bs4 then warns that XML is parsed as HTML.
pytestmark = pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning")
DATA = Path(__file__).parent / "data"
SEEDS = sorted([p.read_bytes() for p in (DATA / "feeds").iterdir() if p.suffix in (".xml", ".json")]
               + [p.read_bytes() for p in (DATA / "sites").glob("*/www/**/*") if p.is_file() and
                  (p.suffix == ".xml" or p.name == "telecom-rss")], key=len)
SNIPPETS = [b"<!DOCTYPE rss [<!ENTITY a \"aaaa\">]>", b"&a;", b"&nbsp;", b"&#0;", b"&#xD800;", b"]]>", b"<![CDATA[",
            b"<item>", b"</item>", b"<entry>", b"<link>javascript:alert(1)</link>", b"<link>/rel</link>",
            b"<?xml version='1.0' encoding='utf-16'?>", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00", b"<html>",
            b"<rdf:RDF>", b"{\"items\":[", b"<![CDATA[<script>", b"<guid>", b"\xc3\x28", b"<!--", b"<pubDate>99 Foo 99999</pubDate>"]
FEED = SimpleNamespace(name="fuzz", kind="feed")
HTML = SimpleNamespace(name="fuzz", kind="html", links="article h3 a, a", next="a.next", max_pages=2)
URL = "https://fuzz.example.org/feed/"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _check(body: bytes, source: SimpleNamespace, content_type: str | None) -> None:
    try:
        listing = get_kind(source.kind).parse_listing(body, URL, content_type, source)
    except ParseError as exc:
        assert exc.url == URL and URL in str(exc)
        return
    assert isinstance(listing, Listing)
    for entry in listing.entries:
        assert is_fetchable(entry.url), entry.url
        assert isinstance(entry.title, str)
        assert entry.published is None or entry.published.tzinfo is not None
    assert listing.next_url is None or is_fetchable(listing.next_url)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not body:
            break
        at = draw(st.integers(0, len(body)))
        action = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "repeat"]))
        if action == "truncate":
            del body[at:]
        elif action == "flip" and at < len(body):
            body[at] = draw(st.integers(0, 255))
        elif action == "insert":
            body[at:at] = draw(st.sampled_from(SNIPPETS) | st.binary(max_size=16))
        elif action == "delete":
            del body[at:at + draw(st.integers(1, 400))]
        else:
            body[at:at] = body[at:at + draw(st.integers(1, 2000))] * draw(st.integers(1, 3))
    return bytes(body)


CONTENT_TYPES = st.sampled_from([None, "application/rss+xml", "text/xml; charset=iso-8859-1", "text/html",
                                 "application/feed+json", "text/html; charset=bogus-charset"])


@FUZZ
@given(body=st.binary(max_size=3000), content_type=CONTENT_TYPES)
def test_random_bytes_feed(body: bytes, content_type: str | None) -> None:
    _check(body, FEED, content_type)


@FUZZ
@given(body=mutated(), content_type=CONTENT_TYPES)
def test_mutated_feeds(body: bytes, content_type: str | None) -> None:
    _check(body, FEED, content_type)


@FUZZ
@given(body=st.one_of(st.binary(max_size=3000), mutated()), content_type=CONTENT_TYPES)
def test_random_and_mutated_listing_pages(body: bytes, content_type: str | None) -> None:
    _check(body, HTML, content_type)


@FUZZ
@given(text=st.text(max_size=400))
def test_random_text_wrapped_as_a_feed(text: str) -> None:
    body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item><title>{text}</title>'
            f"<link>{text}</link><guid>{text}</guid><pubDate>{text}</pubDate><description>{text}</description>"
            "</item></channel></rss>").encode("utf-8", "surrogatepass")
    _check(body, FEED, "application/rss+xml")
