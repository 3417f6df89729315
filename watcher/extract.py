"""Article pages -> title, clean body paragraphs, author, publication date, language and canonical URL.

Per-source CSS selectors (ArticleSelectors) are used when configured, otherwise trafilatura finds the
main text; either way `watcher.boilerplate.clean_paragraphs` is the last pass, so share prompts, comment
forms and related-article tails never reach the body. Bytes are decoded by HTTP charset, then
<meta charset>, then detection (Latin-1 is read as windows-1252, as browsers do). Tables (junk
selectors, block elements, language hints) live in watcher/data/extract.yaml.
"""

from __future__ import annotations

import codecs
import functools
import json
import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urljoin

import charset_normalizer
import lxml.etree
import lxml.html
import yaml
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag
from bs4.element import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction

from watcher.boilerplate import clean_paragraphs, find_byline
from watcher.sources.dates import from_timestamp, parse_date
from watcher.urls import is_fetchable

log = logging.getLogger(__name__)

# A page of a few bytes that look like a file name is still parsed as a page: bs4's advice is noise.
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)
_XML_DECLARATION = re.compile(r"\A[\s\ufeff]*<\?xml[^>]*>")

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_META_SCAN_BYTES = 4096
# Browsers read these labels as windows-1252, and so do real pages that declare them.
_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "ascii", "us-ascii", "iso_8859-1", "cp819"}
_LATIN_SINGLE_BYTE = frozenset(codecs.lookup(c).name for c in (
    "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9",
    "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16", "mac_roman", "mac_latin2",
    "cp850", "cp437", "cp858", "ascii"))
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_PARAGRAPH = "\x00"  # marks a block boundary while text is gathered; never in decoded HTML
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "meta", "link", "svg",
                        "iframe", "object", "embed", "button", "select", "textarea", "input", "form"})
_TITLE_SUFFIX = re.compile(r"\s+[|\-–—»:]\s+[^|\-–—»:]{2,40}$")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_DATE_META = ("article:published_time", "og:published_time", "datePublished", "date", "dc.date",
              "dc.date.issued", "dcterms.created", "pubdate", "publishdate", "sailthru.date")
_DATE_TEXT_MAX = 120
_AUTHOR_META = ("author", "article:author", "dc.creator", "sailthru.author", "byl")


@dataclass
class Extracted:
    """What an article page says about itself; `body` is clean paragraphs joined by blank lines."""

    title: str
    body: str
    author: str | None
    published: datetime | None
    language: str | None
    canonical_url: str | None


