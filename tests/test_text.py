"""Table-driven tests of watcher.text (cases in tests/data/text_cases.yaml), plus properties."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, strategies as st

from watcher.text import fold, token_string, tokens

CASES = yaml.safe_load((Path(__file__).parent / "data" / "text_cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_text_case(case: dict) -> None:
    text = case["text"]
    if "repeat" in case:
        text = " ".join([text] * case["repeat"])
        assert len(tokens(text)) == case["count"]
        return
    assert "fold" in case or "tokens" in case, f"case {case['name']!r} checks nothing"
    if "fold" in case:
        assert fold(text) == case["fold"]
    if "tokens" in case:
        assert tokens(text) == case["tokens"]


def test_enough_cases() -> None:
    assert len(CASES) >= 30


def test_token_string_has_boundaries() -> None:
    assert token_string("l'Égypte signe") == " egypte signe "
    assert token_string("") == "  "


@given(st.text())
def test_tokens_never_crash_and_are_clean(text: str) -> None:
    for tok in tokens(text):
        assert tok
        assert tok == tok.strip()
        assert not set(tok) & set(" '-_’")


@given(st.text())
def test_tokens_are_stable(text: str) -> None:
    # Tokenising tokens again changes nothing, so a term and an article fold the same way.
    toks = tokens(text)
    assert tokens(" ".join(toks)) == toks
