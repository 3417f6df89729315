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
that string starts and ends on word boundaries. One automaton holds the keys of all subscriptions; one
scan finds every term present, and only the subscriptions those terms point at are evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import ahocorasick

from watcher.text import token_string, tokens

__all__ = [
    "Match", "Matcher", "Query", "Term", "TermError", "TermSet", "document", "parse_term",
]

# A query part: optional "-" (exclude), then a "quoted phrase" or a run of non-space characters.
_QUERY_PART_RE = re.compile(r'(-)?(?:"([^"]*)"|(\S+))')
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
    """Many terms compiled into one automaton; find() returns the ids of the terms present."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._automaton = ahocorasick.Automaton()
        self._made = False

    def add(self, term: Term) -> int:
        """Register a term (terms with the same key share an id) and return its id."""
        tid = self._ids.get(term.key)
        if tid is None:
            if self._made:
                raise RuntimeError("TermSet is already compiled")
            tid = len(self._ids)
            self._ids[term.key] = tid
            self._automaton.add_word(term.key, tid)
        return tid

    def compile(self) -> None:
        if self._ids:
            self._automaton.make_automaton()
        self._made = True

    def __len__(self) -> int:
        return len(self._ids)

    def find(self, doc: str) -> set[int]:
        """Ids of the terms that occur in a token string (from document() or token_string())."""
        if not self._ids:
            return set()
        return {tid for _, tid in self._automaton.iter(doc)}


class SubscriptionLike(Protocol):
    """The fields of watcher.config.SubscriptionConfig that matching reads."""

    name: str
    any: list[str]
    all: list[str]
    none: list[str]
    sources: list[str]
    min_relevance: float | None


@dataclass(frozen=True)
class Match:
    """A subscription that matched an article, with the terms (as written in the config) that fired."""

    subscription: str
    terms: list[str] = field(default_factory=list)


@dataclass
class _Compiled:
    name: str
    any_ids: frozenset[int]
    all_ids: frozenset[int]
    none_ids: frozenset[int]
    labels: dict[int, str]  # term id -> term as written (first spelling in this subscription)
    sources: frozenset[str] | None
    min_relevance: float | None


class Matcher:
    """All subscriptions, compiled once. Build a new Matcher when the configuration changes."""

    def __init__(self, subscriptions: Iterable[SubscriptionLike]) -> None:
        self._terms = TermSet()
        self._subs: list[_Compiled] = []
        # Which subscriptions a term can make candidates: every `any` term of a subscription, and the
        # rarest `all` term of a subscription that has `all` terms (the others are checked with set
        # operations). Subscriptions with neither are candidates for every article.
        any_index: dict[int, list[int]] = {}
        all_index: dict[int, list[int]] = {}
        self._unconditional: list[int] = []
        names: set[str] = set()
        for sub in subscriptions:
            compiled = self._compile(sub)
            if compiled.name in names:
                raise TermError(f"subscription {compiled.name!r} is defined twice")
            names.add(compiled.name)
            self._subs.append(compiled)
        self._terms.compile()
        frequency: dict[int, int] = {}
        for c in self._subs:
            for tid in c.all_ids | c.any_ids:
                frequency[tid] = frequency.get(tid, 0) + 1
        for i, c in enumerate(self._subs):
            if c.all_ids:
                trigger = min(c.all_ids, key=lambda t: (frequency[t], t))
                all_index.setdefault(trigger, []).append(i)
            elif c.any_ids:
                for tid in c.any_ids:
                    any_index.setdefault(tid, []).append(i)
            else:
                self._unconditional.append(i)
        self._any_index = {t: tuple(v) for t, v in any_index.items()}
        self._all_index = {t: tuple(v) for t, v in all_index.items()}

    def _compile(self, sub: SubscriptionLike) -> _Compiled:
        name = str(getattr(sub, "name"))
        labels: dict[int, str] = {}

        def ids(kind: str) -> frozenset[int]:
            out = set()
            for raw in getattr(sub, kind, None) or []:
                try:
                    term = parse_term(str(raw))
                except TermError as exc:
                    raise TermError(f"subscription {name!r} {kind}: {exc}") from None
                tid = self._terms.add(term)
                labels.setdefault(tid, term.text)
                out.add(tid)
            return frozenset(out)

        sources = getattr(sub, "sources", None) or []
        return _Compiled(
            name=name,
            any_ids=ids("any"),
            all_ids=ids("all"),
            none_ids=ids("none"),
            labels=labels,
            sources=frozenset(sources) if sources else None,
            min_relevance=getattr(sub, "min_relevance", None),
        )

    @property
    def subscriptions(self) -> list[str]:
        return [c.name for c in self._subs]

    def match(self, title: str, body: str, source: str, relevance: float) -> list[Match]:
        """Subscriptions that match this article, in configuration order, with the terms that fired."""
        return self.match_document(document(title, body), source, relevance)

    def match_document(self, doc: str, source: str, relevance: float) -> list[Match]:
        """Like match(), for a token string already built with document() (saves re-tokenising)."""
        hits = self._terms.find(doc)
        candidates: set[int] = set(self._unconditional)
        any_index, all_index = self._any_index, self._all_index
        for tid in hits:
            subs = any_index.get(tid)
            if subs:
                candidates.update(subs)
            subs = all_index.get(tid)
            if subs:
                candidates.update(subs)
        matches: list[Match] = []
        for i in sorted(candidates):
            c = self._subs[i]
            if c.all_ids and not c.all_ids <= hits:
                continue
            if c.any_ids and c.any_ids.isdisjoint(hits):
                continue
            if c.none_ids and not c.none_ids.isdisjoint(hits):
                continue
            if c.sources is not None and source not in c.sources:
                continue
            if c.min_relevance is not None and relevance < c.min_relevance:
                continue
            fired = (c.all_ids | c.any_ids) & hits
            matches.append(Match(c.name, sorted(c.labels[t] for t in fired)))
        return matches


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
