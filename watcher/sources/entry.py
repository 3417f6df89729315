"""What a source kind hands to the pipeline: the Entry and Listing values, and the one ParseError."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


MAX_WARNINGS = 20


@dataclass
class Entry:
    """One item of a listing, normalised the same way whichever parser produced it.

    `title` and `summary` are plain text. `content` is the entry's full content as the feed gave it
    (content:encoded, Atom content, JSON Feed content_html): untrusted HTML, never to be rendered as it
    is; `watcher.extract.fragment_body()` turns it into clean paragraphs. `published` and `updated` are
    aware UTC datetimes; when a feed gives only `updated`, `published` takes that value.
    """

    url: str
    guid: str | None = None
    title: str = ""
    summary: str | None = None
    content: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    categories: list[str] = field(default_factory=list)


@dataclass
class Listing:
    """The result of parsing one listing body: its entries, the next page (html kind) and what was odd."""

    entries: list[Entry] = field(default_factory=list)
    next_url: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Which parser produced the entries ("fastfeedparser", "feedparser", "html"): for logs and metrics.
    parser: str = ""

    def cap_warnings(self, limit: int = MAX_WARNINGS) -> None:
        """Keep the first `limit` warnings and say how many more there were (a hostile feed can have 100,000)."""
        if len(self.warnings) > limit:
            extra = len(self.warnings) - (limit - 1)
            self.warnings[limit - 1:] = [f"... and {extra} more warnings"]


class ParseError(Exception):
    """The body cannot be read as this kind of listing; permanent until the source changes."""

    kind = "permanent"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
