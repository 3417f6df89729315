"""Agreement extraction: who agreed with whom on what, and when, read from a story's title and body.

For each relevant story the extractor gives (see `Agreement`): the parties (states, their ministries and
organisations, by canonical English name), the instrument (mou | agreement | convention | partnership |
declaration | programme), the domains, the date of signature when the text states it, and a summary
sentence taken from the text. The gazetteer (watcher/data/gazetteer.yaml) and the patterns
(watcher/data/agreements.yaml) are data; this module only applies them.

How parties are chosen. Articles name more states than take part (the venue, a comparison, a
programme's funder), so every mention gets a weight from its role in its sentence, and an entity is a
party when its weights add up to PARTY_MIN (and to at least PARTY_SHARE of the best-scored entity):

- 3: in the title, after "entre"/"between" ("la coopération entre l'Iran et le Mali"), or the subject
  of a verb of agreeing ("le Kenya et l'Inde ont signé");
- 2: the voice of a state ("le ministre malien", "l'ambassadeur des USA"), or in the first sentence;
- 1: any other mention;
- 0: a venue ("tenue à Marrakech, au Royaume du Maroc", "le 9 juin 2019, au Japon") or background
  ("comme au Maroc l'an dernier", "relevant de la Ligue arabe").

So a country named once in passing is never a party, and one named in the title always is. A ministry
("le ministère tunisien des TIC" -> "Ministry of ICT (Tunisia)") is a party when its country is.

Text goes through watcher.text (fold, elision, tokens) and term keys through watcher.matching.parse_term,
so "l'Égypte", "d’Égypte" and "EGYPTE" are the same word here as in subscriptions. Positions matter
(roles depend on the neighbouring words), which TermSet does not report, so the terms go into one
Aho-Corasick automaton whose hits keep their word offsets; overlapping hits resolve to the longest
("Guinée-Bissau" over "Guinée", "Soudan du Sud" over "Soudan"). Acronyms are matched case-sensitively
on the raw sentence ("AU" is the African Union, "au" a French word). Cost (bench/agreements_bench.py):
0.5-0.7 ms for a typical article, ~3 ms for a 5 KB one; loading the data ~0.15 s once per process.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import ahocorasick
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watcher.matching import TermError, parse_term
from watcher.seeds import first_sentence
from watcher.text import fold, token_string, tokens

log = logging.getLogger(__name__)

__all__ = [
    "Agreement", "AgreementDataError", "INSTRUMENTS", "VERSION", "demonym_forms", "domain_label", "domains",
    "extract", "instrument_label", "load", "refresh", "resolve_domain", "resolve_party",
]

# Bump when the gazetteer, the patterns or the rules change: refresh() re-extracts older agreements.
VERSION = 1

INSTRUMENTS = ("mou", "agreement", "convention", "partnership", "declaration", "programme")

# Party weights (see the module docstring).
W_STRONG, W_ACTOR, W_LEAD, W_PLAIN = 3, 2, 2, 1
SUBJECT_SPAN = 12  # "A et B ont signé": words between a party and the verb whose subject it is
PARTY_MIN = 3
PARTY_SHARE = 0.25
BETWEEN_SKIP = 4  # unknown words tolerated between "entre" and a party, or between two parties (names)
VENUE_LOOKBACK = 8  # words before "à/au/en X" searched for a venue cue ("tenue", "signé", "forum"...)
ACTOR_GAP = 3  # "le ministre [des Affaires] malien", "l'ambassadeur des USA"
CONTEXT_GAP = 3  # "comme au Maroc", "à l'instar du Sénégal"
MAX_SENTENCES = 80  # parties, domains and dates come from the start of an article; long tails are noise
INSTRUMENT_WEIGHTS = {"title": 3, "signing": 2, "plain": 1}

_ARTICLE_RE = re.compile(r"^(?:la|le|les|the)\s+", re.IGNORECASE)  # "la Tunisie", as a user types it
_MINISTRY_RE = re.compile(r"^\s*ministry of (.+?)\s*\((.+)\)\s*$", re.IGNORECASE)


class AgreementDataError(ValueError):
    """A gazetteer or pattern file that cannot be used; the message names the file and the entry."""


@dataclass
class Agreement:
    """What a story says was agreed: the shape stored in Story.agreement (see to_dict)."""

    parties: list[str] = field(default_factory=list)
    party_kinds: dict[str, str] = field(default_factory=dict)  # name -> country | organisation | ministry
    instrument: str | None = None
    domains: list[str] = field(default_factory=list)
    signed_on: date | None = None
    summary: str = ""
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "parties": list(self.parties),
            "party_kinds": dict(self.party_kinds),
            "instrument": self.instrument,
            "domains": list(self.domains),
            "signed_on": self.signed_on.isoformat() if self.signed_on else None,
            "summary": self.summary,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Agreement:
        signed = data.get("signed_on")
        return cls(parties=list(data.get("parties") or []), party_kinds=dict(data.get("party_kinds") or {}),
                   instrument=data.get("instrument"), domains=list(data.get("domains") or []),
                   signed_on=date.fromisoformat(signed) if signed else None, summary=data.get("summary") or "",
                   version=int(data.get("version") or 0))


# --------------------------------------------------------------------------------------------------
# Data: the gazetteer and the patterns, compiled once per process.


@dataclass(frozen=True)
class _Entity:
    name: str
    kind: str  # country | organisation


@dataclass(frozen=True)
class _Hit:
    """A term found in a sentence: words [start, end) of its token string, and what the term means."""

    start: int
    end: int
    group: str  # party | block | instrument | domain | cue | head | portfolio
    value: Any  # party: (_Entity, form); cue: cue kind; instrument/domain/portfolio: id or label


class _Lexicon:
    """Terms of several groups in one automaton; `find` returns hits with word offsets, longest first.

    Keys come from matching.parse_term, so a term means here what it means in a subscription.
    Case-sensitive acronyms are a separate regular expression over the raw text.
    """

    def __init__(self) -> None:
        self._automaton = ahocorasick.Automaton()
        self._values: dict[str, list[tuple[str, Any]]] = {}
        self._acronyms: dict[str, list[tuple[str, Any]]] = {}
        self._acronym_re: re.Pattern[str] | None = None
        self.word_acronyms: frozenset[str] = frozenset()  # also words ("UN", "AU"): unreliable in capitals

    def add(self, group: str, term: str, value: Any, where: str = "") -> str:
        try:
            key = parse_term(term).key
        except TermError as exc:
            raise AgreementDataError(f"{where}: {exc}") from None
        values = self._values.setdefault(key, [])
        if (group, value) not in values:  # "télécoms" and "telecoms" are one key
            values.append((group, value))
        return key

    def add_acronym(self, group: str, acronym: str, value: Any) -> None:
        self._acronyms.setdefault(acronym, []).append((group, value))

    def compile(self) -> None:
        for key, values in self._values.items():
            self._automaton.add_word(key, (key.count(" ") - 1, tuple(values)))
        self._automaton.make_automaton()
        if self._acronyms:
            alternatives = "|".join(re.escape(a) for a in sorted(self._acronyms, key=len, reverse=True))
            # Not inside a word, not glued to a hyphenated compound ("AUDA-NEPAD" is one acronym).
            self._acronym_re = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")

    def find(self, doc: str, raw: str) -> list[_Hit]:
        """Hits in a sentence: `doc` is its token string, `raw` its text (for acronyms)."""
        hits: list[_Hit] = []
        if len(doc) > 2:
            for end_char, (nwords, values) in self._automaton.iter(doc):
                hits.extend(self._hits_at(doc, end_char, nwords, values))
        if self._acronym_re is not None and raw:
            shouting: bool | None = None  # computed on the first acronym that is also a word
            for m in self._acronym_re.finditer(raw):
                if m.group() in self.word_acronyms:
                    if shouting is None:
                        shouting = _is_shouting(raw)
                    if shouting:
                        continue  # "SIGNENT UN ACCORD": the article, not the United Nations
                start = len(tokens(raw[:m.start()]))
                width = max(1, len(tokens(m.group())))
                hits.extend(_Hit(start, start + width, g, v) for g, v in self._acronyms[m.group()])
        return hits

    @staticmethod
    def _hits_at(doc: str, end_char: int, nwords: int, values: tuple[tuple[str, Any], ...]) -> Iterator[_Hit]:
        # Spaces up to end_char inclusive = words up to the key's end + 1 (the leading space).
        end_word = doc.count(" ", 0, end_char + 1) - 1
        start = end_word - nwords
        for group, value in values:
            yield _Hit(start, end_word, group, value)


_LOWER_RE = re.compile(r"[^\W\d_A-ZÀ-Þ]")  # letters that are not capitals (good enough for Latin text)
_UPPER_RE = re.compile(r"[A-ZÀ-Þ]")


def _is_shouting(text: str) -> bool:
    """A headline in capitals, where case tells acronyms from words no more."""
    upper = len(_UPPER_RE.findall(text))
    return upper >= 10 and upper > 1.5 * len(_LOWER_RE.findall(text))


@dataclass
class _Data:
    lexicon: _Lexicon
    resolve: dict[str, str]  # folded spelling -> canonical party name
    kinds: dict[str, str]  # canonical party name -> kind
    domain_keys: dict[str, str]  # folded spelling -> domain id
    domain_labels: dict[str, dict[str, str]]
    domain_order: tuple[str, ...]
    domain_title: int
    domain_min: int
    instrument_labels: dict[str, dict[str, str]]
    months: dict[str, int]
    date_res: tuple[re.Pattern[str], ...]
    ministry_stops: frozenset[str]
    locatives: frozenset[str]
    summary_max: int
    summary_strip: tuple[re.Pattern[str], ...]


def _data_dir() -> Path:
    return Path(str(resources.files("watcher") / "data"))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AgreementDataError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise AgreementDataError(f"{path}: expected a mapping at the top level")
    return data


def _strings(path: Path, where: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
        raise AgreementDataError(f"{path}: {where}: expected a list of non-empty strings, got {value!r}")
    return [str(v) for v in value]


def demonym_forms(masculine: str) -> list[str]:
    """The French feminine and plural forms of a demonym (tunisien -> tunisienne, tunisiens, tunisiennes).

    Also harmless on English demonyms, whose plural is the "-s" form ("Tunisians").
    """
    word = masculine.strip()
    low = fold(word)
    if low.endswith("en"):
        return [word, word + "ne", word + "s", word + "nes"]
    if low.endswith("e"):
        return [word, word + "s"]
    if low.endswith(("s", "x")):
        return [word, word + "e", word + "es"]
    return [word, word + "e", word + "s", word + "es"]


def _resolve_key(text: str) -> str:
    return " ".join(tokens(text))


def _load_gazetteer(path: Path, lexicon: _Lexicon) -> tuple[dict[str, str], dict[str, str]]:
    data = _read(path)
    resolve: dict[str, str] = {}
    kinds: dict[str, str] = {}
    owners: dict[str, str] = {}  # token key -> entity, to catch one spelling given to two entities

    def claim(where: str, key: str, name: str) -> None:
        other = owners.setdefault(key, name)
        if other != name:
            raise AgreementDataError(f"{path}: {where}: {key.strip()!r} is already a spelling of {other!r}")

    for section, kind in (("countries", "country"), ("organisations", "organisation")):
        entries = data.get(section) or []
        if not isinstance(entries, list):
            raise AgreementDataError(f"{path}: {section}: expected a list")
        for i, entry in enumerate(entries):
            where = f"{section}[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise AgreementDataError(f"{path}: {where}: expected a mapping with a 'name'")
            unknown = set(entry) - {"name", "names", "demonyms", "capitals", "acronyms"}
            if unknown:
                raise AgreementDataError(f"{path}: {where} ({entry['name']}): unknown key(s) {sorted(unknown)}")
            name = entry["name"]
            if name in kinds:
                raise AgreementDataError(f"{path}: {where}: {name!r} is defined twice")
            entity = _Entity(name, kind)
            kinds[name] = kind
            resolve[_resolve_key(name)] = name
            spellings = [("name", t) for t in _strings(path, f"{where}.names", entry.get("names"))]
            spellings += [("capital", t) for t in _strings(path, f"{where}.capitals", entry.get("capitals"))]
            for masculine in _strings(path, f"{where}.demonyms", entry.get("demonyms")):
                spellings += [("demonym", form) for form in demonym_forms(masculine)]
            for form, term in spellings:
                key = lexicon.add("party", term, (entity, form), f"{path}: {where}")
                claim(f"{where}.{form}s", key, name)
                resolve[key.strip()] = name
            for acronym in _strings(path, f"{where}.acronyms", entry.get("acronyms")):
                lexicon.add_acronym("party", acronym, (entity, "acronym"))
                resolve.setdefault(_resolve_key(acronym), name)
    lexicon.word_acronyms = frozenset(_strings(path, "word_acronyms", data.get("word_acronyms")))
    for i, term in enumerate(_strings(path, "not_parties", data.get("not_parties"))):
        lexicon.add("block", term, None, f"{path}: not_parties[{i}]")
    return resolve, kinds


def _terms_section(path: Path, data: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    value = data.get(section)
    if not isinstance(value, dict) or not value:
        raise AgreementDataError(f"{path}: {section}: expected a non-empty mapping of id -> {{label, terms}}")
    for key, entry in value.items():
        if not isinstance(entry, dict) or not _strings(path, f"{section}.{key}.terms", entry.get("terms")):
            raise AgreementDataError(f"{path}: {section}.{key}: expected 'terms' (a list) and 'label'")
        label = entry.get("label")
        if not isinstance(label, dict) or not all(isinstance(label.get(lang), str) for lang in ("fr", "en")):
            raise AgreementDataError(f"{path}: {section}.{key}.label: expected {{fr: ..., en: ...}}")
    return value


def _date_patterns(months: dict[str, int]) -> tuple[re.Pattern[str], ...]:
    """Day-month(-year) in French/English order, and English month-day(-year), on folded text."""
    names = "|".join(sorted((re.escape(m) for m in months), key=len, reverse=True))
    year = r"(?:,?\s+(?P<year>(?:19|20)\d\d))?"
    return (
        re.compile(rf"\b(?P<day>[0-3]?\d)(?:er|st|nd|rd|th)?\s+(?P<month>{names})\.?{year}\b"),
        re.compile(rf"\b(?P<month>{names})\.?\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b{year}"),
        re.compile(r"\b(?P<day>[0-3]?\d)/(?P<month>[01]?\d)/(?P<year>(?:19|20)\d\d)\b"),
    )


def _load_patterns(path: Path, lexicon: _Lexicon) -> dict[str, Any]:
    data = _read(path)
    out: dict[str, Any] = {}
    instruments = _terms_section(path, data, "instruments")
    unknown = set(instruments) - set(INSTRUMENTS)
    if unknown:
        raise AgreementDataError(f"{path}: instruments: unknown id(s) {sorted(unknown)}; expected {list(INSTRUMENTS)}")
    for rank, (iid, entry) in enumerate(instruments.items()):
        for term in entry["terms"]:
            lexicon.add("instrument", term, (rank, iid), f"{path}: instruments.{iid}")
    out["instrument_labels"] = {k: v["label"] for k, v in instruments.items()}

    domains = _terms_section(path, data, "domains")
    domain_keys: dict[str, str] = {}
    for did, entry in domains.items():
        for term in entry["terms"]:
            domain_keys[lexicon.add("domain", term, did, f"{path}: domains.{did}").strip()] = did
        for acronym in _strings(path, f"domains.{did}.acronyms", entry.get("acronyms")):
            lexicon.add_acronym("domain", acronym, did)
            domain_keys.setdefault(_resolve_key(acronym), did)
        for spelling in (did, entry["label"]["fr"], entry["label"]["en"]):
            domain_keys[_resolve_key(spelling)] = did
    out["domain_keys"] = domain_keys
    out["domain_labels"] = {k: v["label"] for k, v in domains.items()}
    out["domain_order"] = tuple(domains)
    scoring = data.get("domain_scoring") or {}
    out["domain_title"], out["domain_min"] = int(scoring.get("title", 2)), int(scoring.get("min_score", 2))

    cues = data.get("cues")
    if not isinstance(cues, dict):
        raise AgreementDataError(f"{path}: cues: expected a mapping of cue kind -> terms")
    for kind in ("between", "agree", "actor", "venue", "context", "signing"):
        for term in _strings(path, f"cues.{kind}", cues.get(kind)):
            lexicon.add("cue", term, kind, f"{path}: cues.{kind}")
    # Prepositions are looked up by word (as automaton terms they would hit in every sentence).
    out["locatives"] = frozenset(_resolve_key(w) for w in _strings(path, "cues.locative", cues.get("locative")))

    ministries = data.get("ministries") or {}
    for term in _strings(path, "ministries.heads", ministries.get("heads")):
        lexicon.add("head", term, None, f"{path}: ministries.heads")
    portfolios = ministries.get("portfolios") or {}
    if not isinstance(portfolios, dict):
        raise AgreementDataError(f"{path}: ministries.portfolios: expected a mapping of label -> terms")
    for label, terms in portfolios.items():
        for term in _strings(path, f"ministries.portfolios.{label}", terms):
            lexicon.add("portfolio", term, str(label), f"{path}: ministries.portfolios.{label}")
    stops = _strings(path, "ministries.stops", ministries.get("stops"))
    out["ministry_stops"] = frozenset(_resolve_key(s) for s in stops)

    months: dict[str, int] = {}
    for number, names in (data.get("months") or {}).items():
        for name in _strings(path, f"months.{number}", names):
            months[fold(name)] = int(number)
    if len(set(months.values())) != 12:
        raise AgreementDataError(f"{path}: months: expected names for the twelve months")
    out["months"] = months
    out["date_res"] = _date_patterns(months)

    summary = data.get("summary") or {}
    out["summary_max"] = int(summary.get("max_chars", 300))
    try:
        out["summary_strip"] = tuple(re.compile(p, re.IGNORECASE) for p in _strings(path, "summary.strip_prefix",
                                                                                    summary.get("strip_prefix")))
    except re.error as exc:
        raise AgreementDataError(f"{path}: summary.strip_prefix: {exc}") from None
    return out


def load(gazetteer: Path, patterns: Path) -> _Data:
    """Compile a gazetteer and a pattern file (raises AgreementDataError naming the bad entry)."""
    lexicon = _Lexicon()
    resolve, kinds = _load_gazetteer(gazetteer, lexicon)
    out = _load_patterns(patterns, lexicon)
    lexicon.compile()
    return _Data(lexicon=lexicon, resolve=resolve, kinds=kinds, **out)


@functools.cache
def _data() -> _Data:
    return load(_data_dir() / "gazetteer.yaml", _data_dir() / "agreements.yaml")


# --------------------------------------------------------------------------------------------------
# Public lookups for the CLI and the web view.


def resolve_party(text: str) -> str | None:
    """A user's spelling of a party ("tunisie", "Tunisian", "l'Égypte", "UIT", "Tunis") -> canonical name."""
    if not text or not text.strip():
        return None
    text = _ARTICLE_RE.sub("", text.strip())
    m = _MINISTRY_RE.match(text)
    if m:
        country = resolve_party(m.group(2))
        return f"Ministry of {m.group(1).strip()} ({country})" if country else None
    return _data().resolve.get(_resolve_key(text))


