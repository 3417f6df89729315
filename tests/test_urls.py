"""Canonical URL and fetchability cases, one row each in tests/data/urls.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from watcher.urls import canonical_url, is_fetchable

CASES = yaml.safe_load((Path(__file__).parent / "data" / "urls.yaml").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[repr(c["url"])[:70] for c in CASES])
def test_canonical_url(case: dict) -> None:
    assert canonical_url(case["url"]) == case["canonical"]


@pytest.mark.parametrize("case", CASES, ids=[repr(c["url"])[:70] for c in CASES])
def test_is_fetchable(case: dict) -> None:
    assert is_fetchable(case["url"]) is case["fetchable"]


@pytest.mark.parametrize("case", CASES, ids=[repr(c["url"])[:70] for c in CASES])
def test_canonical_is_idempotent(case: dict) -> None:
    once = canonical_url(case["url"])
    assert canonical_url(once) == once


def test_same_page_spellings_collapse() -> None:
    spellings = [
        "http://www.digitalbusiness.africa/la-tunisie-et-la-coree/?utm_source=rss&utm_medium=rss",
        "https://digitalbusiness.africa/la-tunisie-et-la-coree#comments",
        "HTTPS://DigitalBusiness.Africa:443/la-tunisie-et-la-coree/",
        "https://digitalbusiness.africa/la-tunisie-et-la-%63oree?fbclid=abc",
    ]
    assert len({canonical_url(u) for u in spellings}) == 1


def test_meaningful_queries_differ() -> None:
    assert canonical_url("https://example.org/?p=1") != canonical_url("https://example.org/?p=2")


def test_non_str_is_not_fetchable() -> None:
    assert is_fetchable(None) is False  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_and_is_idempotent(text: str) -> None:
    once = canonical_url(text)
    assert isinstance(once, str)
    assert canonical_url(once) == once
    is_fetchable(text)


@settings(max_examples=300, deadline=None)
@given(
    st.from_regex(r"https?://(www\.)?[a-z]{1,8}\.(org|africa)(/[a-zA-Z0-9%éà._~-]{0,10}){0,3}/?", fullmatch=True),
    st.lists(st.tuples(st.sampled_from(["p", "id", "utm_source", "fbclid", "q"]), st.text(max_size=5)), max_size=4),
)
def test_generated_urls_are_stable(base: str, params: list[tuple[str, str]]) -> None:
    from urllib.parse import urlencode

    url = base + ("?" + urlencode(params) if params else "")
    once = canonical_url(url)
    assert once.startswith("https://") and "www." not in once.split("/")[2]
    assert "utm_source" not in once and "fbclid" not in once
    assert canonical_url(once) == once
