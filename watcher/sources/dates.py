"""Publication dates as found in feeds and article pages: ISO 8601, RFC 822, French and English
written dates ("29 mai 2024", "mardi 23 janvier 2024 à 14h30", "May 29, 2024"), day-first numeric
dates ("23.07.2023 14:04") and Unix timestamps. Month names live in watcher/data/extract.yaml."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from functools import cache
from importlib import resources
from typing import Any

import yaml

# Timestamps outside this window are junk (a zero, a misread number), not publication dates.
_MIN_YEAR, _MAX_YEAR = 1990, 2100

_TIME = r"(?:\s*(?:a|at|,|-|\s)\s*(?P<hour>\d{1,2})\s*(?:h|:)\s*(?P<minute>\d{2})?(?:\s*:\s*(?P<second>\d{2}))?)?"
_NUMERIC = re.compile(r"\b(?P<day>\d{1,2})[./-](?P<month>\d{1,2})[./-](?P<year>\d{4})\b" + _TIME)


@cache
def _tables() -> dict[str, Any]:
    text = resources.files("watcher").joinpath("data/extract.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def _months() -> dict[str, int]:
    return {str(name): int(number) for name, number in _tables()["months"].items()}


@cache
def _written_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    names = "|".join(sorted(map(re.escape, _months()), key=len, reverse=True))
    day_first = re.compile(
        rf"\b(?P<day>\d{{1,2}})(?:er|st|nd|rd|th)?\s+(?P<month>{names})\.?,?\s+(?P<year>\d{{4}})\b" + _TIME)
    month_first = re.compile(
        rf"\b(?P<month>{names})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b" + _TIME)
    return day_first, month_first


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _aware(value: datetime) -> datetime | None:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    return value if _MIN_YEAR <= value.year <= _MAX_YEAR else None


def from_timestamp(value: float) -> datetime | None:
    """A Unix timestamp in seconds (or milliseconds, as some sites write them) as an aware UTC datetime."""
    if value > 1e11:
        value /= 1000.0
    try:
        return _aware(datetime.fromtimestamp(value, tz=timezone.utc))
    except (OverflowError, OSError, ValueError):
        return None


def parse_date(value: str | int | float | None) -> datetime | None:
    """The datetime `value` denotes, as aware UTC (naive values are taken as UTC), or None if unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return from_timestamp(float(value))
    text = " ".join(str(value).split())
    if not text:
        return None
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return from_timestamp(float(text))
    return _iso(text) or _rfc822(text) or _written(text)


def _iso(text: str) -> datetime | None:
    candidate = text.replace(" ", "T", 1) if re.match(r"\d{4}-\d{2}-\d{2} \d", text) else text
    try:
        return _aware(datetime.fromisoformat(candidate))
    except ValueError:
        return None


def _rfc822(text: str) -> datetime | None:
    if not re.search(r"\d{1,2} [A-Za-z]{3} \d{2,4}", text):
        return None
    try:
        return _aware(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _written(text: str) -> datetime | None:
    folded = _fold(text)
    for pattern in _written_patterns():
        match = pattern.search(folded)
        if match:
            return _build(match, _months()[match["month"]])
    match = _NUMERIC.search(folded)
    if match:
        return _build(match, int(match["month"]))
    return None


def _build(match: re.Match[str], month: int) -> datetime | None:
    try:
        result = datetime(int(match["year"]), month, int(match["day"]),
                          int(match["hour"] or 0), int(match["minute"] or 0), int(match["second"] or 0))
    except ValueError:
        return None
    return _aware(result)