def resolve_domain(text: str) -> str | None:
    """A user's spelling of a domain ("cybersécurité", "IA", "ai", "e-gouvernement") -> domain id."""
    if not text or not text.strip():
        return None
    return _data().domain_keys.get(_resolve_key(text))


def domain_label(domain_id: str, lang: str = "fr") -> str:
    """The display label of a domain id in "fr" or "en" (an unknown id is shown as it is)."""
    labels = _data().domain_labels.get(domain_id)
    return labels.get(lang, labels["en"]) if labels else domain_id


def instrument_label(instrument: str | None, lang: str = "fr") -> str:
    """The display label of an instrument id ("mou" -> "protocole d'accord"); "" for None."""
    if not instrument:
        return ""
    labels = _data().instrument_labels.get(instrument)
    return labels.get(lang, labels["en"]) if labels else instrument


def domains() -> list[str]:
    """Every domain id, in the data file's order."""
    return list(_data().domain_order)


# --------------------------------------------------------------------------------------------------
# Extraction.


@dataclass
class _Sentence:
    index: int  # 0 is the title, 1 the first sentence of the body
    text: str
    words: list[str]
    hits: list[_Hit]
    cues: dict[str, list[_Hit]]


@dataclass
class _Mention:
    name: str
    kind: str
    sentence: int
    start: int
    end: int
    form: str  # name | capital | demonym | acronym | ministry
    weight: int = 0
    country: str | None = None  # a ministry's country


