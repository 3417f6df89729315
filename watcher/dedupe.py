"""Duplicate detection: exact fingerprints, MinHash signatures, LSH band keys and the decision rule.

Pure functions over text and an in-memory index; no store, no fetch. Stored articles are found through
watcher.store.bands (their band keys are rows of the store, so a process's memory does not grow with
the store); `closest()` decides among the candidates it returns. `StoryIndex` is the same index in
memory: ingest uses one for the new articles of a single batch (a story can start and gain a copy in
one poll).

- fingerprint(title, body): SHA-256 of the normalised words (watcher.text.tokens: case, accents,
  apostrophes, whitespace and punctuation do not count). Catches verbatim republication.
- signature(title, body): b-bit MinHash (16 bits per value) of word 3-shingles, as compact bytes for the
  articles.signature column. Catches light rewrites (new title, rewritten first paragraph, an added
  sentence, different boilerplate).
- band_keys / StoryIndex: LSH banding over the signatures (candidates), then a check of the estimated
  Jaccard similarity of each candidate (decision, `closest`). In memory, keys live in sorted numpy
  arrays plus a small dict for recent additions: a decision is a few binary searches.

Thresholds were tuned on tests/data/dedupe/ (see tests/test_dedupe.py for the precision and recall).
The body, not the title, identifies a story: titles are what republishers rewrite first. When the body
is too short to identify anything (a feed entry with a one-line summary) the title is included.
"""

from __future__ import annotations

import hashlib
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from watcher.text import tokens

__all__ = [
    "Duplicate", "StoryIndex", "band_keys", "closest", "fingerprint", "signature", "similarity",
    "EMPTY_FINGERPRINT", "NEAR_THRESHOLD", "FAR_THRESHOLD", "FAR_DAYS",
]

# --- parameters (changing NUM_PERM, SHINGLE, BANDS/ROWS or the seed needs a new SIGNATURE_VERSION) ---
SIGNATURE_VERSION = 1
NUM_PERM = 192          # MinHash values per signature
SHINGLE = 3             # words per shingle
ROWS = 3                # values per LSH band: 64 bands find 98% of pairs at Jaccard 0.4, 83% at 0.3
BANDS = NUM_PERM // ROWS
_SEED = 20240604
# Below this many body words the body alone cannot identify a story; the title joins it.
MIN_BODY_TOKENS = 40
# Estimated Jaccard similarity (of 3-shingle sets) from which two articles are one story.
NEAR_THRESHOLD = 0.30
# Articles further apart in time than FAR_DAYS must be nearly identical to merge: recurring events
# (an annual forum, a renewed MoU) reuse much of last year's wording. A republication weeks later
# still merges at NEAR_THRESHOLD.
FAR_DAYS = 120
FAR_THRESHOLD = 0.8

_BITS = 16
_MASK = (1 << _BITS) - 1
_RANDOM_MATCH = 2.0 ** -_BITS   # chance that two unrelated 16-bit minimums agree
_SIG_LEN = 1 + NUM_PERM * 2     # version byte + little-endian uint16 values
_PRIME = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xBF58476D1CE4E5B9)



def _constants(name: str, count: int, odd: bool = False) -> np.ndarray:
    """Fixed pseudo-random uint64 constants derived with BLAKE2b, not a numpy generator: stored
    signatures must stay comparable whatever numpy version computes the next one."""
    values = [int.from_bytes(hashlib.blake2b(f"{_SEED}:{name}:{i}".encode(), digest_size=8).digest(), "little")
              for i in range(count)]
    array = np.array(values, dtype=np.uint64)
    return array | np.uint64(1) if odd else array


# Multiply-add-shift hash family over 32-bit shingle hashes: h_i(x) = (a_i * x + b_i) >> 32 (mod 2^64).
_A = _constants("a", NUM_PERM, odd=True)
_B = _constants("b", NUM_PERM)
_BAND_SEEDS = _constants("band", BANDS)
_SHINGLE_MULT = _constants("shingle", SHINGLE, odd=True)

_EMPTY_DIGEST = hashlib.sha256(b"").hexdigest()
EMPTY_FINGERPRINT = _EMPTY_DIGEST  # an article with no words: never an exact duplicate of anything


