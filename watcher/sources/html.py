"""The `html` source kind: a listing page read with CSS selectors -> article links and the next page.

`links` selects the article links (an <a>, or an element holding one), `next` the link to the next
listing page; the pipeline follows `next_url` up to the source's `max_pages`. Links are resolved
against the page (or its <base href>), non-http(s) links are dropped, duplicates removed.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from watcher.extract import decode_html, parse_html
from watcher.sources import SourceKind
from watcher.sources.entry import Entry, Listing, ParseError
from watcher.urls import canonical_url, is_fetchable

log = logging.getLogger(__name__)


class HtmlKind(SourceKind):
    """A web page listing articles, with CSS selectors from the source config."""

    name = "html"

    @classmethod
    def parse_listing(cls, body: bytes, url: str, content_type: str | None, source: Any) -> Listing:
        links = getattr(source, "links", None)
        if not links:
            raise ParseError(url, "html source has no `links` selector for its article links")
        return parse_html_listing(body, url, content_type, links=links, next_selector=getattr(source, "next", None),
                                  source=getattr(source, "name", None))


def parse_html_listing(body: bytes, url: str, content_type: str | None, *, links: str,
                       next_selector: str | None = None, source: str | None = None) -> Listing:
    """Entries (url, title = anchor text) for the `links` matches of the listing page `body` from `url`."""
    text = decode_html(body, content_type)
    if not text.strip():
        raise ParseError(url, "empty body where a listing page was expected")
    soup = parse_html(text)
    base = _base(soup, url)
    listing = Listing(parser="html")
    matches = _select(soup, links, url)
    seen: set[str] = set()
    for position, match in enumerate(matches, 1):
        anchor = _anchor(match)
        href = (anchor.get("href") or "").strip() if anchor is not None else ""
        if not href:
            listing.warnings.append(f"link {position} matched by {links!r} has no href: skipped")
            continue
        target = _resolve(base, href)
        if target is None or not is_fetchable(target):
            listing.warnings.append(f"link {position} {href[:80]!r} is not an http(s) URL: skipped")
            continue
        key = canonical_url(target)
        if key in seen:
            continue
        seen.add(key)
        title = " ".join(anchor.get_text(" ").split()) or (anchor.get("title") or "").strip()
        listing.entries.append(Entry(url=target, guid=target, title=title))
    if not listing.entries:
        raise ParseError(url, f"the links selector {links!r} matched no article links on the listing page")
    listing.next_url = _next_url(soup, base, url, next_selector)
    if listing.warnings:
        count = len(listing.warnings)
        listing.cap_warnings()
        log.warning("listing.warnings", extra={"source": source, "url": url, "count": count, "first": listing.warnings[0]})
    return listing


def _select(soup: BeautifulSoup, selector: str, url: str) -> list[Tag]:
    try:
        return soup.select(selector)
    except Exception as exc:  # soupsieve's SelectorSyntaxError and friends
        raise ParseError(url, f"bad CSS selector {selector!r}: {exc}") from exc


def _anchor(element: Tag) -> Tag | None:
    if element.name == "a" and element.get("href"):
        return element
    found = element.find("a", href=True)
    return found if isinstance(found, Tag) else None


def _base(soup: BeautifulSoup, url: str) -> str:
    tag = soup.find("base", href=True)
    resolved = _resolve(url, tag["href"].strip()) if isinstance(tag, Tag) else None
    return resolved if resolved and is_fetchable(resolved) else url


def _resolve(base: str, href: str) -> str | None:
    try:
        return urljoin(base, href).split("#", 1)[0]
    except ValueError:
        return None


def _next_url(soup: BeautifulSoup, base: str, url: str, selector: str | None) -> str | None:
    if not selector:
        return None
    for match in _select(soup, selector, url):
        anchor = _anchor(match)
        target = _resolve(base, anchor["href"].strip()) if anchor is not None else None
        if target and is_fetchable(target) and canonical_url(target) != canonical_url(url):
            return target
    return None