def _sentences(title: str, body: str) -> Iterator[tuple[int, str]]:
    if title and title.strip():
        yield 0, " ".join(title.split())
    index = 1
    for paragraph in (body or "").splitlines():
        rest = paragraph.strip()
        while rest and index <= MAX_SENTENCES:
            sentence = first_sentence(rest)
            if not sentence:
                break
            rest = rest[len(sentence):].lstrip()  # rest is stripped, so the sentence is its prefix
            yield index, " ".join(sentence.split())
            index += 1


def _longest(hits: Iterable[_Hit]) -> list[_Hit]:
    """Non-overlapping hits, the longest winning, in text order."""
    chosen: list[_Hit] = []
    taken: set[int] = set()
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), h.start)):
        span = range(hit.start, hit.end)
        if not taken.intersection(span):
            chosen.append(hit)
            taken.update(span)
    return sorted(chosen, key=lambda h: h.start)


def _analyse(index: int, text: str, data: _Data) -> _Sentence:
    doc = token_string(text)
    groups: dict[str, list[_Hit]] = {}
    cues: dict[str, list[_Hit]] = {}
    for hit in data.lexicon.find(doc, text):
        groups.setdefault("party" if hit.group == "block" else hit.group, []).append(hit)
        if hit.group == "cue":
            cues.setdefault(hit.value, []).append(hit)
    # Names, instruments and portfolios each resolve overlaps among themselves ("not parties" hide
    # the names they contain).
    hits: list[_Hit] = []
    for group in ("party", "instrument", "portfolio", "head"):
        if group in groups:
            hits += _longest(groups[group])
    # A term may belong to several domains: each domain of the longest term counts.
    if "domain" in groups:
        spans = {(h.start, h.end) for h in _longest(groups["domain"])}
        hits += [h for h in groups["domain"] if (h.start, h.end) in spans]
    return _Sentence(index, text, doc.split(), hits, cues)


