"""The `feed` source kind: RSS 2.0, RSS 1.0/RDF, Atom and JSON Feed bodies -> normalised entries.

fastfeedparser reads the common case (about 100x faster); feedparser is the tolerant fallback for
anything the fast path rejects or reads short. Both parsers' output goes through the same normaliser,
so an Entry does not depend on which one ran. Safety: no entity is ever expanded and nothing external
is ever loaded (the DOCTYPE is cut before either parser sees the bytes), neither parser is ever given a
URL or a file name (both would open it), and HTML served in place of a feed is a ParseError.
"""

from __future__ import annotations

import html
import html.entities
import io
import logging
import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin

import fastfeedparser
import fastfeedparser.main

from watcher.sources import SourceKind
from watcher.sources.dates import parse_date
from watcher.sources.entry import Entry, Listing, ParseError
from watcher.urls import canonical_url, is_fetchable

log = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"
# Byte order marks, or the first two characters "<?" without one, of the wide Unicode encodings.
_WIDE = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xfe\xff", "utf-16-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"))
_WIDE_DECLARATION = re.compile(rb"\A(\s*<\?xml[^>]*encoding=[\"'])[A-Za-z0-9_-]+([\"'])")
_DECLARED_ENCODING = re.compile(rb"\A\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9_.:-]+)[\"']")
_CHARSET_PARAM = re.compile(r";\s*charset\s*=[^;]*", re.IGNORECASE)
# The prolog up to and including a DOCTYPE (with its internal subset): entity definitions live there.
_DOCTYPE = re.compile(
    rb"\A(\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*)*)<!DOCTYPE\b(?:[^\[>\"']+|\"[^\"]*\"|'[^']*')*(?:\[.*?\]\s*)?>",
    re.IGNORECASE | re.DOTALL)
# The first element name after the prolog (XML declaration, comments, DOCTYPE, processing instructions).
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w:.-]*)")
_SKIP_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<![^>]*>)", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_NUMERIC_REFERENCE = rb"#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};"
_SUSPECT_REFERENCE = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);|" + _NUMERIC_REFERENCE + rb")")
# group 1: a named reference; no group: a bare ampersand (what follows is not a valid reference).
_REFERENCE = re.compile(rb"&(?:([A-Za-z][A-Za-z0-9]*);|(?!" + _NUMERIC_REFERENCE + rb"))")
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}
_EMAIL = r"[^\s@()<>]+@[^\s@()<>]+"
_EMAIL_AND_NAME = re.compile(rf"{_EMAIL}\s*\((?P<name1>[^()]+)\)|(?P<name2>[^()<>]+?)\s*[(<]{_EMAIL}[)>]")
_COUNTED_TAGS = re.compile(rb"<(item|entry|description|summary)[\s>/]")
_SNIFF_BYTES = 4096
MAX_ENTRIES = 20_000
# Length of the summary made from the content when a feed gives none.
_EXCERPT_CHARS = 300


class FeedKind(SourceKind):
    """A syndication feed at the source URL; entries may carry their full content."""

    name = "feed"

    @classmethod
    def parse_listing(cls, body: bytes, url: str, content_type: str | None, source: Any) -> Listing:
        return parse_feed(body, url, content_type, source=getattr(source, "name", None))


def parse_feed(body: bytes, url: str, content_type: str | None = None, *, source: str | None = None,
               parser: str = "auto") -> Listing:
    """Entries of the feed `body` fetched from `url`; raises ParseError naming `url` when it is no feed.

    `parser` forces one path ("fastfeedparser" or "feedparser"; tests and benchmarks compare them).
    """
    body = _ascii_compatible(body)
    body, content_type = _as_utf8(body, content_type)
    kind = _sniff(body)
    if kind == "empty":
        raise ParseError(url, "empty body where a feed was expected")
    if kind == "html":
        served = f" (served as {content_type})" if content_type else ""
        raise ParseError(url, f"an HTML page{served} was served where a feed was expected")
    if kind == "xml":
        body = _repair_references(_DOCTYPE.sub(rb"\1", body, count=1))
    listing = Listing()
    items, descriptions = _tag_counts(body) if kind == "xml" else (0, 0)
    raw_entries, listing.parser = _parse(body, url, content_type, kind, listing.warnings, parser, items)
    # Every entry has its own description (the channel may have one more): none was made up.
    may_synthesize = kind == "json" or descriptions < len(raw_entries)
    listing.entries = _normalise_all(raw_entries, url, listing.warnings, listing.parser, may_synthesize)
    if listing.warnings:
        count = len(listing.warnings)
        listing.cap_warnings()
        log.warning("feed.warnings", extra={"source": source, "url": url, "count": count, "first": listing.warnings[0]})
    return listing


