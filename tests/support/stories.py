"""Stories written straight into a store, with agreements of the shape `watcher.agreements` produces."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from watcher.store.models import Alert, Article, Story

T0 = datetime(2025, 3, 1, 12, tzinfo=timezone.utc)


def agreement(parties: list[str], domains: list[str], instrument: str | None = "mou",
              summary: str = "Les deux pays ont signé un accord.") -> dict[str, Any]:
    return {"parties": parties, "party_kinds": {p: "country" for p in parties}, "instrument": instrument,
            "domains": domains, "signed_on": None, "summary": summary, "version": 1}


def add_story(session: Any, title: str, *, copies: Sequence[str] = ("dba",), body: str = "Texte de l'article.",
              days: int = 0, agreement_: dict[str, Any] | None = None, status: str = "relevant") -> Story:
    """A story published `days` after T0 with one article per source in `copies` (the first represents it)."""
    when = T0 + timedelta(days=days)
    story = Story(title=title, created_at=when, published_at=when, agreement=agreement_)
    session.add(story)
    session.flush()
    for i, source in enumerate(copies):
        key = hashlib.md5(f"{title}{i}".encode()).hexdigest()
        article = Article(source=source, url=f"https://{source}.example/{key}", canonical_url=f"https://{source}.example/{key}",
                          guid=key, title=title, body=body, published_at=when, fetched_at=when, content_hash=key,
                          status=status, story_id=story.id)
        session.add(article)
        session.flush()
        if i == 0:
            story.representative_id = article.id
    return story


def alert(session: Any, story: Story, subscription: str, at: datetime, notifier: str = "slack") -> None:
    session.add(Alert(story_id=story.id, article_id=story.representative_id, subscription=subscription,
                      notifier=notifier, target="", matched_terms=["tunisie"], status="sent", created_at=at,
                      next_attempt_at=at))


