"""The cold path's shortcuts give the answers of the plain computations they replace.

Each shortcut (chunk memory in tokens(), split/join whitespace, MinHash in place and by blocks, guess_language
by distinct chunks, the story index's delta dicts) is checked against the straightforward version on
arbitrary input, so a later change that breaks the equivalence fails here, not in a benchmark.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np
from hypothesis import given, settings, strategies as st

from watcher import dedupe, text
from watcher.boilerplate import squash
from watcher.extract import _WORD, _language_hints, guess_language

# Letters, accents (precomposed and combining), apostrophes, hyphens, whitespace of several kinds,
# other scripts and combining marks: what the shortcuts must not read differently.
_TRICKY = st.text(st.sampled_from(list(
    "abcdeglnqstu LDQS'’‘`´¨-–—_.,;!?()«»\u00a0\u2009\u202f\t\n\x1c\x85\u2028\u0301\u0327\u0308"
    "ÉéèçœæßſİıΣςكتابفي\u064e\u0640अकि\u093f\u0903१Ω\ufe33😀⁄¼ﬁ\u302a")), max_size=80) | st.text(max_size=80)


@settings(max_examples=500, deadline=None)
@given(st.lists(_TRICKY, max_size=4))
def test_tokens_with_chunk_memory_equal_tokens_of_the_whole_text(pieces: list[str]) -> None:
    whole = " ".join(pieces)
    text.tokens(whole)  # fills the chunk memory
    assert text.tokens(whole) == text._tokens(whole)
    assert text.tokens(" ".join(reversed(pieces))) == text._tokens(" ".join(reversed(pieces)))


def test_tokens_by_chunks_on_texts_that_mix_the_word_paths() -> None:
    # A chunk alone may take the fast path while the whole text takes the slow one (another script
    # elsewhere): both must read every chunk alike, combining marks included.
    for value in ("a\u302ab كتاب", "abc\u302a كتاب l'Égypte", "l' egypte كتاب d'x", "Egypt's عربي", "x\u0301y अकि"):
        assert text.tokens(value) == text._tokens(value), value


def test_tokens_chunk_memory_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(text, "_CHUNK_TOKENS", {})
    monkeypatch.setattr(text, "_CHUNK_TOKENS_MAX", 8)
    words = [f"mot{i}" for i in range(50)]
    assert text.tokens(" ".join(words)) == words
    assert len(text._CHUNK_TOKENS) <= 8


@given(st.text())
def test_squash_collapses_whitespace_like_the_regex(value: str) -> None:
    assert squash(value) == re.sub(r"\s+", " ", value).strip()


def _minhash_reference(words: Sequence[str]) -> np.ndarray:
    """The textbook computation: every distinct shingle, every hash function, then the minimum."""
    toks = np.array([zlib.crc32(w.encode("utf-8")) for w in words], dtype=np.uint64)
    k = min(dedupe.SHINGLE, len(toks))
    n = len(toks) - k + 1
    h = np.zeros(n, dtype=np.uint64)
    for j in range(k):
        h += toks[j:j + n] * dedupe._SHINGLE_MULT[j]
    h ^= h >> np.uint64(29)
    h *= dedupe._MIX
    x = np.unique(h >> np.uint64(32))
    values = ((dedupe._A[:, None] * x[None, :] + dedupe._B[:, None]) >> np.uint64(32)).min(axis=1)
    return (values & np.uint64(0xFFFF)).astype(np.uint16)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["accord", "numérique", "tunisie", "x", "é", "2024", "partenariat"]),
                min_size=1, max_size=40),
       st.integers(min_value=0, max_value=3))
def test_minhash_equals_the_reference(words: list[str], repeats: int) -> None:
    words = words * (repeats + 1)  # repeated shingles: a minimum ignores them
    assert (dedupe._minhash(words) == _minhash_reference(words)).all()


def test_minhash_of_a_long_article_spans_blocks() -> None:
    words = [f"w{i % 3000}" for i in range(2 * dedupe._BLOCK + 17)]
    assert (dedupe._minhash(words) == _minhash_reference(words)).all()


def _guess_reference(value: str) -> str | None:
    words = [w.lower() for w in _WORD.findall(value[:4000])]
    if len(words) < 8:
        return None
    scores = {lang: sum(1 for w in words if w in hints) for lang, hints in _language_hints().items()}
    best = max(scores, key=lambda lang: scores[lang])
    ranked = sorted(scores.values(), reverse=True)
    return best if ranked[0] >= 3 and ranked[0] >= 2 * ranked[1] else None


_HINTY = st.lists(st.sampled_from(
    "le la les des et the and of في من LE The İs ſont ² ½ 五 2024 l'Égypte (the) de-la « » Le, x".split(" ")
    + ["", "\u00a0", "\n"]), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_HINTY, st.sampled_from([" ", "", "  "]))
def test_guess_language_equals_the_reference(words: list[str], separator: str) -> None:
    value = separator.join(words)
    assert guess_language(value) == _guess_reference(value)


def test_index_delta_keeps_every_row_of_a_repeated_key() -> None:
    multimap = dedupe._MultiMap(64)
    multimap.add([7, 8], 1)
    multimap.add([7], 2)
    multimap.add([7, 7], 3)  # a key twice in one addition: one row is enough
    found = sorted(int(r) for rows in multimap.lookup(np.array([7], dtype=np.uint64)) for r in rows)
    assert found == [1, 2, 3]
    multimap._merge()
    found = sorted(int(r) for rows in multimap.lookup(np.array([7, 8], dtype=np.uint64)) for r in rows)
    assert found == [1, 1, 2, 3]
