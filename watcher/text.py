"""French-aware text normalisation: folding (case, accents, apostrophes, dashes) and word tokens.

Used by relevance, matching and `watcher articles --match`, so that all three agree on what a word is:

- fold(text): NFKC, case folding, accents removed on Latin/Greek/Cyrillic letters (é→e, ç→c),
  ligatures spelled out (œ→oe, æ→ae), Arabic short vowels and tatweel removed, typographic apostrophes
  unified to "'" and dashes to "-". Other scripts keep their marks (Devanagari vowel signs are letters
  of the word, not accents).
- tokens(text): the folded words. French elision is split off ("l'Égypte", "d’Égypte" → "egypte";
  "jusqu'à" → "a"), an English possessive "'s" is dropped, and hyphens and apostrophes separate words,
  so "Guinée-Bissau" yields "guinee", "bissau" and is found whole (as the phrase "guinee bissau") and by
  part ("bissau"). A token never contains an apostrophe, a hyphen, an underscore or punctuation.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

__all__ = ["fold", "tokens", "token_string", "ELISIONS"]

# French elided words, written before an apostrophe. Longest first so "qu'" does not shadow "jusqu'".
ELISIONS: tuple[str, ...] = ("jusqu", "lorsqu", "puisqu", "quoiqu", "qu", "l", "d", "j", "n", "s", "c", "m", "t")

# Characters that NFKD leaves whole but a French reader treats as their base letters, plus every
# apostrophe-like and dash-like character we have seen in scraped news text.
_CHAR_MAP: dict[str, str] = {
    "œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "ŀ": "l", "þ": "th",
    "’": "'", "‘": "'", "ʼ": "'", "ʻ": "'", "ʹ": "'", "′": "'", "`": "'", "´": "'", "‛": "'", "ʾ": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "⁃": "-", "﹘": "-", "﹣": "-",
}
_CHAR_RE = re.compile("[" + re.escape("".join(_CHAR_MAP)) + "]")

# Marks that are accents to fold away: combining diacriticals (Latin, Greek, Cyrillic after NFKD) and
# Arabic harakat, superscript alef and tatweel (readers and writers omit them freely).
_ACCENT_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
                        "\u064b-\u065f\u0670\u0640]")


def _mark_class() -> str:
    """A regex character class of every combining mark (category M) Python knows, as ranges."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x300, min(sys.maxunicode, 0x2FFFF) + 1):
        if unicodedata.category(chr(cp)).startswith("M"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


@functools.cache
def _word_re() -> re.Pattern[str]:
    """A word starts with a letter or digit and continues with letters, digits or combining marks (so
    scripts whose vowel signs are marks stay one word). Underscore is not a word character here. Built
    on first use: scanning Unicode for its marks takes ~50 ms, and Latin text never needs it."""
    return re.compile(rf"[^\W_](?:[^\W_]|[{_mark_class()}])*")


# The fast path: after folding, Latin text has no combining marks left, so plain \w runs are words.
# It applies when nothing outside Latin letters, general punctuation and symbols is present.
_FAST_WORD_RE = re.compile(r"\w+")
# (U+302A-U+302F, ideographic tone marks, are combining marks: they take the slow path, so both paths
# read every text alike and a text's tokens are the same whichever path each of its chunks took.)
_NEEDS_SLOW_RE = re.compile("[^\x00-\u02ff\u2000-\u2bff\u3000-\u3029\u3030-\u303f\ufe30-\ufe4f"
                            "\U0001f000-\U0001faff]")

# An elided word at the end of the text before an apostrophe: "... l" in "... l'egypte".
_ELIDED_TAIL_RE = re.compile(r"(?:^|[\W_])(" + "|".join(ELISIONS) + r")$")
_WORD_START_RE = re.compile(r"[^\W_]")


def fold(text: str) -> str:
    """Fold text for comparison: NFKC, casefold, accents off, apostrophes and dashes unified."""
    if not text:
        return ""
    if text.isascii():
        # Fast path: only case and the ASCII backtick need folding.
        return text.lower().replace("`", "'")
    s = unicodedata.normalize("NFKD", text).casefold()
    if "\u0306" in s:
        # Cyrillic й is a letter of its own, not и with an accent: keep it.
        s = s.replace("\u0438\u0306", "\u0439")
    s = _ACCENT_RE.sub("", s)
    s = _CHAR_RE.sub(lambda m: _CHAR_MAP[m.group()], s)
    return unicodedata.normalize("NFKC", s)


# Tokens of whitespace-separated chunks seen lately. Whitespace never joins or splits words, and
# neither folding nor the elision rules look across it, so a text's tokens are its chunks' tokens one
# after the other. News text is Zipfian: most chunks of an article were in an earlier one, and tokens()
# costs a dict lookup per chunk instead of folding the whole text (0.47 -> 0.1 ms for 400 words of
# French news; unseen chunks cost what they did). Bounded: emptied when full, a few MB at most.
_CHUNK_TOKENS: dict[str, tuple[str, ...]] = {}
_CHUNK_TOKENS_MAX = 1 << 15


def tokens(text: str) -> list[str]:
    """Folded word tokens of text, French elision split, hyphenated words split into their parts."""
    known = _CHUNK_TOKENS
    out: list[str] = []
    for chunk in text.split():
        toks = known.get(chunk)
        if toks is None:
            if len(known) >= _CHUNK_TOKENS_MAX:
                known.clear()
            toks = known[chunk] = tuple(_tokens(chunk))
        out += toks
    return out


def _tokens(text: str) -> list[str]:
    """tokens() without the chunk memory."""
    s = fold(text)
    if "'" in s:
        s = _split_elisions(s)
    if "_" in s:
        s = s.replace("_", " ")
    if _NEEDS_SLOW_RE.search(s) is None:
        return _FAST_WORD_RE.findall(s)
    return _word_re().findall(s)


def _split_elisions(s: str) -> str:
    """Drop elided words before an apostrophe ("l'", "qu'") and English possessive "'s".

    Works piece by piece between apostrophes: a per-character regex over the whole text is several
    times slower, and articles have few apostrophes.
    """
    parts = s.split("'")
    for i in range(len(parts) - 1):
        after = parts[i + 1]
        if not after or _WORD_START_RE.match(after) is None:
            continue
        before = parts[i]
        m = _ELIDED_TAIL_RE.search(before[-8:])
        if m is not None:
            parts[i] = before[: len(before) - len(m.group(1))]
        elif after[0] == "s" and (len(after) == 1 or _WORD_START_RE.match(after, 1) is None) \
                and before and _WORD_START_RE.match(before[-1]) is not None:
            parts[i + 1] = after[1:]  # Egypt's -> egypt
    return " ".join(parts)


def token_string(text: str) -> str:
    """The tokens joined by single spaces with a space at each end: " egypte signe ".

    Matching looks for " term " in this string, so a hit always starts and ends on a word boundary.
    """
    return " " + " ".join(tokens(text)) + " "