def _cue_before(s: _Sentence, kind: str, start: int, gap: int) -> _Hit | None:
    best = None
    for cue in s.cues.get(kind, ()):
        if 0 <= start - cue.end <= gap and (best is None or cue.end > best.end):
            best = cue
    return best


def _is_venue(s: _Sentence, m: _Mention, data: _Data) -> bool:
    """ "tenue à Marrakech", "signé à Tunis", "le 9 juin 2019, au Japon": a place, not a participant."""
    before = m.start - 1
    while before >= 0 and s.words[before] in ("la", "le", "les", "l", "the"):
        before -= 1
    if before < 0 or s.words[before] not in data.locatives:
        return False
    if _cue_before(s, "venue", before, VENUE_LOOKBACK) is not None:
        return True
    # Right after a date: "le 09 juin 2019, au Japon".
    previous = s.words[max(0, before - 2):before]
    return any(w in data.months or (len(w) == 4 and w.isdigit() and w[:2] in ("19", "20")) for w in previous)


def _between_parties(s: _Sentence, party_starts: dict[int, int]) -> set[int]:
    """Starts of the mentions enumerated after "entre"/"between": walk over names and a few other words."""
    found: set[int] = set()
    stops = _data().ministry_stops
    for cue in s.cues.get("between", ()):
        i, unknown = cue.end, 0
        while i < len(s.words) and unknown <= BETWEEN_SKIP:
            if i in party_starts:
                found.add(i)
                i, unknown = party_starts[i], 0
                continue
            word = s.words[i]
            if word in ("et", "and", "la", "le", "les", "du", "de", "des", "d", "of", "the"):
                i += 1
                continue
            if word in stops and word not in ("le", "les", "the"):
                break
            unknown += 1
            i += 1
    return found


