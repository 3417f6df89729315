"""Subscription matching: every subscription compiled once into one Aho–Corasick pass over an article.

Term syntax (the same in subscriptions, `watcher articles --match` and the relevance lexicon):

- A word matches whole words only, folded (case, accents, apostrophes): "Mali" matches "mali", "MALI"
  but not "Somalie" or "malin"; "Egypte" matches "l'Égypte" and "d’Égypte"; "IA" does not match "via".
- Several words are a phrase, quoted or not: "intelligence artificielle" and intelligence artificielle
  both match only those words in that order (punctuation and hyphens between them do not matter, so
  "Guinée-Bissau" and "Guinée Bissau" are the same phrase). Elided articles are ignored on both sides:
  "protocole d'accord" is the phrase "protocole accord".
- A trailing "*" makes the last word a prefix: "numéri*" matches "numérique", "numérisation";
  "transformation numéri*" matches the phrase. A "*" anywhere else is an error.

How it works: text.token_string() turns an article into " tok tok tok " (folded words, one space
apart). A term becomes the key " w1 w2 " (or " w1 w2" for a prefix), so any occurrence of the key in
that string starts and ends on word boundaries. The keys of all subscriptions are compiled together
(TermSet: one Aho–Corasick automaton); one pass over the article finds every term present, and then
every subscription is judged at once from the terms that fired, with a few numpy operations on arrays
of one value per subscription (watcher.match_table). Cost per article: one scan, a fixed ~40 µs, and a fraction of
a microsecond per (fired term, subscription) pair and per match (bench/match_bench.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple, Protocol

import ahocorasick

from watcher.text import token_string, tokens

__all__ = [
    "Match", "Matcher", "Query", "Term", "TermError", "TermSet", "document", "parse_term",
]

# A query part: optional "-" (exclude), then a "quoted phrase" or a run of non-space characters.
_QUERY_PART_RE = re.compile(r'(-)?(?:"([^"]*)"|(\S+))')
_second = itemgetter(1)  # the value of an automaton hit (end index, value)
_QUOTES = {'"': '"', "«": "»", "“": "”", "„": "“", "'": "'"}


class TermError(ValueError):
    """A keyword that cannot be compiled; the message names the subscription and the term."""


@dataclass(frozen=True)
class Term:
    """One compiled keyword: the text as written and its key in the token string."""

    text: str
    key: str
    prefix: bool

    @property
    def words(self) -> list[str]:
        return self.key.split()


def parse_term(text: str) -> Term:
    """Compile one keyword (word, phrase, quoted phrase, trailing-* prefix) or raise TermError."""
    raw = text.strip()
    body = raw
    for opening, closing in _QUOTES.items():
        if len(body) >= 2 and body.startswith(opening) and body.endswith(closing):
            body = body[1:-1].strip()
            break
    prefix = body.endswith("*")
    if prefix:
        body = body.rstrip("*").rstrip()
    if "*" in body:
        raise TermError(f"term {text!r}: '*' is only allowed at the end of a term (prefix match)")
    words = tokens(body)
    if not words:
        raise TermError(f"term {text!r} has no words to match")
    key = " " + " ".join(words) + ("" if prefix else " ")
    return Term(text=raw, key=key, prefix=prefix)


def document(title: str, body: str) -> str:
    """The searchable token string of an article: title then body.

    Two spaces separate them, so a phrase never spans the end of the title and the start of the body.
    """
    return token_string(title or "") + token_string(body or "")


class TermSet:
    """Many terms compiled once; find() returns the ids of the terms present in a token string.

    One Aho–Corasick automaton over the token string finds phrases, prefixes and single words in a
    single scan (keys start and end on the spaces between words, so every hit is on word boundaries).
    Only with a very large number of single words are they looked up instead in a hash set of the
    article's words, which costs the same whatever the number of words.
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._words: dict[str, int] = {}
        self._automaton = ahocorasick.Automaton()
        self._scan = False
        self._word_set: frozenset[str] = frozenset()
        self._made = False

    def add(self, term: Term) -> int:
        """Register a term (terms with the same key share an id) and return its id."""
        tid = self._ids.get(term.key)
        if tid is None:
            if self._made:
                raise RuntimeError("TermSet is already compiled")
            tid = len(self._ids)
            self._ids[term.key] = tid
            if term.prefix or " " in term.key.strip():
                self._automaton.add_word(term.key, tid)
                self._scan = True
            else:
                self._words[term.key.strip()] = tid
        return tid

    # From this many single words on, they are looked up in a word set rather than scanned. Measured
    # (bench/match_bench.py, 5 KB articles): the automaton is faster up to about 200,000 words, even
    # though it reports every occurrence; the word set needs the article split into words first.
    WORD_SET_MIN = 200_000

    def compile(self) -> None:
        if len(self._words) < self.WORD_SET_MIN:
            for word, tid in self._words.items():
                self._automaton.add_word(f" {word} ", tid)
                self._scan = True
            self._word_set = frozenset()
        else:
            self._word_set = frozenset(self._words)
        if self._scan:
            self._automaton.make_automaton()
        self._made = True

    def __len__(self) -> int:
        return len(self._ids)

    def find(self, doc: str) -> set[int]:
        """Ids of the terms that occur in a token string (from document() or token_string())."""
        hits: set[int] = set(map(_second, self._automaton.iter(doc))) if self._scan else set()
        if self._word_set:
            hits.update(map(self._words.__getitem__, self._word_set.intersection(doc.split())))
        return hits


