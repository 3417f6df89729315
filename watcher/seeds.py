"""Seed files: parse seeds/*.txt (plain-text scrapes) into clean SeedArticle records (pure, no store).

A seed file is an optional header line ` date YYYY-MM[ URL]` or ` date YYYY-MM (Agence Ecofin) - text...`
(the text is then the first body paragraph), followed by the page text, one paragraph per line, with site
boilerplate around it. Decisions, so that a reader can check them against the golden files in
tests/data/seeds/:

* Source: the URL host when it names a known site, else the first site marker in the raw text
  (watcher/data/seed_parsing.yaml). Only what the SITE writes counts (its dateline, its page furniture);
  an article that names ICESCO as a party is not an ICESCO page. Nothing found -> "unknown".
* Date (aware UTC, midnight): the publication date printed on the page next to the headline (a line that
  is only a date, or Sputnik's teaser "... 23.07.2023, Sputnik Afrique"), else a date in the URL path,
  else a date the text gives as "this" day ("tenue ce mardi 23 janvier 2024": written that week), else
  the header month (first day of the month). Dates of events ("le 09 juin 2019") are not publication
  dates and are ignored. An exact date that contradicts the header month is ignored with a warning.
  `date_basis` records which rule decided ("dateline", "url", "text", "header") or None without a date.
* Title: the first paragraph when it reads as a headline (no final full stop, at most 200 characters),
  else a title derived from the first sentence, cut at a word boundary (header-with-text seeds such as
  Agence Ecofin always derive it: their text starts with the body).
* Body: paragraphs cleaned by watcher.boilerplate, joined by a blank line. Sentences glued without a
  space ("la 5G.Cet engagement") get the space back; see `unglue`.
* A byline line ("Par Jean Materne Zambo") becomes `author` and leaves the body.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from watcher.boilerplate import clean_paragraphs, find_byline, normalize, squash

log = logging.getLogger(__name__)

_HEADER = re.compile(r"^\s*date\s+(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:\s+(.*?))?\s*$", re.IGNORECASE)
_URL = re.compile(r"^https?://\S+", re.IGNORECASE)
_TEASER_DATE = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}),\s*sputnik\b")
_URL_DATES = (re.compile(r"/(\d{4})(\d{2})(\d{2})/"), re.compile(r"/(\d{4})/(\d{2})/(\d{2})/"))
_DOT_GLUE = re.compile(r"(?<![\w.@/])(\w+)\.(?=(\w)(\w))")
_NEXT_WORD = re.compile(r"[^\s,;:!?»)\]]+")
_SENTENCE_END = re.compile(r"[.!?…]+[»\"”)]?\s+")
_BODY_LIKE_CHARS = 200  # a paragraph this long ending a sentence is article text: the page header is over
_HEADER_REGION_MAX = 12  # paragraphs scanned for the printed publication date
_HEADLINE_MAX = 200


class SeedError(Exception):
    """A seed file that cannot be imported (empty, binary, undecodable, no article text)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass
class SeedArticle:
    """One parsed seed: what `watcher seed` stores as an article."""

    name: str  # file stem
    url: str | None
    source: str  # config source name, or "unknown"
    published_at: datetime | None  # aware UTC
    title: str
    body: str  # clean paragraphs joined by "\n\n"
    guid: str  # "seed:<file stem>", stable across imports
    author: str | None = None
    date_basis: str | None = None  # "dateline" | "url" | "text" | "header" | None


@dataclass(frozen=True)
class _Rules:
    hosts: tuple[tuple[re.Pattern[str], str], ...]
    markers: tuple[tuple[re.Pattern[str], str], ...]
    months: dict[str, int]
    standalone_date: re.Pattern[str]
    this_day: re.Pattern[str]
    abbreviations: frozenset[str]
    glue: re.Pattern[str] | None
    title_max: int
    dangling: frozenset[str]


def _rules_path() -> Path:
    return Path(str(resources.files("watcher") / "data" / "seed_parsing.yaml"))