def _mentions(s: _Sentence, data: _Data) -> tuple[list[_Mention], list[_Mention]]:
    """The sentence's mentions of parties, weighted by role, and the ministries it names."""
    out = [_Mention(h.value[0].name, h.value[0].kind, s.index, h.start, h.end, h.value[1])
           for h in s.hits if h.group == "party"]
    if not out:
        return out, []
    ministries = _ministries(s, data, out)
    # Words inside names do not count as distance: "le ministère tunisien des TIC et le ministère
    # sénégalais du Numérique ont signé" has both countries as subjects.
    named = {i for m in out + ministries for i in range(m.start, m.end)}
    between = _between_parties(s, {m.start: m.end for m in out})
    for m in out:
        if _cue_before(s, "context", m.start, CONTEXT_GAP) or _is_venue(s, m, data):
            m.weight = 0
        elif s.index == 0 or m.start in between or _is_subject(s, m, named):
            m.weight = W_STRONG
        elif _is_actor(s, m):
            m.weight = W_ACTOR
        elif s.index == 1:
            m.weight = W_LEAD
        else:
            m.weight = W_PLAIN
    return out, ministries


def _is_subject(s: _Sentence, m: _Mention, named: set[int]) -> bool:
    """ "Le Kenya et l'Inde ont signé", "l'UIT et Smart Africa ont lancé": the parties come before the verb."""
    for cue in s.cues.get("agree", ()):
        if cue.start >= m.end and sum(1 for i in range(m.end, cue.start) if i not in named) <= SUBJECT_SPAN:
            return True
    return False


