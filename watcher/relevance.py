"""Relevance: a scored, explainable decision on whether an article is about digital cooperation.

The lexicon is data (watcher/data/lexicon.yaml, replaceable and extendable from the config): categories
of terms (cooperation, digital topic, actors, negative look-alike subjects), each with a weight and a cap,
written in the subscription term syntax of watcher.matching. One automaton scan of the title and one of
the body find every term; the score is explained by the terms that fired, e.g.
["cooperation:accord@title", "topic:cybersécurité", "actor:Tunisie", "negative:prix"].

Score (0..1): raw = sum over categories of weight x (distinct terms found, at most `cap`, a title hit
counting `title` times); score = coverage x max(raw, 0) / (max(raw, 0) + half), where coverage is the
share of the `required` categories that fired. An article is relevant when every required category fired
and score >= threshold, so a relevant article always scores at least the threshold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Protocol

import yaml

from watcher.matching import TermError, TermSet, parse_term
from watcher.text import token_string

__all__ = ["Classifier", "Lexicon", "LexiconError", "Relevance", "Category"]

log = logging.getLogger(__name__)

TITLE_MARK = "@title"


class LexiconError(ValueError):
    """A lexicon file or config extension that cannot be used; the message names the file and entry."""


@dataclass(frozen=True)
class Relevance:
    score: float
    relevant: bool
    terms: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Category:
    name: str
    weight: float
    cap: int
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """The classifier's data: categories of terms and the scoring parameters."""

    categories: dict[str, Category]
    required: tuple[str, ...]
    threshold: float = 0.5
    half: float = 3.0
    title: float = 2.0
    origin: str = "<lexicon>"

    @classmethod
    def default(cls) -> Lexicon:
        """The shipped French and English lexicon."""
        ref = resources.files("watcher") / "data" / "lexicon.yaml"
        return cls.parse(ref.read_text(encoding="utf-8"), origin="watcher/data/lexicon.yaml")

    @classmethod
    def load(cls, path: str | Path) -> Lexicon:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise LexiconError(f"{p}: cannot read lexicon: {exc.strerror or exc}") from None
        return cls.parse(text, origin=str(p))

    @classmethod
    def parse(cls, text: str, origin: str = "<lexicon>") -> Lexicon:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise LexiconError(f"{origin}: invalid YAML: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
            raise LexiconError(f"{origin}: expected a mapping with a `categories` mapping")
        categories: dict[str, Category] = {}
        for name, spec in data["categories"].items():
            categories[str(name)] = _category(str(name), spec, origin)
        required = tuple(str(r) for r in data.get("required") or ())
        for r in required:
            if r not in categories:
                raise LexiconError(f"{origin}: required category {r!r} is not defined")
        try:
            return cls(
                categories=categories,
                required=required,
                threshold=float(data.get("threshold", 0.5)),
                half=float(data.get("half", 3.0)),
                title=float(data.get("title", 2.0)),
                origin=origin,
            )
        except (TypeError, ValueError) as exc:
            raise LexiconError(f"{origin}: threshold, half and title must be numbers: {exc}") from None

    def with_extra(self, extra: Mapping[str, list[str]]) -> Lexicon:
        """A copy with extra terms added to existing categories (the config's `relevance.extra`)."""
        if not extra:
            return self
        categories = dict(self.categories)
        for name, terms in extra.items():
            if name not in categories:
                known = ", ".join(sorted(categories))
                raise LexiconError(f"relevance.extra.{name}: unknown category (known: {known})")
            base = categories[name]
            categories[name] = Category(base.name, base.weight, base.cap, base.terms + tuple(str(t) for t in terms))
        return Lexicon(categories, self.required, self.threshold, self.half, self.title, self.origin)


def _category(name: str, spec: Any, origin: str) -> Category:
    if not isinstance(spec, dict) or not isinstance(spec.get("terms"), list):
        raise LexiconError(f"{origin}: categories.{name}: expected a mapping with a `terms` list")
    try:
        weight = float(spec.get("weight", 1.0))
        cap = int(spec.get("cap", 6))
    except (TypeError, ValueError) as exc:
        raise LexiconError(f"{origin}: categories.{name}: weight and cap must be numbers: {exc}") from None
    return Category(name, weight, cap, tuple(str(t) for t in spec["terms"]))


class RelevanceSettings(Protocol):
    """The fields of watcher.config.RelevanceConfig that the classifier reads."""

    threshold: float | None
    lexicon: str | None
    extra: dict[str, list[str]]


class Classifier:
    """The lexicon compiled into one automaton; classify() is a pure function of (title, body)."""

    def __init__(self, lexicon: Lexicon, threshold: float | None = None) -> None:
        self.lexicon = lexicon
        self.threshold = lexicon.threshold if threshold is None else float(threshold)
        self._terms = TermSet()
        # term id -> [(category, term as written)]: one key may sit in several categories.
        self._labels: dict[int, list[tuple[str, str]]] = {}
        for cat in lexicon.categories.values():
            for raw in cat.terms:
                try:
                    term = parse_term(raw)
                except TermError as exc:
                    raise LexiconError(f"{lexicon.origin}: categories.{cat.name}: {exc}") from None
                tid = self._terms.add(term)
                # Spellings that fold alike ("coopération", "cooperation") are one term of a category.
                entries = self._labels.setdefault(tid, [])
                if all(c != cat.name for c, _ in entries):
                    entries.append((cat.name, term.text))
        self._terms.compile()

    @classmethod
    def from_config(cls, cfg: RelevanceSettings | None, base_dir: str | Path | None = None) -> Classifier:
        """The classifier for a config's `relevance` section; a relative lexicon path is read from base_dir."""
        if cfg is None:
            return cls(Lexicon.default())
        if cfg.lexicon:
            path = Path(cfg.lexicon)
            if not path.is_absolute() and base_dir is not None:
                path = Path(base_dir) / path
            lexicon = Lexicon.load(path)
        else:
            lexicon = Lexicon.default()
        return cls(lexicon.with_extra(cfg.extra or {}), threshold=cfg.threshold)

    def classify(self, title: str, body: str) -> Relevance:
        """Score an article; the terms list says which lexicon entries fired and where."""
        return self.classify_tokens(token_string(title or ""), token_string(body or ""))

    def classify_tokens(self, title_doc: str, body_doc: str) -> Relevance:
        """classify() for token strings already built with watcher.text.token_string()."""
        in_title = self._terms.find(title_doc)
        in_body = self._terms.find(body_doc)
        lex = self.lexicon
        # category -> {term: (contribution, seen in title)}; each distinct term counts once.
        found: dict[str, dict[str, tuple[float, bool]]] = {}
        for tid in in_title | in_body:
            hit_title = tid in in_title
            factor = lex.title if hit_title else 1.0
            for cat, label in self._labels[tid]:
                per = found.setdefault(cat, {})
                if label not in per or per[label][0] < factor:
                    per[label] = (factor, hit_title)
        raw = 0.0
        terms: list[str] = []
        for cat in lex.categories.values():
            per = found.get(cat.name)
            if not per:
                continue
            ranked = sorted(per.items(), key=lambda kv: (-kv[1][0], not kv[1][1], kv[0]))
            raw += cat.weight * sum(v for _, (v, _t) in ranked[: cat.cap])
            for label, (_v, hit_title) in ranked:
                terms.append(f"{cat.name}:{label}{TITLE_MARK if hit_title else ''}")
        fired = [r for r in lex.required if r in found]
        coverage = len(fired) / len(lex.required) if lex.required else 1.0
        positive = max(raw, 0.0)
        score = round(coverage * positive / (positive + lex.half), 4) if positive > 0 else 0.0
        relevant = len(fired) == len(lex.required) and score >= self.threshold
        return Relevance(score=score, relevant=relevant, terms=terms)
