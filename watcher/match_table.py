"""All subscriptions' conditions as numpy arrays: one article judged against every subscription at once.

Used by watcher.matching.Matcher, which finds the terms present in an article (TermSet) and hands
their ids here. Kept apart from watcher.matching so that loading a configuration (which validates
terms with parse_term) does not import numpy.
"""

from __future__ import annotations

from functools import partial
from itertools import islice

import numpy as np

from watcher.matching import Compiled, Match

# Match(name, terms) without the Python-level NamedTuple.__new__ (it runs once per match).
_new_match = partial(tuple.__new__, Match)


class SubscriptionTable:
    """Every subscription's condition as arrays, so one article is judged against all of them at once.

    Each (term, subscription) pair has a weight: 1 for an `any` term, ALL for an `all` term, NONE for
    a `none` term, with ALL larger than any subscription's count of `any` terms and NONE larger than
    any possible sum of the other two. Summing the weights of the terms that fired, per subscription
    (one numpy bincount over the fired terms' pairs), gives a score that says everything at once: a
    subscription with k `all` terms matches exactly when its score is in [k*ALL + 1, k*ALL + ALL - 1]
    (k*ALL, no `any` list): all k fired, at least one `any` fired, no `none` fired. The weights are
    small integers, exact in float64. The cost is one pass over the fired pairs and a few operations
    on arrays of one value per subscription, instead of a Python loop over candidate subscriptions.
    """

    def __init__(self, subs: list[Compiled], term_count: int) -> None:
        n = len(subs)
        all_unit = max((len(c.any_ids) for c in subs), default=0) + 1
        none_unit = all_unit * (max((len(c.all_ids) for c in subs), default=0) + 1)
        # Pairs grouped by term: (subscription, weight, label rank). The rank is the position of the
        # term's label in `labels` (sub-major, in each subscription's `positive` order), -1 for a
        # `none` term or a term listed a second time (in both `any` and `all`).
        by_term: list[list[tuple[int, int, int]]] = [[] for _ in range(term_count)]
        labels: list[str] = []
        label_sub: list[int] = []
        for i, c in enumerate(subs):
            rank: dict[int, int] = {}
            for tid, text in c.positive:
                rank[tid] = len(labels)
                labels.append(text)
                label_sub.append(i)
            for ids, weight in ((c.any_ids, 1), (c.all_ids, all_unit), (c.none_ids, none_unit)):
                for tid in ids:
                    by_term[tid].append((i, weight, rank.pop(tid, -1)))
        pairs = [p for ps in by_term for p in ps]
        self.offsets = np.cumsum([0] + [len(ps) for ps in by_term], dtype=np.intp)
        self.pair_sub = np.array([p[0] for p in pairs], dtype=np.intp)
        self.pair_weight = np.array([p[1] for p in pairs], dtype=np.float64)
        self.pair_rank = np.array([p[2] for p in pairs], dtype=np.intp)
        self.labels = np.array(labels, dtype=object)
        self.label_sub = np.array(label_sub, dtype=np.intp)
        need = np.array([len(c.all_ids) * all_unit for c in subs], dtype=np.float64)
        self.low = need + np.array([bool(c.any_ids) for c in subs], dtype=np.float64)
        self.high = need + (all_unit - 1)
        # Filters. A source absent from by_source passes only the subscriptions without a source list;
        # a missing min_relevance is -inf, so "relevance < min" is False as in the plain comparison.
        self.unfiltered = np.array([c.sources is None for c in subs], dtype=bool)
        self.by_source: dict[str, np.ndarray] = {}
        for i, c in enumerate(subs):
            for source in c.sources or ():
                self.by_source.setdefault(source, self.unfiltered.copy())[i] = True
        self.has_sources = bool(self.by_source)
        self.min_relevance = np.array(
            [-np.inf if c.min_relevance is None else c.min_relevance for c in subs], dtype=np.float64)
        self.has_min_relevance = any(c.min_relevance is not None for c in subs)
        self.size = n
        self.names = np.array([c.name for c in subs], dtype=object)
        # Subscriptions with neither `any` nor `all` terms (only `none`, or nothing) can match an
        # article in which no term fired.
        self.unconditional = bool(np.any(self.low == 0))

    def matches(self, hits: set[int], source: str, relevance: float) -> list[Match]:
        """The matching subscriptions, in configuration order, each with the labels of its fired terms."""
        if not hits and not self.unconditional:
            return []
        fired = np.fromiter(hits, dtype=np.intp, count=len(hits))
        starts = self.offsets[fired]
        lengths = self.offsets[fired + 1] - starts
        # Indexes of all fired terms' pairs: each term's run of pairs, laid end to end.
        ends = np.cumsum(lengths)
        pair = np.arange(ends[-1] if len(ends) else 0, dtype=np.intp) + np.repeat(starts - ends + lengths, lengths)
        score = np.bincount(self.pair_sub[pair], self.pair_weight[pair], minlength=self.size)
        ok = (score >= self.low) & (score <= self.high)
        if self.has_sources:
            ok &= self.by_source.get(source, self.unfiltered)
        if self.has_min_relevance:
            ok &= ~(relevance < self.min_relevance)
        matched = np.flatnonzero(ok)
        if not len(matched):
            return []
        # The matching subscriptions' fired labels, in label order: grouped by subscription, each
        # group in the subscription's own order; bounds[k]:bounds[k + 1] is the k-th match's group.
        rank = self.pair_rank[pair]
        rank = rank[rank >= 0]
        rank = rank[ok[self.label_sub[rank]]]
        rank.sort()
        labels = self.labels[rank].tolist()
        bounds = np.searchsorted(self.label_sub[rank], matched).tolist()
        bounds.append(len(labels))
        terms = [labels[a:b] for a, b in zip(bounds, islice(bounds, 1, None))]
        return list(map(_new_match, zip(self.names[matched].tolist(), terms)))