@cache
def _tables() -> dict[str, Any]:
    text = resources.files("watcher").joinpath("data/extract.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def _junk_selector() -> str:
    return ", ".join(_tables()["junk"])


@cache
def _blocks() -> frozenset[str]:
    return frozenset(_tables()["blocks"])


# --- decoding -----------------------------------------------------------------------------------

def decode_html(body: bytes, content_type: str | None = None) -> str:
    """`body` as text: BOM, then the HTTP header charset, then <meta charset>, then detection."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, errors="replace")
    declared = [_codec(m.group(1)) for m in [_HEADER_CHARSET.search(content_type or "")] if m]
    declared += [_codec(m.decode("ascii", "replace")) for m in _CHARSET.findall(body[:_META_SCAN_BYTES])[:1]]
    utf8 = _utf8_or_none(body)
    for encoding in filter(None, declared):
        if encoding in _LATIN_SINGLE_BYTE and utf8 is not None and not body.isascii():
            # A single-byte label on bytes that are valid UTF-8 with accents is a misconfigured server:
            # windows-1252 text almost never happens to be valid UTF-8.
            return utf8
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            if encoding == "utf-8" and (damaged := _mostly_utf8(body)) is not None:
                return damaged  # UTF-8 with a few broken bytes, not another code page
            continue  # a wrong label is common (windows-1252 bytes served as UTF-8): try the next clue
    if utf8 is not None:
        return utf8
    best = charset_normalizer.from_bytes(body).best()
    guess = _codec(best.encoding) if best is not None and best.encoding else None
    if guess and guess not in _LATIN_SINGLE_BYTE:
        return body.decode(guess, errors="replace")
    # Detectors cannot tell the Latin single-byte code pages apart on short French text (è reads as
    # č in windows-1250); French pages that are not UTF-8 are windows-1252 (or Latin-1, its subset).
    return body.decode("windows-1252", errors="replace")


def _mostly_utf8(body: bytes) -> str | None:
    """`body` as UTF-8 with U+FFFD for its broken bytes, when valid multi-byte sequences outnumber them.

    French windows-1252 text almost never forms a valid UTF-8 sequence (é is one byte followed by
    ASCII), so valid sequences mean UTF-8 that was damaged, not mislabelled.
    """
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - broken
    return text if valid > broken else None


def _utf8_or_none(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _codec(label: str) -> str | None:
    label = label.strip().strip("\"'").lower()
    if label in _AS_CP1252:
        return "cp1252"  # the codec name, as in _LATIN_SINGLE_BYTE
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def parse_html(text: str) -> BeautifulSoup:
    """`text` parsed as HTML (lxml), XHTML included: its XML declaration means nothing once decoded."""
    return BeautifulSoup(_XML_DECLARATION.sub("", text, count=1), "lxml")


# --- text gathering -----------------------------------------------------------------------------

def _split(parts: Iterable[str]) -> list[str]:
    """Paragraphs from gathered text: blocks split on the marker, lines kept, whitespace collapsed."""
    paragraphs = []
    for block in "".join(parts).split(_PARAGRAPH):
        lines = [" ".join(line.split()) for line in block.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            paragraphs.append(text)
    return paragraphs


def _flatten(text: str) -> str:
    # Source line breaks are spaces; "\n" is reserved for <br> (other whitespace is collapsed in _split).
    return text.replace("\n", " ").replace("\r", " ")


def soup_paragraphs(root: Tag) -> list[str]:
    """Paragraph texts of a parsed element: block elements end paragraphs, <br> ends a line."""
    blocks = _blocks()
    parts: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:  # iterative: deeply nested pages must not hit the recursion limit
        node, closing = stack.pop()
        if closing:
            parts.append(_PARAGRAPH)
        elif isinstance(node, NavigableString):
            if not isinstance(node, (Comment, Declaration, Doctype, ProcessingInstruction)):
                parts.append(_flatten(str(node)))
        elif isinstance(node, Tag) and node.name not in _SKIP_TAGS:
            if node.name == "br":
                parts.append("\n")
                continue
            if node.name in blocks:
                parts.append(_PARAGRAPH)
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    return _split(parts)


def _lxml_paragraphs(root: Any) -> list[str]:
    """soup_paragraphs for an lxml element (the fast path for feed content)."""
    blocks = _blocks()
    parts: list[str] = []
    stack: list[tuple[Any, str]] = [(root, "open")]
    while stack:
        element, phase = stack.pop()
        if phase == "tail":
            if element.tail:
                parts.append(_flatten(element.tail))
            continue
        if phase == "close":
            parts.append(_PARAGRAPH)
            continue
        if element is not root:
            stack.append((element, "tail"))
        tag = element.tag if isinstance(element.tag, str) else None  # comments have a function as tag
        if tag is None or tag in _SKIP_TAGS:
            continue
        if tag == "br":
            parts.append("\n")
            continue
        if tag in blocks:
            parts.append(_PARAGRAPH)
            stack.append((element, "close"))
        if element.text:
            parts.append(_flatten(element.text))
        stack.extend((child, "open") for child in reversed(element))
    return _split(parts)


def fragment_body(fragment: str | None) -> str:
    """Clean body text of an HTML fragment (a feed's content:encoded), paragraphs joined by blank lines.

    Uses lxml directly (no CSS, no trafilatura) because it runs once per feed entry on the cold path.
    """
    if not fragment or not fragment.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return ""
    return "\n\n".join(clean_paragraphs(_lxml_paragraphs(root)))


# --- article pages ------------------------------------------------------------------------------

def extract_article(html: str | bytes, url: str, selectors: Any | None = None,
                    content_type: str | None = None) -> Extracted:
    """Title, clean body, author, date, language and canonical URL of the article page at `url`.

    `selectors` is an ArticleSelectors (title, body, date, author CSS, each optional); what it does not
    give is found generically. Never raises on odd pages: missing parts come back empty or None.
    """
    text = html if isinstance(html, str) else decode_html(html, content_type)
    soup = parse_html(text)
    sel = {k: getattr(selectors, k, None) for k in ("title", "body", "date", "author")}
    title = _title(soup, sel["title"])
    published = _published(soup, sel["date"])
    author = _author(soup, sel["author"])
    canonical = _canonical(soup, url)
    language = _declared_language(soup)
    paragraphs = _body_paragraphs(soup, text, url, sel["body"])
    if not author:
        author = find_byline(paragraphs)
    paragraphs = clean_paragraphs(paragraphs)
    if paragraphs and title and _same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    body = "\n\n".join(paragraphs)
    return Extracted(title=title, body=body, author=author, published=published,
                     language=language or guess_language(body), canonical_url=canonical)


def _select(soup: Tag, selector: str | None, url_hint: str = "") -> list[Tag]:
    if not selector:
        return []
    try:
        return soup.select(selector)
    except Exception as exc:  # soupsieve raises SelectorSyntaxError; config checks selectors first
        log.warning("extract.bad_selector", extra={"selector": selector, "error": str(exc), "url": url_hint})
        return []


def _text_of(element: Tag | None) -> str:
    return " ".join(element.get_text(" ").split()) if element is not None else ""


def _meta(soup: Tag, *names: str) -> str | None:
    wanted = {n.lower() for n in names}
    for meta in soup.find_all("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in wanted and (meta.get("content") or "").strip():
            return meta["content"].strip()
    return None


def _title(soup: Tag, selector: str | None) -> str:
    for element in _select(soup, selector):
        text = _text_of(element)
        if text:
            return text
    og = _meta(soup, "og:title", "twitter:title")
    if og:
        return _without_site_name(" ".join(og.split()), _meta(soup, "og:site_name"))
    for scope in (soup.find("article"), soup.find("main"), soup):
        heading = scope.find("h1") if scope is not None else None
        if heading is not None and _text_of(heading):
            return _text_of(heading)
    page_title = _text_of(soup.find("title"))
    return _TITLE_SUFFIX.sub("", page_title) if page_title else ""


def _without_site_name(title: str, site: str | None) -> str:
    """"Title - ICESCO" -> "Title" when the page names its site (og:site_name)."""
    if site:
        for separator in (" - ", " | ", " – ", " — ", " » ", " : "):
            suffix = separator + " ".join(site.split())
            if title.endswith(suffix) and len(title) > len(suffix):
                return title[: -len(suffix)].rstrip()
    return title


def _date_of(element: Tag) -> datetime | None:
    for attribute in ("datetime", "content", "data-unixtime", "data-timestamp", "data-date", "title"):
        value = element.get(attribute)
        if isinstance(value, str) and value.strip():
            found = parse_date(value)
            if found:
                return found
    return parse_date(_text_of(element))


def _published(soup: Tag, selector: str | None) -> datetime | None:
    for element in _select(soup, selector):
        found = _date_of(element)
        if found:
            return found
    candidates: list[Any] = [_meta(soup, *_DATE_META)]
    candidates += [t.get("datetime") for t in soup.select("time[datetime]")[:1]]
    candidates += [_json_ld(soup, "datePublished")]
    for value in candidates:
        found = parse_date(value) if value else None
        if found:
            return found
    for element in soup.select("[data-unixtime]")[:1]:
        found = from_timestamp(float(element["data-unixtime"])) if element["data-unixtime"].isdigit() else None
        if found:
            return found
    for element in soup.select("[class*=date], [class*=Date], time")[:5]:
        text = _text_of(element)
        # A short label only: a container whose class says "update" must not lend a date from its text.
        found = parse_date(text) if len(text) <= _DATE_TEXT_MAX else None
        if found:
            return found
    return None


def _author(soup: Tag, selector: str | None) -> str | None:
    for element in _select(soup, selector):
        text = _text_of(element)
        if text:
            return re.sub(r"^(?:par|by)\s+", "", text, flags=re.IGNORECASE)
    meta = _meta(soup, *_AUTHOR_META)
    if meta and not is_fetchable(meta):
        return meta
    link = soup.select_one("a[rel~=author]")
    if link is not None and _text_of(link):
        return _text_of(link)
    name = _json_ld(soup, "author")
    return name if isinstance(name, str) and name.strip() else None


def _json_ld(soup: Tag, key: str) -> str | None:
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(script.string or "")
        except (ValueError, TypeError):
            continue
        for item in _walk_json(data):
            value = item.get(key)
            if isinstance(value, dict):
                value = value.get("name")
            if isinstance(value, list) and value:
                value = value[0].get("name") if isinstance(value[0], dict) else value[0]
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _walk_json(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _walk_json(value, depth + 1)
    elif isinstance(data, list):
        for value in data:
            yield from _walk_json(value, depth + 1)


def _canonical(soup: Tag, url: str) -> str | None:
    link = soup.select_one("link[rel~=canonical][href]")
    if link is None:
        return None
    try:
        resolved = urljoin(url, link["href"].strip())
    except ValueError:
        return None
    return resolved if is_fetchable(resolved) else None


def _declared_language(soup: Tag) -> str | None:
    html = soup.find("html")
    values = [html.get("lang") or html.get("xml:lang") if html is not None else None,
              _meta(soup, "content-language", "language", "og:locale", "dc.language")]
    for meta in soup.find_all("meta", attrs={"http-equiv": True}):
        if meta["http-equiv"].lower() == "content-language":
            values.append(meta.get("content"))
    for value in values:
        if isinstance(value, str) and value.strip():
            primary = re.split(r"[-_,; ]", value.strip().lower())[0]
            if re.fullmatch(r"[a-z]{2,3}", primary):
                return primary
    return None


@functools.cache
def _language_hints() -> dict[str, frozenset[str]]:
    return {lang: frozenset(hints) for lang, hints in _tables()["language_hints"].items()}


@functools.cache
def _hint_languages() -> dict[str, tuple[str, ...]]:
    """Hint word -> the languages it is a hint for."""
    languages: dict[str, tuple[str, ...]] = {}
    for lang, hints in _language_hints().items():
        for hint in hints:
            languages[hint] = languages.get(hint, ()) + (lang,)
    return languages


def guess_language(text: str) -> str | None:
    """A cheap guess from frequent short words (watcher/data/extract.yaml); None when unsure."""
    # Words never span whitespace, so the text is read chunk by chunk, each distinct chunk once (a
    # paragraph repeats "de", "la", "et"...), and only chunks with a non-letter go through the regex:
    # the regex over the whole text cost 4x more.
    hint_languages = _hint_languages()
    scores = dict.fromkeys(_language_hints(), 0)
    total = 0
    for chunk, count in Counter(text[:4000].split()).items():
        for word in (chunk,) if chunk.isalpha() else _WORD.findall(chunk):
            total += count
            for lang in hint_languages.get(word.lower(), ()):
                scores[lang] += count
    if total < 8:
        return None
    best = max(scores, key=lambda lang: scores[lang])
    ranked = sorted(scores.values(), reverse=True)
    return best if ranked[0] >= 3 and ranked[0] >= 2 * ranked[1] else None


def _body_paragraphs(soup: Tag, text: str, url: str, selector: str | None) -> list[str]:
    chosen = _outermost(_select(soup, selector, url))
    if chosen:
        paragraphs: list[str] = []
        for element in chosen:
            _drop_junk(element)
            paragraphs += soup_paragraphs(element)
        return paragraphs
    if selector:
        log.warning("extract.body_selector_missed", extra={"selector": selector, "url": url})
    generic = _trafilatura(text, url)
    if generic:
        return generic
    scope = soup.find("article") or soup.find("main") or soup.find("body") or soup
    _drop_junk(scope)
    return soup_paragraphs(scope)


def _outermost(elements: list[Tag]) -> list[Tag]:
    """Matched elements in document order, without those nested in another match (no text twice)."""
    chosen = set(map(id, elements))
    return [e for e in elements if not any(id(parent) in chosen for parent in e.parents)]


def _drop_junk(element: Tag) -> None:
    for junk in element.select(_junk_selector()):
        junk.decompose()


def _trafilatura(text: str, url: str) -> list[str]:
    import trafilatura  # imported on first use: ~25 MB that sites with selectors never need

    try:
        result = trafilatura.extract(text, url=url, output_format="txt", include_comments=False,
                                     include_tables=False, favor_precision=True, deduplicate=False)
    except Exception as exc:  # trafilatura's heuristics can fail on odd pages; fall back to plain text
        log.warning("extract.trafilatura_failed", extra={"url": url, "error": repr(exc)})
        return []
    return [line.strip() for line in (result or "").split("\n") if line.strip()]


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