class SubscriptionLike(Protocol):
    """The fields of watcher.config.SubscriptionConfig that matching reads."""

    name: str
    any: list[str]
    all: list[str]
    none: list[str]
    sources: list[str]
    min_relevance: float | None


class Match(NamedTuple):
    """A subscription that matched an article, with the terms (as written in the config) that fired."""

    subscription: str
    terms: list[str]


@dataclass(slots=True)
class Compiled:
    """One subscription with its terms as TermSet ids (what watcher.match_table reads)."""

    name: str
    any_ids: frozenset[int]
    all_ids: frozenset[int]
    none_ids: frozenset[int]
    positive: tuple[tuple[int, str], ...]  # (term id, term as written) of `any` then `all`, deduplicated
    sources: frozenset[str] | None
    min_relevance: float | None


class Matcher:
    """All subscriptions, compiled once. Build a new Matcher when the configuration changes."""

    def __init__(self, subscriptions: Iterable[SubscriptionLike]) -> None:
        self._terms = TermSet()
        self._subs: list[Compiled] = []
        names: set[str] = set()
        for sub in subscriptions:
            compiled = self._compile(sub)
            if compiled.name in names:
                raise TermError(f"subscription {compiled.name!r} is defined twice")
            names.add(compiled.name)
            self._subs.append(compiled)
        self._terms.compile()
        self._names = [c.name for c in self._subs]
        # Imported here: it needs numpy (~0.2 s to import), and loading a config validates terms with
        # this module, which commands that never match (`watcher sources`) should not pay for.
        from watcher.match_table import SubscriptionTable

        self._table = SubscriptionTable(self._subs, len(self._terms))

    def _compile(self, sub: SubscriptionLike) -> Compiled:
        name = str(getattr(sub, "name"))
        positive: dict[int, str] = {}

        def ids(kind: str) -> frozenset[int]:
            out = set()
            for raw in getattr(sub, kind, None) or []:
                try:
                    term = parse_term(str(raw))
                except TermError as exc:
                    raise TermError(f"subscription {name!r} {kind}: {exc}") from None
                tid = self._terms.add(term)
                if kind != "none":
                    positive.setdefault(tid, term.text)
                out.add(tid)
            return frozenset(out)

        sources = getattr(sub, "sources", None) or []
        any_ids, all_ids, none_ids = ids("any"), ids("all"), ids("none")
        return Compiled(
            name=name,
            any_ids=any_ids,
            all_ids=all_ids,
            none_ids=none_ids,
            positive=tuple(positive.items()),
            sources=frozenset(sources) if sources else None,
            min_relevance=getattr(sub, "min_relevance", None),
        )

    @property
    def subscriptions(self) -> list[str]:
        return list(self._names)

    def match(self, title: str, body: str, source: str, relevance: float) -> list[Match]:
        """Subscriptions that match this article, in configuration order, with the terms that fired."""
        return self.match_document(document(title, body), source, relevance)

    def match_document(self, doc: str, source: str, relevance: float) -> list[Match]:
        """Like match(), for a token string already built with document() (saves re-tokenising)."""
        return self._table.matches(self._terms.find(doc), source, relevance)


class Query:
    """An ad-hoc search for `watcher articles --match TEXT`.

    Space-separated terms must all appear; "quoted phrases" keep their words together; a term ending
    in * is a prefix; a term starting with - must not appear: `Tunisie "intelligence artificielle" -football`.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.required: list[Term] = []
        self.excluded: list[Term] = []
        normalised = text
        for quote in "«»“”„":
            normalised = normalised.replace(quote, '"')
        if normalised.count('"') % 2:
            raise TermError(f"query {text!r}: unbalanced double quote")
        for m in _QUERY_PART_RE.finditer(normalised):
            negate, phrase, word = m.group(1), m.group(2), m.group(3)
            part = phrase if phrase is not None else word
            target = self.excluded if negate else self.required
            if not part.strip() or part == "-":
                continue
            target.append(parse_term(part))
        if not self.required and not self.excluded:
            raise TermError(f"query {text!r} has no terms")

    def matches(self, *texts: str) -> bool:
        """True when every required term and no excluded term occurs in the texts (title, body...)."""
        doc = "".join(token_string(t or "") for t in texts)
        return all(t.key in doc for t in self.required) and not any(t.key in doc for t in self.excluded)