def _is_actor(s: _Sentence, m: _Mention) -> bool:
    """ "le ministre malien", "l'ambassadeur des USA", "Egyptian minister", "Egypt's ministry"."""
    if _cue_before(s, "actor", m.start, ACTOR_GAP if m.form != "demonym" else 1) is not None:
        return True
    return any(cue.start == m.end for cue in s.cues.get("actor", ()))


def _ministries(s: _Sentence, data: _Data, mentions: list[_Mention]) -> list[_Mention]:
    """ "le ministère tunisien des Technologies de la communication" -> Ministry of ICT (Tunisia).

    The country is a demonym or name right after the head ("ministère tunisien"), right before it
    ("the Egyptian Ministry", "Egypt's Ministry"), or closing the name ("ministère des TIC du Sénégal").
    """
    countries = {m.start: m for m in mentions if m.kind == "country"}
    ends = {m.end: m for m in mentions if m.kind == "country"}
    others = {m.start for m in mentions if m.kind != "country"}
    heads = [h for h in s.hits if h.group == "head"]
    head_starts = {h.start for h in heads}
    out: list[_Mention] = []
    for head in heads:
        country = countries.get(head.end) or ends.get(head.start)
        # The name runs to a stop word, another ministry, an organisation, or a country after "de/du/of".
        end = head.end + (1 if countries.get(head.end) else 0)
        while (end < len(s.words) and s.words[end] not in data.ministry_stops and end not in head_starts
               and end not in others):
            if end in countries:
                if country is None and s.words[end - 1] in ("de", "du", "d", "of", "la", "l"):
                    country = countries[end]
                break
            end += 1
        labels: list[str] = []
        for p in sorted((h for h in s.hits if h.group == "portfolio"), key=lambda h: h.start):
            if head.end <= p.start < end and p.value not in labels:
                labels.append(p.value)
        if country is not None and labels:
            name = f"Ministry of {' and '.join(labels)} ({country.name})"
            out.append(_Mention(name, "ministry", s.index, head.start, end, "ministry", country=country.name))
    return out