@dataclass(frozen=True)
class Duplicate:
    """What find() found: the story an incoming article belongs to, and the closest stored copy."""

    kind: str            # "exact" | "near"
    story_id: int
    article_id: int
    similarity: float    # 1.0 for exact; estimated Jaccard of the 3-shingle sets for near


def _words(title_words: Sequence[str], body_words: Sequence[str]) -> list[str]:
    """The words that identify an article: its body, with the title in front when the body is short."""
    if len(body_words) < MIN_BODY_TOKENS:
        return [*title_words, *body_words]
    return list(body_words)


def keys(title_words: Sequence[str], body_words: Sequence[str]) -> tuple[str, bytes]:
    """fingerprint() and signature() from words already tokenised with watcher.text.tokens()."""
    words = _words(title_words, body_words)
    return _fingerprint(words), _signature(words)


def fingerprint(title: str, body: str) -> str:
    """Exact-duplicate key (64 hex chars): case-, accent-, whitespace- and punctuation-insensitive."""
    return _fingerprint(_words(tokens(title or ""), tokens(body or "")))


def _fingerprint(words: Sequence[str]) -> str:
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


# CRC-32 of words seen lately: most words of an article were in earlier ones (news text is Zipfian),
# and a dict lookup costs a third of encoding and hashing the word again. Emptied when full.
_WORD_HASHES: dict[str, int] = {}
_WORD_HASHES_MAX = 1 << 15
# Shingles per block of the (NUM_PERM, shingles) product array: 1.5 MB at most, whatever the article.
_BLOCK = 1024


def _word_hashes(words: Sequence[str]) -> np.ndarray:
    known = _WORD_HASHES
    hashes = [known.get(w) for w in words]
    if None in hashes:
        if len(known) >= _WORD_HASHES_MAX:
            known.clear()
        for i, value in enumerate(hashes):
            if value is None:
                hashes[i] = known[words[i]] = zlib.crc32(words[i].encode("utf-8"))
    return np.array(hashes, dtype=np.uint64)


def _minhash(words: Sequence[str]) -> np.ndarray | None:
    if not words:
        return None
    toks = _word_hashes(words)
    k = min(SHINGLE, len(toks))
    n = len(toks) - k + 1
    h = np.zeros(n, dtype=np.uint64)
    for j in range(k):  # order-sensitive combination of k consecutive word hashes
        h += toks[j:j + n] * _SHINGLE_MULT[j]
    h ^= h >> np.uint64(29)
    h *= _MIX
    x = h >> np.uint64(32)  # repeated shingles are harmless: a minimum is the same over a multiset
    # h_i(x) = (a_i * x + b_i) >> 32, minimum over x. The shift is monotonic, so it is applied to the
    # 192 minimums rather than to every product; the products are updated in place, by blocks of
    # shingles: the temporaries of the plain expression cost 5x more than the arithmetic.
    lowest = None
    for start in range(0, len(x), _BLOCK):
        products = np.multiply.outer(_A, x[start:start + _BLOCK])
        products += _B[:, None]
        block = products.min(axis=1)
        lowest = block if lowest is None else np.minimum(lowest, block, out=lowest)
    assert lowest is not None
    values = lowest >> np.uint64(32)
    return (values & np.uint64(_MASK)).astype(np.uint16)


def signature(title: str, body: str) -> bytes:
    """Near-duplicate signature as bytes (b"" when the article has no words at all)."""
    return _signature(_words(tokens(title or ""), tokens(body or "")))


def _signature(words: Sequence[str]) -> bytes:
    values = _minhash(words)
    if values is None:
        return b""
    return bytes([SIGNATURE_VERSION]) + values.astype("<u2").tobytes()


def _decode(sig: bytes | None) -> np.ndarray | None:
    if not sig or len(sig) != _SIG_LEN or sig[0] != SIGNATURE_VERSION:
        return None
    return np.frombuffer(sig, dtype="<u2", offset=1).astype(np.uint16)


def _estimate(matches: np.ndarray | float) -> Any:
    """Jaccard estimate from the fraction of equal b-bit minimums (corrects for chance agreement)."""
    return np.clip((matches - _RANDOM_MATCH) / (1.0 - _RANDOM_MATCH), 0.0, 1.0)


