"""Site boilerplate removal: share prompts, comment forms, related-article tails, bylines and datelines.

The patterns are data (watcher/data/boilerplate.yaml, loaded once). `clean_paragraphs` is used for the
seed files and for text extracted from scraped pages, so the rules are anchored on whole lines: a line is
dropped when it IS boilerplate, never because it merely contains a word such as "commentaire".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

_SECTIONS = ("tail", "exact", "prefix", "regex", "strip_prefix", "bylines")
# Apostrophes, quotes and dashes that French sites use interchangeably.
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'",
                              "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})
_TRAILING_PUNCT = " :!.?…"


class BoilerplateDataError(ValueError):
    """The boilerplate pattern file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Patterns:
    """Compiled boilerplate rules (see watcher/data/boilerplate.yaml for what each kind means)."""

    tail: frozenset[str]
    exact: frozenset[str]
    prefix: tuple[str, ...]
    regex: tuple[re.Pattern[str], ...]
    strip_prefix: tuple[re.Pattern[str], ...]
    bylines: tuple[re.Pattern[str], ...]

    @functools.cached_property
    def _regex_plan(self) -> tuple[re.Pattern[str] | None, tuple[re.Pattern[str], ...]]:
        """The `regex` rules anchored at "^" merged into one pattern tried at the line start only
        (one scan per line instead of one per rule); the unanchored rules, searched one by one."""
        anchored = [rx for rx in self.regex if rx.pattern.startswith("^")]
        others = tuple(rx for rx in self.regex if not rx.pattern.startswith("^"))
        merged = re.compile("|".join(f"(?:{rx.pattern[1:]})" for rx in anchored)) if anchored else None
        return merged, others

    def _regex_hit(self, norm: str) -> bool:
        merged, others = self._regex_plan
        return bool(merged and merged.match(norm)) or any(rx.search(norm) for rx in others)

    def is_tail(self, line: str) -> bool:
        """True when `line` is a heading that starts the page tail ("Plus d'infos", "LAISSER UNE RÉPONSE")."""
        return _exact_key(line) in self.tail

    def is_boilerplate(self, line: str) -> bool:
        """True when `line` (one line of text) is site boilerplate to drop."""
        norm = normalize(line)
        if norm.rstrip(_TRAILING_PUNCT) in self.exact:
            return True
        # One C-level startswith over all prefixes first; the word-boundary check runs only on a hit.
        if norm.startswith(self.prefix) and any(_starts_with(norm, prefix) for prefix in self.prefix):
            return True
        if self._regex_hit(norm):
            return True
        return self.byline(line) is not None

    def byline(self, line: str) -> str | None:
        """The author's name when `line` is only a byline ("Par Jean Materne Zambo"), else None."""
        text = line.strip()
        for rx in self.bylines:
            match = rx.fullmatch(text)
            if match:
                return match.group("author")
        return None

    def strip_datelines(self, line: str) -> str:
        """`line` without leading agency datelines such as "(Agence Ecofin) - " (repeated ones too)."""
        previous = None
        while previous != line:
            previous = line
            for rx in self.strip_prefix:
                line = rx.sub("", line, count=1).lstrip()
        return line


def _combining_class(low: int, high: int) -> re.Pattern[str]:
    """One regex character class of every code point in [low, high) with a non-zero combining class."""
    ranges: list[list[int]] = []
    for cp in range(low, high):
        if not unicodedata.combining(chr(cp)):
            continue
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]")


# Regex passes instead of a per-character Python loop: normalize() runs on every line of every cold
# article, and the loop cost ~2 ms per 100 KB feed. Latin accents (U+0300-U+036F) take a small, fast
# class; the full class (slow: hundreds of ranges) only runs when other scripts are present.
_LATIN_MARKS = _combining_class(0x300, 0x370)
_OTHER_MARKS = _combining_class(0x370, 0x20000)
_BEYOND_LATIN = re.compile("[^\x00-\u036f]")
_APOSTROPHE_RE = re.compile("[" + "".join(chr(c) for c in _APOSTROPHES) + "]")