def _repair_references(body: bytes) -> bytes:
    """Bare "&" escaped, HTML named references (&nbsp;, &eacute;) made numeric, unknown ones (&lol9;) removed.

    With the DOCTYPE cut, XML knows only the five predefined entities, and a bare "&" is not XML at all:
    lxml's recovering parser drops the rest of a text at either ("Titre&nbsp;fin" -> "Titre",
    "?id=1&ref=rss" -> "?id=1=rss") while feedparser keeps them raw. Repaired bytes read the same in
    both. Inside CDATA the rewrite changes nothing an HTML reader would see. Only documents that hold
    such a reference pay for it.
    """
    if not _SUSPECT_REFERENCE.search(body):
        return body

    def replace(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if name is None:
            return b"&amp;"
        if name in _XML_ENTITIES:
            return match.group(0)
        codepoint = html.entities.name2codepoint.get(name.decode("ascii"))
        return b"&#%d;" % codepoint if codepoint else b""

    return _REFERENCE.sub(replace, body)


def _ascii_compatible(body: bytes) -> bytes:
    """`body` without a UTF-8 byte order mark; UTF-16 and UTF-32 documents re-encoded as UTF-8.

    Everything after this reads the bytes as ASCII-compatible (sniffing, reference repair).
    """
    if body.startswith(_BOM):
        return body[len(_BOM):]
    for marks, encoding in _WIDE:
        if body.startswith(marks):
            text = body.decode(encoding, errors="replace").lstrip("\ufeff")
            return _WIDE_DECLARATION.sub(b"\\1utf-8\\2", text.encode("utf-8"), count=1)
    return body


def _as_utf8(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """Non-ASCII bytes as UTF-8, with the XML declaration and the content type saying so.

    Servers mislabel feeds as they mislabel pages (windows-1252 bytes declared UTF-8, UTF-8 declared
    ISO-8859-1), and both parsers trust the label: U+FFFD or mojibake in every accented title. The
    label (HTTP charset, else the XML declaration) is weighed against the bytes by the same rules as
    article pages (`watcher.extract.decode_html`). Valid UTF-8 labelled UTF-8, the common case, costs one
    decode and no copy.
    """
    if body.isascii():
        return body, content_type
    header = re.search(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", content_type or "", re.IGNORECASE)
    declared = _DECLARED_ENCODING.match(body)
    label = header.group(1) if header else (declared.group(1).decode("ascii") if declared else "utf-8")
    if label.lower().replace("_", "-") in ("utf-8", "utf8"):
        try:
            body.decode("utf-8")
            return body, content_type
        except UnicodeDecodeError:
            pass
    from watcher.extract import decode_html  # only for the rare feed whose label or bytes are off

    text = decode_html(body, f"text/xml; charset={label}")
    utf8 = text.encode("utf-8")
    if declared:
        utf8 = _WIDE_DECLARATION.sub(b"\\1utf-8\\2", utf8, count=1)
    return utf8, _CHARSET_PARAM.sub("", content_type or "application/xml") + "; charset=utf-8"


def _sniff(body: bytes) -> str:
    """"empty", "json", "html" or "xml", from the first bytes only."""
    head = body[:_SNIFF_BYTES].lstrip()
    if not head:
        return "empty"
    if head[:1] in (b"{", b"["):
        return "json"
    position = 0
    while True:
        skipped = _SKIP_PROLOG.match(head, position)
        if not skipped or skipped.end() == position:
            break
        declaration = skipped.group(0).lstrip().lower()
        if declaration.startswith(b"<!doctype") and b"html" in declaration[9:20]:
            return "html"
        position = skipped.end()
    first = _FIRST_ELEMENT.search(head, position)
    if first and first.group(1).lower() in (b"html", b"head", b"body"):
        return "html"
    return "xml"


def _tag_counts(body: bytes) -> tuple[int, int]:
    """(item/entry start tags, description/summary start tags): one regex pass, about 50 us per 100 KB.

    The first notices a parser that came back with fewer entries than the document holds; the second
    tells whether fastfeedparser may have made descriptions up (see _summary_and_content).
    """
    items = descriptions = 0
    for name in _COUNTED_TAGS.findall(body):
        if name in (b"item", b"entry"):
            items += 1
        else:
            descriptions += 1
    return items, descriptions


def _parse(body: bytes, url: str, content_type: str | None, kind: str,
           warnings: list[str], force: str, expected: int) -> tuple[list[dict[str, Any]], str]:
    fast_entries: list[dict[str, Any]] | None = None
    reason: str | None = "feedparser forced"
    if force != "feedparser":
        try:
            fast_entries = list(fastfeedparser.parse(body).get("entries") or [])
            reason = None
        except Exception as exc:  # the fast path may reject anything: that is what the fallback is for
            reason = f"{type(exc).__name__}: {exc}"
    if force == "fastfeedparser":
        if fast_entries is None:
            raise ParseError(url, f"not a readable feed ({_short(reason)})")
        return fast_entries, "fastfeedparser"
    if kind == "json":
        if fast_entries is None:
            raise ParseError(url, f"invalid JSON feed ({_short(reason)})")
        return fast_entries, "fastfeedparser"
    if fast_entries is not None and len(fast_entries) >= expected:
        return fast_entries, "fastfeedparser"
    if reason is None:
        reason = f"fast parser read {len(fast_entries or [])} of {expected} items"
    try:
        slow_entries, bozo = _parse_slow(body, url, content_type)
    except ParseError:
        if fast_entries is None:
            raise
        return fast_entries, "fastfeedparser"  # short is better than nothing
    if fast_entries is not None and len(fast_entries) > len(slow_entries):
        return fast_entries, "fastfeedparser"
    if not slow_entries and fast_entries is None:
        raise ParseError(url, f"not a readable feed ({_short(reason)}; {_short(bozo)})")
    if bozo:
        warnings.append(f"malformed feed, {len(slow_entries)} entries recovered ({_short(bozo)})")
    return slow_entries, "feedparser"


def _parse_slow(body: bytes, url: str, content_type: str | None) -> tuple[list[dict[str, Any]], str | None]:
    import feedparser  # imported on first use: the fallback is rare, its ~10 MB need not be resident

    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        # A stream, never bytes or str: feedparser opens a str that looks like a URL or a file name.
        result = feedparser.parse(io.BytesIO(body), response_headers=headers,
                                  sanitize_html=False, resolve_relative_uris=False)
    except (RecursionError, MemoryError) as exc:
        raise ParseError(url, f"feed too deeply nested or too large ({type(exc).__name__})") from exc
    except Exception as exc:  # feedparser's loose parser can fail in many ways on garbage
        raise ParseError(url, f"not a readable feed ({type(exc).__name__}: {_short(str(exc))})") from exc
    bozo = result.get("bozo_exception") if result.get("bozo") else None
    return list(result.get("entries") or []), (f"{type(bozo).__name__}: {bozo}" if bozo else None)


def _short(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _normalise_all(raw_entries: list[dict[str, Any]], feed_url: str, warnings: list[str],
                   parser: str, may_synthesize: bool) -> list[Entry]:
    entries: list[Entry] = []
    seen: set[str] = set()
    if len(raw_entries) > MAX_ENTRIES:
        # Feeds list the newest first; past this many, a feed is an archive dump or an attack.
        warnings.append(f"feed has {len(raw_entries)} entries: only the first {MAX_ENTRIES} are read")
        raw_entries = raw_entries[:MAX_ENTRIES]
    for position, raw in enumerate(raw_entries, 1):
        entry = _normalise(raw, feed_url, position, warnings, parser, may_synthesize)
        if entry is None:
            continue
        keys = {"url:" + canonical_url(entry.url), "guid:" + (entry.guid or entry.url)}
        if keys & seen:
            warnings.append(f"duplicate entry {position} ({entry.url}) dropped")
            continue
        seen |= keys
        entries.append(entry)
    return entries


def _get(raw: dict[str, Any], key: str) -> Any:
    # dict.get, not raw.get: feedparser's dict answers "updated" with "published" and the like.
    return dict.get(raw, key)


def _normalise(raw: dict[str, Any], feed_url: str, position: int, warnings: list[str],
               parser: str, may_synthesize: bool = True) -> Entry | None:
    guid = _clean(_get(raw, "id") or _get(raw, "guid")) or None
    title = _text(_get(raw, "title"))
    url = _entry_url(raw, guid, feed_url)
    label = f"entry {position}" + (f" {title[:60]!r}" if title else "")
    if url is None or not is_fetchable(url):
        shown = f" (link {_short(url, 80)!r})" if url else ""
        warnings.append(f"{label} has no http(s) link{shown}: skipped")
        return None
    summary, content = _summary_and_content(raw, parser, may_synthesize)
    published = _date(raw, "published")
    updated = _date(raw, "updated")
    # feedparser copies a lone date into both fields and fastfeedparser does not: `updated` is kept
    # only when it says something `published` does not.
    published = published or updated
    updated = updated if updated != published else None
    return Entry(
        url=url,
        # A feed without guids: the link is the identity (fastfeedparser does this itself).
        guid=guid or url,
        title=title,
        summary=summary,
        content=content,
        published=published,
        updated=updated,
        author=_author(raw),
        categories=_categories(raw),
    )


def _entry_url(raw: dict[str, Any], guid: str | None, feed_url: str) -> str | None:
    link = _clean(_get(raw, "link"))
    if not link:
        for candidate in _get(raw, "links") or []:
            if isinstance(candidate, dict) and candidate.get("rel", "alternate") == "alternate":
                link = _clean(candidate.get("href"))
                if link:
                    break
    if link and link == guid and not is_fetchable(link):
        link = ""  # feedparser copies a permalink guid into link even when it is no URL
    if not link and guid and is_fetchable(guid):
        link = guid
    if not link:
        return None
    if link.startswith(("https://", "http://")):
        return link  # the common case; urljoin costs more than the rest of an entry
    try:
        return urljoin(feed_url, link)
    except ValueError:
        return link


def _summary_and_content(raw: dict[str, Any], parser: str,
                         may_synthesize: bool = True) -> tuple[str | None, str | None]:
    """The feed's own summary (plain text) and full content (HTML), whichever parser read them.

    The parsers fill gaps in opposite ways: fastfeedparser copies an RSS description into `content`
    and makes a description from the content; feedparser copies the content into `summary`. Those
    copies are undone here, then a missing summary becomes an excerpt of the content for both.
    """
    summary = _clean(_get(raw, "summary") or _get(raw, "description")) or None
    values = [c.get("value") for c in _get(raw, "content") or [] if isinstance(c, dict)]
    values = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    content = max(values, key=len) if values else None
    if parser == "fastfeedparser":
        if content is not None and content == summary:
            content = None
        elif content is not None and summary is not None and may_synthesize and summary == _fast_synthesized(raw):
            summary = None
    elif content is not None and content == summary:
        summary = None
    text = _text(summary)
    if not text and content is not None:
        text = _excerpt(_text(content))
    return text or None, content


def _fast_synthesized(raw: dict[str, Any]) -> str | None:
    """The description fastfeedparser makes from an entry's content when the feed gives none."""
    synthesize = getattr(fastfeedparser.main, "_synthesize_entry_description", None)
    if synthesize is None:
        return None
    probe = fastfeedparser.main.FastFeedParserDict(content=_get(raw, "content"))
    try:
        synthesize(probe)
    except Exception:  # a private helper: if it changes, only summaries of content-only entries differ
        return None
    return probe.get("description")


def _excerpt(text: str, limit: int = _EXCERPT_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip() + " …"


def _date(raw: dict[str, Any], key: str) -> datetime | None:
    value = parse_date(_clean(_get(raw, key)) or None)
    if value is None:
        parsed = _get(raw, f"{key}_parsed")
        if parsed:
            try:
                value = datetime(*parsed[:6], tzinfo=timezone.utc)
            except (TypeError, ValueError):
                value = None
    return value


def _author(raw: dict[str, Any]) -> str | None:
    """The author's name: "Name", "mail@x (Name)" and "Name (mail@x)" all give Name."""
    detail = _get(raw, "author_detail")
    author = _text(detail.get("name") if isinstance(detail, dict) else None) or _text(_get(raw, "author"))
    named = _EMAIL_AND_NAME.fullmatch(author)
    if named:
        author = (named.group("name1") or named.group("name2") or "").strip()
    return author or None


def _categories(raw: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in _get(raw, "tags") or []:
        term = _text(tag.get("term") if isinstance(tag, dict) else tag)
        if term:
            seen.setdefault(term, None)
    return list(seen)


def _clean(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _text(value: Any) -> str:
    """Plain text of a feed string that may hold markup or entities, whitespace collapsed."""
    if not isinstance(value, str):
        return ""
    if "<" in value:
        value = _TAG.sub(" ", value)
    if "&" in value:
        value = html.unescape(value)
    return " ".join(value.split())