def _pairs(path: Path, key: str, entries: Any) -> tuple[tuple[re.Pattern[str], str], ...]:
    pairs = []
    for index, entry in enumerate(entries or []):
        try:
            pairs.append((re.compile(entry["pattern"]), str(entry["source"])))
        except (TypeError, KeyError, re.error) as exc:
            raise ValueError(f"{path}: sources.{key}[{index}]: expected {{pattern, source}}: {exc}") from exc
    return tuple(pairs)


def load_rules(path: Path) -> _Rules:
    """Read the seed parsing rules; a malformed file raises ValueError naming it."""
    try:
        return _build_rules(path, yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, AttributeError, TypeError, ValueError, re.error) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path}: malformed seed parsing rules: {exc}") from exc


def _build_rules(path: Path, data: dict[str, Any]) -> _Rules:
    sources = data.get("sources") or {}
    months = {normalize(str(k)): int(v) for k, v in (data.get("months") or {}).items()}
    month_alt = "|".join(sorted(map(re.escape, months), key=len, reverse=True))
    weekday_alt = "|".join(map(re.escape, (normalize(d) for d in data.get("weekdays") or [])))
    day_month_year = rf"(\d{{1,2}})(?:er)?\s+({month_alt})\s+(\d{{4}})"
    glue_words = [str(w) for w in data.get("glue_words") or []]
    glue_alts = [re.escape(w) + (r"(?=\w)" if w[-1] in "'’" else r"(?=\s)") for w in glue_words]
    return _Rules(
        hosts=_pairs(path, "hosts", sources.get("hosts")),
        markers=_pairs(path, "markers", sources.get("markers")),
        months=months,
        standalone_date=re.compile(rf"(?:(?:{weekday_alt})\s+)?(?:le\s+)?{day_month_year}"),
        this_day=re.compile(rf"\bce\s+(?:{weekday_alt})\s+{day_month_year}"),
        abbreviations=frozenset(str(a) for a in data.get("abbreviations") or []),
        glue=re.compile(r"(?<=[a-zß-öø-ÿœæ]{3})(?=(?:" + "|".join(glue_alts) + "))") if glue_alts else None,
        title_max=int(data.get("title_max", 110)),
        dangling=frozenset(normalize(str(w)) for w in data.get("title_dangling_words") or []),
    )


@functools.cache
def rules() -> _Rules:
    """The shipped seed parsing rules, loaded once per process."""
    return load_rules(_rules_path())


# --- reading -------------------------------------------------------------------------------------------