def _parties(sentences: list[_Sentence], data: _Data) -> tuple[list[str], dict[str, str], list[_Mention]]:
    scores: dict[str, int] = {}
    first: dict[str, tuple[int, int]] = {}
    kinds: dict[str, str] = {}
    ministries: list[_Mention] = []
    for s in sentences:
        mentions, named_ministries = _mentions(s, data)
        best: dict[str, int] = {}  # one vote per sentence: "l'Agence (JICA)" is one mention, not two
        for m in mentions:
            best[m.name] = max(best.get(m.name, 0), m.weight)
            first.setdefault(m.name, (m.sentence, m.start))
            kinds[m.name] = m.kind
        for name, weight in best.items():
            scores[name] = scores.get(name, 0) + weight
        ministries += named_ministries
    if not scores:
        return [], {}, []
    top = max(scores.values())
    chosen = sorted((n for n, v in scores.items() if v >= PARTY_MIN and v >= PARTY_SHARE * top),
                    key=lambda n: first[n])
    # A ministry follows its country: "Tunisia", "Ministry of ICT (Tunisia)".
    parties: list[str] = []
    for name in chosen:
        parties.append(name)
        for m in ministries:
            if m.country == name and m.name not in parties:
                parties.append(m.name)
                kinds[m.name] = "ministry"
    return parties, {n: kinds[n] for n in parties}, ministries


def _instrument(sentences: list[_Sentence]) -> str | None:
    scores: dict[tuple[int, str], int] = {}
    for s in sentences:
        kind = "title" if s.index == 0 else "signing" if s.cues.get("signing") else "plain"
        for h in s.hits:
            if h.group == "instrument":
                scores[h.value] = scores.get(h.value, 0) + INSTRUMENT_WEIGHTS[kind]
    if not scores:
        return None
    # Highest score; on a tie the more specific instrument (earlier in the data file).
    return min(scores.items(), key=lambda kv: (-kv[1], kv[0][0]))[0][1]


def _domains(sentences: list[_Sentence], data: _Data) -> list[str]:
    scores: dict[str, int] = {}
    first: dict[str, tuple[int, int]] = {}
    for s in sentences:
        for h in s.hits:
            if h.group == "domain":
                scores[h.value] = scores.get(h.value, 0) + (data.domain_title if s.index == 0 else 1)
                first.setdefault(h.value, (s.index, h.start))
    kept = [d for d, v in scores.items() if v >= data.domain_min]
    return sorted(kept, key=lambda d: (-scores[d], first[d]))


def _signed_on(sentences: list[_Sentence], data: _Data, published_at: datetime | None) -> date | None:
    """The first date stated in a sentence about signing; a missing year comes from the publication date."""
    for s in sentences:
        if not s.cues.get("signing"):
            continue
        folded = fold(s.text)
        for pattern in data.date_res:
            for m in pattern.finditer(folded):
                found = _date(m, data.months, published_at)
                if found is not None:
                    return found
    return None


