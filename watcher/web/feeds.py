"""`/feeds/<subscription>.atom` (RFC 4287) and `/agreements.csv`.

A subscription's feed lists the stories it alerted on (the outbox rows), most recently matched first:
what its notifiers were sent, readable in any feed reader. Identifiers are stable: the feed's is a tag
URI of the subscription's name, an entry's a UUID derived from the story's first copy (source and
guid), so a story keeps its id across restarts and re-imports. Unknown subscriptions answer 404.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from urllib.parse import quote, unquote

from watcher import clock
from watcher.cli.output import Column
from watcher.cli.output import render as render_rows
from watcher.config import Config
from watcher.http import Request, Response
from watcher.matching import TermError
from watcher.store import Store
from watcher.store import stories as story_store
from watcher.store.stories import StoryRow
from watcher.web.pages import read_filters
from watcher.web.render import base_url, not_found, page, render

ENTRIES = 50
TAG = "tag:cooperation-watcher.invalid,2025"  # RFC 4151 tagging entity: a name nobody else can own
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell starting with these


def entry_id(story: StoryRow) -> str:
    key = f"{story.source}\n{story.guid}" if story.guid else f"story\n{story.id}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'cooperation-watcher:' + key)}"


def feed_id(subscription: str) -> str:
    return f"{TAG}:subscription:{quote(subscription, safe='')}"


def summary(story: StoryRow) -> str:
    """One paragraph: who, what, on which domains, then the agreement's own summary sentence."""
    from watcher import agreements

    parts = []
    if story.parties:
        parts.append("Parties : " + ", ".join(story.parties))
    if story.instrument:
        parts.append("Instrument : " + agreements.instrument_label(story.instrument, "fr"))
    if story.domains:
        parts.append("Domaines : " + ", ".join(agreements.domain_label(d, "fr") for d in story.domains))
    head = " · ".join(parts)
    sentence = (story.agreement or {}).get("summary") or ""
    text = f"{head}. {sentence}" if head and sentence else head or sentence
    return text or story.title


class Feeds:
    def __init__(self, store: Store, config: Callable[[], Config]) -> None:
        self.store = store
        self.config = config

    def atom(self, request: Request) -> Response:
        tail = request.path[len("/feeds/"):]
        if not tail.endswith(".atom") or "/" in tail:
            return not_found(f"aucun flux à l'adresse {request.path}")
        name = unquote(tail[: -len(".atom")])
        config = self.config()
        if name not in {s.name for s in config.subscriptions}:
            return not_found(f"aucun abonnement nommé « {name} »")
        with self.store.session() as session:
            entries = story_store.subscription_entries(session, name, limit=ENTRIES)
        base = base_url(request, config.web.base_url)
        updated = max((e.matched_at for e in entries), default=clock.now())
        body = render("feed.atom.j2", name=name, entries=entries, base=base, feed_id=feed_id(name),
                      self_url=f"{base}/feeds/{quote(name, safe='')}.atom", updated=updated,
                      entry_id=entry_id, summary=summary, quote=quote)
        return Response(200, body.encode("utf-8"), "application/atom+xml; charset=utf-8")

    def agreements_csv(self, request: Request) -> Response:
        """Every story with an extracted agreement that passes the page's filters, newest first."""
        filters = read_filters(request, limit=None)
        filters.query.with_agreement = True
        if filters.errors:
            return page("error.html.j2", 400, title="Filtre invalide", message="; ".join(filters.errors))
        try:
            with self.store.session() as session:
                rows = list(story_store.iter_stories(session, filters.query))
                story_store.fill_copies(session, rows)
        except TermError as exc:
            return page("error.html.j2", 400, title="Filtre invalide", message=f"q: {exc}")
        out = io.StringIO()
        columns = [Column(key, key) for key in story_store.EXPORT_FIELDS]
        render_rows([_cells(story_store.flat(r.to_dict())) for r in rows], columns, "csv", out)
        return Response(200, out.getvalue().encode("utf-8"), "text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="agreements.csv"'})


def _cells(row: dict[str, object]) -> dict[str, object]:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe (OWASP advice)."""
    return {k: "'" + v if isinstance(v, str) and v.startswith(_FORMULA) else v for k, v in row.items()}