def read_text(path: Path) -> str:
    """The decoded text of a seed file: UTF-8 (BOM allowed), UTF-16 with a BOM, else Windows-1252/Latin-1.

    Raises SeedError for an unreadable, empty, binary (NUL or control bytes) or undecodable file.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SeedError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise SeedError(path, "empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode(path, data, "utf-16")
    elif b"\x00" in data:
        raise SeedError(path, "binary file (contains NUL bytes)")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            # Old exports are Windows-1252 (a superset of Latin-1's printable range); bytes it leaves
            # undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) mean the file is not text in either encoding.
            text = _decode(path, data, "cp1252", utf8_error=exc)
            log.warning("seed.not_utf8", extra={"file": str(path), "encoding": "cp1252"})
    bad = next((ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v"), None)
    if bad is not None:
        raise SeedError(path, f"binary file (control character U+{ord(bad):04X})")
    if not text.strip():
        raise SeedError(path, "empty file")
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _decode(path: Path, data: bytes, encoding: str, utf8_error: UnicodeDecodeError | None = None) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        first = utf8_error or exc
        raise SeedError(path, f"undecodable: not UTF-8 (byte 0x{data[first.start]:02x} at offset {first.start})"
                              f" nor {encoding}") from exc


# --- text helpers ----------------------------------------------------------------------------------------

def _dot_glue(match: re.Match[str]) -> str:
    token, first, second = match.group(1), match.group(2), match.group(3)
    # "5G.Cet", "juillet.La", "2022.Les": a sentence end. "M.Dupont", "U.S.A", "3.5", "a.B" are not,
    # nor a dotted name whose next part has another dot ("www.Example.com").
    next_word = _NEXT_WORD.match(match.string, match.end())
    dotted = next_word is not None and "." in next_word.group(0).rstrip(".")
    if (len(token) >= 2 and any(c.islower() or c.isdigit() for c in token) and first.isupper()
            and second.islower() and not dotted):
        return token + ". "
    return match.group(0)


def unglue(text: str) -> str:
    """Put back the space between sentences a scraper glued together.

    Conservative on purpose: "word.Capital" (a word of two or more characters with a lower-case letter or a
    digit, then a full stop, then a capitalised word) gets a space; single-letter abbreviations ("M.Dupont"),
    dotted names (www.Site, U.S.A) and numbers are left alone. An intertitle glued to the next sentence
    ("diplomatieLe numérique") is split only before a French function word from the data file, so names
    like "AlMalik" or "WhatsApp" are never touched. No full stop is invented.
    """
    text = _DOT_GLUE.sub(_dot_glue, text)
    glue = rules().glue
    return glue.sub(" ", text) if glue else text


def first_sentence(text: str) -> str:
    """The first sentence of `text` (abbreviations such as "M." or "Dr." do not end a sentence)."""
    abbreviations = rules().abbreviations
    for match in _SENTENCE_END.finditer(text):
        after = text[match.end():match.end() + 1]
        if not after or not (after.isupper() or after.isdigit() or after in "«\"“("):
            continue
        words = text[:match.start()].split()
        last = words[-1].strip("(«\"“") if words else ""
        if last in abbreviations or (len(last) == 1 and last.isupper()):
            continue
        return text[:match.end()].strip()
    return text.strip()


def derive_title(paragraph: str) -> str:
    """A title from the first sentence of `paragraph`, cut at a word boundary to the configured length."""
    r = rules()
    sentence = first_sentence(paragraph).rstrip(" .")
    if len(sentence) <= r.title_max:
        return sentence
    words = sentence[:r.title_max].split()
    if len(sentence) > r.title_max and not sentence[r.title_max].isspace():
        words = words[:-1]  # the last word was cut in the middle
    while len(words) > 1 and normalize(words[-1].strip(",;:")) in r.dangling:
        words.pop()
    return " ".join(words).rstrip(",;:-–— ") + "…"


def _is_headline(paragraph: str) -> bool:
    return len(paragraph) <= _HEADLINE_MAX and len(paragraph.split()) >= 2 and not paragraph.endswith((".", ",", ";", ":"))


def detect_source(url: str | None, raw_text: str) -> str:
    """The config source name for a seed: from the URL host, else from a site marker in the raw text."""
    r = rules()
    host = (urlsplit(url).hostname or "") if url else ""
    for pattern, source in r.hosts:
        if host and pattern.search(host):
            return source
    norm = normalize(raw_text)
    for pattern, source in r.markers:
        if pattern.search(norm):
            return source
    return "unknown"


# --- dates -----------------------------------------------------------------------------------------------

def _day(year: int, month: int, day: int) -> datetime | None:
    try:
        return datetime(year, month, day, tzinfo=timezone.utc)
    except ValueError:
        return None


def _dateline_date(paragraphs: list[str]) -> datetime | None:
    """The publication date printed in the page header (before the first paragraph of article text)."""
    r = rules()
    for paragraph in paragraphs[:_HEADER_REGION_MAX]:
        norm = normalize(paragraph)
        match = r.standalone_date.fullmatch(norm)
        if match:
            return _day(int(match.group(3)), r.months[match.group(2)], int(match.group(1)))
        match = _TEASER_DATE.search(norm)
        if match:
            return _day(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        if len(paragraph) >= _BODY_LIKE_CHARS and paragraph.rstrip().endswith((".", "!", "?", "»", "\"", "”")):
            break
    return None


def _url_date(url: str | None) -> datetime | None:
    path = urlsplit(url).path if url else ""
    for pattern in _URL_DATES:
        match = pattern.search(path)
        if match:
            return _day(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return None


def _this_day_date(body: str) -> datetime | None:
    r = rules()
    match = r.this_day.search(normalize(body))
    return _day(int(match.group(3)), r.months[match.group(2)], int(match.group(1))) if match else None


def _choose_date(name: str, header: datetime | None, header_has_day: bool,
                 candidates: list[tuple[str, datetime | None]]) -> tuple[datetime | None, str | None]:
    for basis, when in candidates:
        if when is None:
            continue
        if header is not None and (when.year, when.month) != (header.year, header.month):
            log.warning("seed.date_mismatch", extra={"seed": name, "basis": basis, "found": when.date().isoformat(),
                                                     "header": header.date().isoformat()})
            continue
        if header is not None and header_has_day and when != header:
            continue  # the header already gives the exact day
        return when, basis
    return (header, "header") if header is not None else (None, None)


# --- parsing ---------------------------------------------------------------------------------------------

def parse_seed(path: Path) -> SeedArticle:
    """Parse one seed file; raises SeedError naming the file when it cannot be imported."""
    path = Path(path)
    return parse_text(path, read_text(path))


def parse_text(path: Path, text: str) -> SeedArticle:
    """Parse decoded seed text (`path` names the seed: its stem is the seed name, errors cite it)."""
    path = Path(path)
    name = path.stem
    lines = text.split("\n")
    header_date: datetime | None = None
    header_has_day = False
    url: str | None = None
    lead: str | None = None  # body text carried on the header line (Agence Ecofin form)
    match = _HEADER.match(lines[0]) if lines else None
    if match:
        lines = lines[1:]
        year, month, day, rest = int(match.group(1)), int(match.group(2)), match.group(3), match.group(4) or ""
        header_has_day = day is not None
        header_date = _day(year, month, int(day) if day else 1)
        if header_date is None:
            log.warning("seed.bad_header_date", extra={"seed": name, "file": str(path), "line": 1})
        url_match = _URL.match(rest)
        if url_match:
            url = url_match.group(0)
            rest = rest[url_match.end():]
        lead = squash(rest) or None
    raw = ([lead] if lead else []) + [squash(line) for line in lines if squash(line)]

    paragraphs = [unglue(p) for p in clean_paragraphs(raw)]
    if not paragraphs:
        raise SeedError(path, "no article text after removing site boilerplate")
    if lead is None and _is_headline(paragraphs[0]):
        title, body_paragraphs = paragraphs[0], paragraphs[1:]
    else:
        title, body_paragraphs = derive_title(paragraphs[0]), paragraphs
    if not body_paragraphs:
        raise SeedError(path, "headline only, no article text after removing site boilerplate")
    body = "\n\n".join(body_paragraphs)

    published_at, basis = _choose_date(name, header_date, header_has_day, [
        ("dateline", _dateline_date(raw)),
        ("url", _url_date(url)),
        ("text", _this_day_date(body)),
    ])
    return SeedArticle(
        name=name,
        url=url,
        source=detect_source(url, text),
        published_at=published_at,
        title=title,
        body=body,
        guid=f"seed:{name}",
        author=find_byline(raw),
        date_basis=basis,
    )


def iter_seeds(directory: Path) -> Iterator[SeedArticle | SeedError]:
    """Every seed in `directory` (regular, non-hidden files, sorted by name): its SeedArticle, or the
    SeedError of a file that cannot be imported, so the caller can warn with the file name and go on.

    Raises SeedError when `directory` itself is missing or not a directory.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SeedError(directory, "seed directory not found")
    for path in sorted((p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")),
                       key=lambda p: p.name):
        try:
            yield parse_seed(path)
        except SeedError as exc:
            yield exc