def _date(m: re.Match[str], months: dict[str, int], published_at: datetime | None) -> date | None:
    month_text = m.group("month")
    month = int(month_text) if month_text.isdigit() else months.get(month_text)
    if not month or not 1 <= month <= 12:
        return None
    day = int(m.group("day"))
    year_text = m.group("year")
    if year_text:
        year = int(year_text)
    elif published_at is not None:
        year = published_at.year
    else:
        return None
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if not year_text and published_at is not None and found > published_at.date() + timedelta(days=7):
        # "le 28 décembre" in an article of 3 January: last year's December.
        try:
            found = date(year - 1, month, day)
        except ValueError:
            return None
    return found


def _summary(sentences: list[_Sentence], parties: list[str], data: _Data,
             ministries: list[_Mention]) -> str:
    """The first body sentence naming two parties and an instrument (else two parties, else one)."""
    wanted = set(parties)
    body = [s for s in sentences if s.index > 0]
    if not body:
        body = sentences

    def named(s: _Sentence) -> int:
        names = {h.value[0].name for h in s.hits if h.group == "party"} & wanted
        names |= {m.name for m in ministries if m.sentence == s.index} & wanted
        return len(names)

    def has_instrument(s: _Sentence) -> bool:
        return any(h.group == "instrument" for h in s.hits)

    choice = (next((s for s in body if named(s) >= 2 and has_instrument(s)), None)
              or next((s for s in body if named(s) >= 2), None)
              or next((s for s in body if named(s) >= 1 and has_instrument(s)), None)
              or next((s for s in body if named(s) >= 1), None)
              or (body[0] if body else None))
    if choice is None:
        return ""
    return _clean_summary(choice.text, data)


def _clean_summary(text: str, data: _Data) -> str:
    text = text.strip()
    for pattern in data.summary_strip:
        m = pattern.match(text)
        if m and m.end() < len(text):
            text = text[m.end():].lstrip()
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if len(text) > data.summary_max:
        cut = text[:data.summary_max - 1].rsplit(" ", 1)[0].rstrip(",;:")
        text = cut + "…"
    return text


def extract(title: str, body: str, published_at: datetime | None = None) -> Agreement:
    """Parties, instrument, domains, date of signature and summary of one article (pure, no store)."""
    data = _data()
    sentences = [_analyse(i, text, data) for i, text in _sentences(title or "", body or "")]
    parties, kinds, ministries = _parties(sentences, data)
    return Agreement(
        parties=parties,
        party_kinds=kinds,
        instrument=_instrument(sentences),
        domains=_domains(sentences, data),
        signed_on=_signed_on(sentences, data, published_at),
        summary=_summary(sentences, parties, data, ministries),
    )


# --------------------------------------------------------------------------------------------------
# Store: agreements of stories stored before this extractor (or by an older version of it).


def refresh(session: Session, *, only_missing: bool = True, batch: int = 200, limit: int | None = None) -> int:
    """(Re)extract the agreement of relevant stories; returns how many were updated.

    Ingest stores stories without their agreement (extraction costs about as much as the rest of ingest);
    the daemon calls this after its polls, `watcher stories` before it reads. only_missing: just stories
    without an agreement or with one from an older VERSION (one query when there are none); otherwise
    every relevant story. `limit` bounds one call's work, oldest stories first. The caller commits.
    A story whose extraction fails is logged and skipped (the next call tries it again).
    """
    from watcher.store.models import Article, Story  # the store imports nothing from here; keep it so

    relevant = (select(Story.id).join(Article, Article.id == Story.representative_id)
                .where(Article.status == "relevant").order_by(Story.id))
    if only_missing:
        relevant = relevant.where(func.coalesce(Story.agreement["version"].as_integer(), 0) < VERSION)
    ids = list(session.scalars(relevant.limit(limit) if limit else relevant))
    updated = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        rows = session.execute(select(Story, Article).join(Article, Article.id == Story.representative_id)
                               .where(Story.id.in_(chunk)))
        for story, article in rows:
            try:
                story.agreement = extract(article.title, article.body, article.published_at).to_dict()
                updated += 1
            except Exception as exc:  # a broken data file or an extractor bug must not stop the others
                log.error("agreement.failed", extra={"story": story.id, "error": repr(exc)[:300]})
        session.flush()
    if updated:
        log.info("agreements.refreshed", extra={"stories": updated, "version": VERSION})
    return updated