# clean_paragraphs asks up to four times about the same line, find_byline about the same page; a larger
# cache only holds on to old paragraphs (4,096 of them held ~6 MB through a poll cycle).
@functools.lru_cache(maxsize=512)
def normalize(text: str) -> str:
    """Matching form of `text`: NFKC, case folded, accents removed, apostrophes/dashes unified, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _APOSTROPHE_RE.sub(lambda m: _APOSTROPHES[ord(m.group())], text)
    if not text.isascii():
        text = _LATIN_MARKS.sub("", unicodedata.normalize("NFD", text))
        if _BEYOND_LATIN.search(text):
            text = _OTHER_MARKS.sub("", text)
    return squash(text)


def squash(text: str) -> str:
    """`text` with every run of whitespace (including no-break spaces) made one space, ends stripped."""
    # Most lines come already squashed (extract gathers paragraphs that way): a printable string has no
    # whitespace but the plain space, so two C scans tell, instead of rebuilding the line.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    # str.split() and the regex \s agree on what whitespace is (str.isspace); split/join is ~8x faster
    # than re.sub on a paragraph, where every single space is a match to replace.
    return " ".join(text.split())


def _exact_key(text: str) -> str:
    return normalize(text).rstrip(_TRAILING_PUNCT)


def _starts_with(norm: str, prefix: str) -> bool:
    # "Lire aussi" must not drop "Lire aussitôt ..."; a prefix ending in a symbol ("©") needs no boundary.
    if not norm.startswith(prefix):
        return False
    rest = norm[len(prefix):]
    return not rest or not prefix[-1].isalnum() or not rest[0].isalnum()


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _data_path() -> Path:
    return Path(str(resources.files("watcher") / "data" / "boilerplate.yaml"))


def _compile(path: Path, section: str, index: int, pattern: Any, flags: int = 0) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise BoilerplateDataError(f"{path}: {section}[{index}]: expected a string, got {pattern!r}")
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise BoilerplateDataError(f"{path}: {section}[{index}]: bad regular expression {pattern!r}: {exc}") from exc


def load_patterns(path: Path) -> Patterns:
    """Read and compile a boilerplate pattern file; raises BoilerplateDataError naming the bad entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BoilerplateDataError(f"{path}: cannot read boilerplate patterns: {exc}") from exc
    if not isinstance(data, dict):
        raise BoilerplateDataError(f"{path}: expected a mapping of {', '.join(_SECTIONS)}")
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise BoilerplateDataError(f"{path}: unknown section(s) {unknown}; expected {list(_SECTIONS)}")
    lists: dict[str, list[Any]] = {}
    for section in _SECTIONS:
        entries = data.get(section) or []
        if not isinstance(entries, list):
            raise BoilerplateDataError(f"{path}: {section}: expected a list")
        for index, entry in enumerate(entries):
            if not isinstance(entry, str) or not entry.strip():
                raise BoilerplateDataError(f"{path}: {section}[{index}]: expected a non-empty string, got {entry!r}")
        lists[section] = entries
    bylines = tuple(_compile(path, "bylines", i, p) for i, p in enumerate(lists["bylines"]))
    for index, rx in enumerate(bylines):
        if "author" not in rx.groupindex:
            raise BoilerplateDataError(f"{path}: bylines[{index}]: needs a named group (?P<author>...)")
    return Patterns(
        tail=frozenset(_exact_key(e) for e in lists["tail"]),
        exact=frozenset(_exact_key(e) for e in lists["exact"]),
        prefix=tuple(normalize(e) for e in lists["prefix"]),
        regex=tuple(_compile(path, "regex", i, p) for i, p in enumerate(lists["regex"])),
        strip_prefix=tuple(_compile(path, "strip_prefix", i, "^(?:" + p + ")", re.IGNORECASE)
                           for i, p in enumerate(lists["strip_prefix"])),
        bylines=bylines,
    )


@functools.cache
def patterns() -> Patterns:
    """The shipped patterns, loaded once per process."""
    return load_patterns(_data_path())


def _lines(paragraph: str | None, pats: Patterns) -> list[str]:
    """The non-empty lines of one paragraph, whitespace collapsed and agency datelines stripped."""
    lines = []
    for line in (paragraph or "").splitlines():
        line = squash(line)
        stripped = pats.strip_datelines(line)
        if stripped != line:  # a dateline went (rare): what is left may start with spaces
            line = squash(stripped)
        if line:
            lines.append(line)
    return lines


def _is_content(line: str, pats: Patterns) -> bool:
    return _has_word(line) and not pats.is_boilerplate(line)


def find_byline(paragraphs: list[str], pats: Patterns | None = None) -> str | None:
    """The author named by the first byline line ("Par Jean Materne Zambo") before the page tail, or None."""
    pats = pats or patterns()
    content_seen = False
    for paragraph in paragraphs:
        for line in _lines(paragraph, pats):
            if pats.is_tail(line) and content_seen:
                return None  # bylines in the related-articles tail belong to other articles
            author = pats.byline(line)
            if author:
                return author
            content_seen = content_seen or _is_content(line, pats)
    return None


def clean_paragraphs(paragraphs: list[str], pats: Patterns | None = None) -> list[str]:
    """Article paragraphs without site boilerplate.

    Each paragraph is judged line by line: leading agency datelines are stripped, whitespace collapsed,
    boilerplate lines dropped, and everything from a tail heading ("Plus d'infos", "Articles les plus
    récents", "LAISSER UNE RÉPONSE"...) on is cut, once some article text was kept (before that, a tail
    heading is a menu entry and only it goes). The surviving lines of a paragraph are joined with a space
    and judged again as a whole (a survey split over two lines is still a survey). Empty paragraphs,
    paragraphs without a letter or digit, and repeats (same normalised text) go. Cleaning the result
    again changes nothing.
    """
    pats = pats or patterns()
    cleaned: list[str] = []
    seen: set[str] = set()
    for paragraph in paragraphs:
        kept: list[str] = []
        at_tail = False
        for line in _lines(paragraph, pats):
            if pats.is_tail(line):
                if cleaned or kept:
                    at_tail = True
                    break
                continue
            if _is_content(line, pats):
                kept.append(line)
        text = " ".join(kept)
        # A paragraph of one kept line was judged as that line already (most article paragraphs).
        if len(kept) > 1 and pats.is_tail(text):
            at_tail = at_tail or bool(cleaned)
            text = ""
        if text and (len(kept) == 1 or not pats.is_boilerplate(text)):
            key = normalize(text)
            if key not in seen:
                seen.add(key)
                cleaned.append(text)
        if at_tail:
            break
    return cleaned