def similarity(sig_a: bytes, sig_b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures (0.0 when either is empty or of another version)."""
    a, b = _decode(sig_a), _decode(sig_b)
    if a is None or b is None:
        return 0.0
    return float(_estimate(float(np.mean(a == b))))


# Decoded values and band keys of the signatures seen last: ingest asks about each new article four
# times (find, then add, in its batch's index and in the store's), each time computing the band keys.
_DECODED: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
_DECODED_MAX = 256


def _decoded(sig: bytes | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(values, band keys) of a signature, None when it is empty or of another version."""
    memo = isinstance(sig, bytes)  # (a driver may hand a memoryview: not hashable, decoded each time)
    found = _DECODED.get(sig) if memo else None  # type: ignore[arg-type]
    if found is None:
        values = _decode(sig)
        if values is None:
            return None
        bands = _band_keys(values[None, :])[0]
        values.flags.writeable = bands.flags.writeable = False  # shared by every caller
        found = (values, bands)
        if memo:
            if len(_DECODED) >= _DECODED_MAX:
                _DECODED.clear()
            _DECODED[sig] = found  # type: ignore[index]
    return found


def _band_keys(sigs: np.ndarray) -> np.ndarray:
    """LSH band keys, shape (n, BANDS): a 32-bit hash of each band's ROWS values and its band number.

    32 bits keep the index small; a chance collision only adds a candidate that the Jaccard check drops
    (about 0.015 per decision with a million stored articles).
    """
    s = sigs.reshape(len(sigs), BANDS, ROWS).astype(np.uint64)
    h = np.broadcast_to(_BAND_SEEDS, (len(sigs), BANDS)).copy()
    for j in range(ROWS):
        h ^= s[:, :, j]
        h *= _PRIME
    h ^= h >> np.uint64(31)
    return (h >> np.uint64(32)).astype(np.uint32)


def band_keys(signature: bytes | None) -> list[int]:
    """The distinct LSH band keys of a signature as signed 32-bit integers (the store's article_bands
    rows); [] when it is empty or of another version."""
    decoded = _decoded(signature)
    if decoded is None:
        return []
    keys = np.unique(decoded[1]).astype(np.int64)
    keys[keys >= 1 << 31] -= 1 << 32
    return keys.tolist()


def closest(signature: bytes | None, published_at: datetime | None,
            candidates: Sequence[tuple[bytes | None, datetime | None]]) -> tuple[int, float] | None:
    """Position and estimated similarity of the candidate (signature, published_at) an article belongs
    with, by StoryIndex.find's rule (earliest among equals); None when none is close enough."""
    decoded = _decoded(signature)
    if decoded is None:
        return None
    usable = [(i, values, _epoch(when)) for i, (sig, when) in enumerate(candidates)
              if (values := _decode(sig)) is not None]
    if not usable:
        return None
    sigs = np.stack([values for _, values, _ in usable])
    published = np.array([when for _, _, when in usable], dtype=np.float64)
    found = _best(decoded[0], _epoch(published_at), sigs, published)
    return None if found is None else (usable[found[0]][0], found[1])


def _best(sig: np.ndarray, when: float, sigs: np.ndarray, published: np.ndarray) -> tuple[int, float] | None:
    """Row of `sigs` most similar to `sig` that reaches the threshold for its distance in time."""
    sims = _estimate(np.count_nonzero(sigs == sig, axis=1) / NUM_PERM)
    needed = np.full(len(sigs), NEAR_THRESHOLD)
    if not math.isnan(when):
        apart = np.abs(published - when) / 86400.0  # NaN (unknown date) compares False
        needed[apart > FAR_DAYS] = FAR_THRESHOLD
    ok = np.flatnonzero(sims >= needed)
    if not len(ok):
        return None
    best = int(ok[np.argmax(sims[ok])])  # argmax keeps the earliest row among equals
    return best, float(sims[best])


def _content_key(content_hash: str) -> int:
    try:
        return int(content_hash[:16], 16)
    except ValueError:  # not a hex digest: hash it so any string works as a key
        return int.from_bytes(hashlib.blake2b(content_hash.encode("utf-8"), digest_size=8).digest(), "big")


def _epoch(when: datetime | None) -> float:
    return when.timestamp() if when is not None else math.nan


class _MultiMap:
    """Integer key -> rows: sorted arrays, plus a dict for the keys added since the last merge.

    32-bit keys are packed with their uint32 row into one sorted uint64 array (key << 32 | row): half
    the memory of separate arrays. 64-bit keys keep parallel key and row arrays. Additions go to a
    dict and are merged into the arrays in one linear pass (np.insert at searchsorted positions) every
    MERGE_AT entries, so no addition pays for a full re-sort.
    """

    MERGE_AT = 1 << 16  # delta entries before they are folded into the sorted arrays

    def __init__(self, key_bits: int) -> None:
        self.packed_mode = key_bits == 32
        self.packed = np.empty(0, dtype=np.uint64)  # 32-bit keys: key << 32 | row, sorted
        self.keys = np.empty(0, dtype=np.uint64)    # 64-bit keys, sorted, with their rows
        self.rows = np.empty(0, dtype=np.uint32)
        # The delta: key -> its first row, plus key -> further rows for the few keys that have more.
        # One dict of single rows is filled and probed with whole-dict operations (C loops); band keys
        # seldom repeat, so `more` stays small.
        self.first: dict[int, int] = {}
        self.more: dict[int, list[int]] = {}
        self.delta_size = 0

    def _clear_delta(self) -> None:
        self.first, self.more, self.delta_size = {}, {}, 0

    def add(self, keys: Sequence[int], row: int) -> None:
        added = dict.fromkeys(keys, row)
        for key in added.keys() & self.first.keys():
            self.more.setdefault(key, []).append(added.pop(key))
        self.first.update(added)
        self.delta_size += len(keys)
        if self.delta_size >= self.MERGE_AT:
            self._merge()

    def _delta_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        pairs = [*self.first.items(), *((k, r) for k, rs in self.more.items() for r in rs)]
        keys = np.fromiter((k for k, _ in pairs), dtype=np.uint64, count=len(pairs))
        rows = np.fromiter((r for _, r in pairs), dtype=np.uint32, count=len(pairs))
        return keys, rows

    def _merge(self) -> None:
        keys, rows = self._delta_pairs()
        if self.packed_mode:
            new = np.sort(_pack(keys, rows))
            self.packed = np.insert(self.packed, np.searchsorted(self.packed, new), new)
        else:
            order = np.argsort(keys)
            at = np.searchsorted(self.keys, keys[order])
            self.keys = np.insert(self.keys, at, keys[order])
            self.rows = np.insert(self.rows, at, rows[order])
        self._clear_delta()

    def lookup(self, keys: np.ndarray) -> list[np.ndarray | list[int]]:
        """Row groups for every key (unsorted, may repeat across keys)."""
        found: list[np.ndarray | list[int]] = []
        if self.packed_mode and len(self.packed):
            k = keys.astype(np.uint64) << np.uint64(32)
            lo = np.searchsorted(self.packed, k, side="left")
            hi = np.searchsorted(self.packed, k | np.uint64(0xFFFFFFFF), side="right")
            for i in np.flatnonzero(hi > lo):
                found.append(self.packed[lo[i]:hi[i]] & np.uint64(0xFFFFFFFF))
        elif len(self.keys):
            lo = np.searchsorted(self.keys, keys, side="left")
            hi = np.searchsorted(self.keys, keys, side="right")
            for i in np.flatnonzero(hi > lo):
                found.append(self.rows[lo[i]:hi[i]])
        if self.first:
            for key in self.first.keys() & set(keys.tolist()):
                found.append([self.first[key], *self.more.get(key, ())])
        return found

    def nbytes(self) -> int:
        # Arrays exactly; the delta dicts roughly (entry and key int; list and its items).
        arrays = self.packed.nbytes + self.keys.nbytes + self.rows.nbytes
        return arrays + len(self.first) * 100 + len(self.more) * 150


def _pack(keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return (keys.astype(np.uint64) << np.uint64(32)) | rows.astype(np.uint64)


class StoryIndex:
    """In-memory index of stored articles: content hash and MinHash LSH bands -> article -> story."""

    def __init__(self, capacity: int = 1024) -> None:
        capacity = max(16, capacity)
        self._n = 0
        self._article = np.empty(capacity, dtype=np.int64)
        self._story = np.empty(capacity, dtype=np.int64)
        self._published = np.empty(capacity, dtype=np.float64)
        self._alive = np.zeros(capacity, dtype=bool)
        self._sigs = np.zeros((capacity, NUM_PERM), dtype=np.uint16)
        self._row_of: dict[int, int] = {}
        self._exact = _MultiMap(64)
        self._bands = _MultiMap(32)

    def __len__(self) -> int:
        return len(self._row_of)

    # --- building ------------------------------------------------------------------------------

    def add(self, article_id: int, story_id: int, content_hash: str, signature: bytes | None,
            published_at: datetime | None) -> None:
        """Index a stored article; adding an article id again replaces it (a corrected article)."""
        self.remove(article_id)
        row = self._append_row(article_id, story_id, published_at)
        if content_hash and content_hash != EMPTY_FINGERPRINT:
            self._exact.add([_content_key(content_hash)], row)
        decoded = _decoded(signature)
        if decoded is not None:
            self._sigs[row] = decoded[0]
            self._bands.add(decoded[1].tolist(), row)

    def remove(self, article_id: int) -> bool:
        """Forget an article (its keys stay in the arrays but never match again)."""
        row = self._row_of.pop(article_id, None)
        if row is None:
            return False
        self._alive[row] = False
        return True

    def _append_row(self, article_id: int, story_id: int, published_at: datetime | None) -> int:
        if self._n == len(self._article):
            self._grow()
        row = self._n
        self._n += 1
        self._article[row] = article_id
        self._story[row] = story_id
        self._published[row] = _epoch(published_at)
        self._alive[row] = True
        self._row_of[article_id] = row
        return row

    def _grow(self) -> None:
        capacity = len(self._article) * 2
        for name in ("_article", "_story", "_published", "_alive"):
            old = getattr(self, name)
            new = np.zeros(capacity, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)
        sigs = np.zeros((capacity, NUM_PERM), dtype=np.uint16)
        sigs[: len(self._sigs)] = self._sigs
        self._sigs = sigs

    # --- deciding ------------------------------------------------------------------------------

    def find(self, content_hash: str, signature: bytes | None, published_at: datetime | None,
             *, exclude: int | None = None) -> Duplicate | None:
        """The story an incoming article belongs to, or None when it is a new story.

        An exact fingerprint match wins; otherwise the most similar stored article whose estimated
        Jaccard similarity reaches NEAR_THRESHOLD (FAR_THRESHOLD when they are more than FAR_DAYS
        apart). `exclude` skips one article id (re-checking a corrected article against the others).
        """
        exact = self._find_exact(content_hash, exclude)
        if exact is not None:
            return exact
        decoded = _decoded(signature)
        if decoded is None:
            return None
        return self._find_near(*decoded, _epoch(published_at), exclude)

    def _live(self, groups: list[np.ndarray | list[int]], exclude: int | None) -> np.ndarray:
        if not groups:
            return np.empty(0, dtype=np.int64)
        rows = np.unique(np.concatenate([np.asarray(g, dtype=np.int64) for g in groups]))
        rows = rows[self._alive[rows]]
        if exclude is not None:
            rows = rows[self._article[rows] != exclude]
        return rows

    def _find_exact(self, content_hash: str, exclude: int | None) -> Duplicate | None:
        if not content_hash or content_hash == EMPTY_FINGERPRINT:
            return None
        key = np.array([_content_key(content_hash)], dtype=np.uint64)
        rows = self._live(self._exact.lookup(key), exclude)
        if not len(rows):
            return None
        row = int(rows[0])  # the first stored copy
        return Duplicate("exact", int(self._story[row]), int(self._article[row]), 1.0)

    def _find_near(self, sig: np.ndarray, bands: np.ndarray, when: float, exclude: int | None) -> Duplicate | None:
        rows = self._live(self._bands.lookup(bands), exclude)
        if not len(rows):
            return None
        found = _best(sig, when, self._sigs[rows], self._published[rows])
        if found is None:
            return None
        row = int(rows[found[0]])
        return Duplicate("near", int(self._story[row]), int(self._article[row]), found[1])

    # --- introspection -------------------------------------------------------------------------

    def story_of(self, article_id: int) -> int | None:
        row = self._row_of.get(article_id)
        return None if row is None else int(self._story[row])

    def nbytes(self) -> int:
        """Approximate memory held by the index (arrays exactly, dicts estimated)."""
        arrays = sum(a.nbytes for a in (self._article, self._story, self._published, self._alive, self._sigs))
        return arrays + self._exact.nbytes() + self._bands.nbytes() + len(self._row_of) * 100
