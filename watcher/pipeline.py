"""One poll cycle, stage by stage: listing fetch -> parse -> candidates -> article pages -> drafts -> ingest.

For each source: a conditional GET of the listing (validators from the http_cache table), the source
kind's `parse_listing`, the `next` pages of an html listing (up to `max_pages`, stopping at the first
page with nothing new), candidate dedupe (entries whose guid, for this source, or canonical URL is
already stored are skipped before any article fetch), article pages where needed (html kind always;
feed kind when `fetch_article` is "always", or "auto" and the entry carries no full content),
`extract_article` (its rel=canonical becomes the article's identity, unless it points at the site's
home or the listing), then `Ingestor.ingest` in one transaction per source. Sources run concurrently
on one Fetcher; whatever one source does (timeout, junk, a crash in a parser) ends up in its own
PollResult and never touches the others.

Consistency rules: a listing's new validators are stored only in (or after) the transaction that
stored its articles, and not at all when an article page failed, so a 304 never hides an article that
was not stored. Byte-identical listings (servers that ignore conditional headers) are recognised by the
body digest stored with the validators and skip parsing, in the daemon and in a fresh `watcher poll`
alike; like the validators, the digest is only saved after a clean poll.
Health (success, failure, backoff, next poll) is written by `record_results`, in one transaction for a
whole batch: `poll_sources` does it, the daemon polling its claimed sources gets it through `poll`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Select, bindparam, select

from watcher import metrics
from watcher.clock import now
from watcher.config import Config, SourceConfig
from watcher.fetch import FetchError, Fetcher, Response
from watcher.sources import Entry, ParseError, get_kind
from watcher.store import Store
from watcher.store import sources as source_store
from watcher.store.tables import articles
from watcher.store.sources import Outcome, Validators
from watcher.urls import canonical_url

if TYPE_CHECKING:  # imported when the first new entry needs them: a cycle of 304s never loads
    from watcher.ingest import Draft, Ingestor  # numpy, lxml or the matcher (half the start-up memory)
    from watcher.prepare import Features, FeedText, Preparer

log = logging.getLogger(__name__)

_LOOKUP_CHUNK = 400  # IN (...) lists stay under SQLite's bound-parameter limit
_MAX_ITEM_ERRORS = 5  # item errors kept verbatim in a PollResult (the count is always exact)


@dataclass
class PollResult:
    """What polling one source did; `status` is ok | not_modified | error."""

    source: str
    status: str = "ok"
    new: int = 0  # articles stored (new stories and copies of known ones)
    seen: int = 0  # entries already stored: skipped before any article fetch
    errors: int = 0  # entries or pages that could not be fetched or read (the source itself is fine)
    seconds: float = 0.0
    error: str | None = None
    error_kind: str | None = None  # transient | permanent
    retry_after: float | None = None
    pages: int = 0
    copies: int = 0  # of `new`: joined an existing story
    ignored: int = 0  # of `new`: stored as not about cooperation
    alerts: int = 0
    item_errors: list[str] = field(default_factory=list)
    next_poll_at: datetime | None = None
    polled_at: datetime | None = None

    def fail(self, reason: str, kind: str, retry_after: float | None = None) -> None:
        self.status, self.error, self.error_kind, self.retry_after = "error", reason, kind, retry_after

    def item_error(self, reason: str) -> None:
        self.errors += 1
        if len(self.item_errors) < _MAX_ITEM_ERRORS:
            self.item_errors.append(reason)


@dataclass
class _StoreState:
    config: Config
    robots: dict[str, Any]
    _ingestor: Ingestor | None = None

    @property
    def ingestor(self) -> Ingestor:
        """Built on first use: compiling the classifier and the subscriptions is wasted on a cycle of 304s."""
        if self._ingestor is None:
            from watcher.ingest import Ingestor

            self._ingestor = Ingestor(self.config)
        elif self._ingestor.config is not self.config:
            self._ingestor.reload(self.config)
        return self._ingestor


# Compiled state kept per open Store for the life of the process (the daemon calls `poll` every tick:
# the ingestor's story index and the robots.txt cache survive between calls).
_STATE: weakref.WeakKeyDictionary[Store, _StoreState] = weakref.WeakKeyDictionary()


def _state_for(config: Config, store: Store) -> _StoreState:
    state = _STATE.get(store)
    if state is None:
        state = _STATE[store] = _StoreState(config, {})
    state.config = config
    return state


@dataclass
class PollContext:
    """Everything a poll needs, built once per cycle (or once per daemon tick)."""

    config: Config
    store: Store
    fetcher: Fetcher
    state: _StoreState
    on_result: Callable[[PollResult], None] | None = None
    rng: random.Random = field(default_factory=random.Random)
    # Preloaded by poll_sources for the batch (one query instead of one per source).
    validators: dict[str, Validators] | None = None
    first_success: dict[str, datetime | None] | None = None
    # Validators of listings that stored nothing new, written with the batch's health records.
    pending_validators: dict[str, Validators] = field(default_factory=dict)
    worker: bool = True  # may a big cycle hand its CPU work to a worker process (watcher.prepare)?
    _preparer: Preparer | None = None

    @classmethod
    def create(cls, config: Config, store: Store, fetcher: Fetcher, **kwargs: Any) -> PollContext:
        """A context sharing this process's compiled state for `store` (the ingestor)."""
        return cls(config=config, store=store, fetcher=fetcher, state=_state_for(config, store), **kwargs)

    @property
    def ingestor(self) -> Ingestor:
        return self.state.ingestor

    @property
    def preparer(self) -> Preparer:
        """Built when the first new entry needs it, like the ingestor (watcher.prepare loads lxml, numpy)."""
        if self._preparer is None:
            from watcher.prepare import Preparer

            self._preparer = Preparer(self.worker)
        return self._preparer

    def close(self) -> None:
        """End what the cycle started (the preparer's worker process, if it started one)."""
        if self._preparer is not None:
            self._preparer.close()


def make_fetcher(config: Config, store: Store | None = None, **overrides: Any) -> Fetcher:
    """The Fetcher for `config.defaults`; with `store`, its robots.txt cache outlives this fetcher."""
    fetcher = Fetcher.from_defaults(config.defaults, **overrides)
    if store is not None:
        fetcher.share_robots_cache(_state_for(config, store).robots)
    return fetcher


# ---- the cycle ------------------------------------------------------------------------------------

async def poll_sources(ctx: PollContext, sources: Sequence[SourceConfig]) -> list[PollResult]:
    """Poll `sources` concurrently and record every outcome (health, schedule) in one transaction."""
    if not sources:
        return []
    with ctx.store.connect() as conn:
        ctx.validators = source_store.load_validators(conn, [str(s.url) for s in sources])
        ctx.first_success = source_store.first_successes(conn, [s.name for s in sources])
    # Backpressure: fetching outruns parsing and storing (CPU-bound, one thread), so without a bound
    # every fetched listing of the batch would wait in memory for its turn.
    slots = asyncio.Semaphore(max(ctx.config.defaults.concurrency * 2, 8))

    async def bounded(source: SourceConfig) -> PollResult:
        async with slots:
            return await poll_source(ctx, source, record=False)

    try:
        results = await asyncio.gather(*(bounded(source) for source in sources))
    finally:
        ctx.close()
    record_results(ctx, sources, results)
    return list(results)


def record_results(ctx: PollContext, sources: Sequence[SourceConfig], results: Sequence[PollResult]) -> None:
    """Write health and next poll of each polled source, plus pending validators, in one transaction."""
    by_name = {s.name: s for s in sources}
    outcomes = [Outcome(r.source, r.polled_at or now(), r.status, r.error, r.error_kind, r.retry_after)
                for r in results]
    intervals = {s.name: s.interval or ctx.config.defaults.interval for s in sources}
    with ctx.store.connect() as conn:
        if ctx.pending_validators:
            source_store.save_validators(conn, ctx.pending_validators, now(), ctx.validators)
            ctx.pending_validators = {}
        next_polls = source_store.record_outcomes(conn, outcomes, intervals, ctx.config.defaults.backoff_cap,
                                                  rng=ctx.rng)
    for result in results:
        result.next_poll_at = next_polls.get(result.source)
        if result.source in by_name:
            metrics.record_poll(result.source, result.status, result.seconds)


async def poll_source(ctx: PollContext, source: SourceConfig, *, record: bool = True) -> PollResult:
    """Poll one source end to end; never raises. `record=False` leaves the health write to the caller."""
    started = time.perf_counter()
    result = PollResult(source.name, polled_at=now())
    try:
        await _poll(ctx, source, result)
    except FetchError as exc:
        result.fail(str(exc), exc.kind, exc.retry_after)
    except ParseError as exc:
        result.fail(str(exc), "permanent")
    except Exception as exc:  # a bug or a store failure must stay this source's problem
        log.exception("poll.crashed", extra={"source": source.name})
        result.fail(f"{source.url}: internal error: {type(exc).__name__}: {exc}", "transient")
    result.seconds = time.perf_counter() - started
    log.info("poll.done", extra={"source": source.name, "status": result.status, "new": result.new,
                                 "seen": result.seen, "errors": result.errors,
                                 "seconds": round(result.seconds, 3), "error": result.error})
    if record:
        record_results(ctx, [source], [result])
    if ctx.on_result is not None:
        ctx.on_result(result)
    return result


async def _poll(ctx: PollContext, source: SourceConfig, result: PollResult) -> None:
    url = str(source.url)
    known = _validators(ctx, url)
    response = await _get(ctx, source, url, known)
    result.pages = 1
    if response.not_modified:
        result.status = "not_modified"
        return
    digest = hashlib.blake2b(response.body, digest_size=16).hexdigest()
    if known is not None and known.digest == digest:  # byte-identical to the last clean poll: nothing is new
        result.seen = known.entries
        _defer_validators(ctx, url, Validators(response.etag, response.last_modified, digest, known.entries), known)
        return
    kind = get_kind(source.kind)
    listing = kind.parse_listing(response.body, response.final_url, response.content_type, source)
    entries = _unique(listing.entries)
    candidates = _new_entries(ctx, source, entries)
    page_url = listing.next_url
    while page_url and result.pages < source.max_pages and candidates:
        try:
            page = await _get(ctx, source, page_url, None)
            more = kind.parse_listing(page.body, page.final_url, page.content_type, source)
        except (FetchError, ParseError) as exc:
            result.item_error(f"listing page {result.pages + 1}: {exc}")
            break
        result.pages += 1
        added = _unique(more.entries, entries)
        entries += added
        fresh_candidates = _new_entries(ctx, source, added)
        candidates += fresh_candidates
        if not fresh_candidates:
            break  # older pages hold older items: the rest was seen before
        page_url = more.next_url
    result.seen = len(entries) - len(candidates)
    # Saved only after a clean poll (below): a digest must never hide an item that was not stored.
    fresh = Validators(response.etag, response.last_modified, digest, len(entries))
    drafts = await _drafts(ctx, source, [c.entry for c in candidates], result)
    clean = result.errors == 0
    if drafts:
        silent = _silent(ctx, source)
        with ctx.store.session() as session:
            stored = ctx.ingestor.ingest(session, drafts, silent=silent)
            if clean:
                source_store.save_validators(session, {url: fresh}, now(), _known_map(url, known))
        result.new = stored.new + stored.copies
        result.copies, result.ignored, result.alerts = stored.copies, stored.ignored, stored.alerts
        result.seen += stored.unchanged + stored.updated
        metrics.record_articles(new=stored.new, duplicate=stored.copies, ignored=stored.ignored)
    elif clean:
        _defer_validators(ctx, url, fresh, known)


async def _get(ctx: PollContext, source: SourceConfig, url: str, known: Validators | None) -> Response:
    return await ctx.fetcher.get(
        url, etag=known.etag if known else None, last_modified=known.last_modified if known else None,
        timeout=source.timeout, max_bytes=source.max_bytes, robots=source.robots is not False,
        headers=source.headers or None)


def _validators(ctx: PollContext, url: str) -> Validators | None:
    if ctx.validators is not None:
        return ctx.validators.get(url)
    with ctx.store.connect() as conn:
        return source_store.load_validators(conn, [url]).get(url)


def _known_map(url: str, known: Validators | None) -> dict[str, Validators]:
    return {url: known} if known is not None else {}


def _defer_validators(ctx: PollContext, url: str, fresh: Validators, known: Validators | None) -> None:
    if fresh != known and (fresh.etag or fresh.last_modified or known is not None):
        ctx.pending_validators[url] = fresh
        if ctx.validators is None:  # polled on its own: nobody batches for us, write now
            with ctx.store.connect() as conn:
                source_store.save_validators(conn, ctx.pending_validators, now(), _known_map(url, known))
            ctx.pending_validators = {}


def _silent(ctx: PollContext, source: SourceConfig) -> bool:
    """Flood guard: a source's first successful poll stores its backlog without alerting (unless asked)."""
    if source.alert_backlog:
        return False
    if ctx.first_success is not None and source.name in ctx.first_success:
        return ctx.first_success[source.name] is None
    with ctx.store.connect() as conn:
        return source_store.first_success(conn, source.name) is None


# ---- candidates -----------------------------------------------------------------------------------

@dataclass(slots=True)
class _Candidate:
    """A listing entry with its identities: guid (per source) and, once needed, canonical URL."""

    entry: Entry
    guid: str
    key: str = ""


def _unique(entries: Sequence[Entry], before: Sequence[_Candidate] = ()) -> list[_Candidate]:
    """Entries without repeated guids or links (here or in `before`), first one kept.

    Both kinds already drop repeats by canonical URL within one listing; this catches an item seen
    on two pages of an html listing. Canonical URLs are only computed for items not known by guid.
    """
    seen = {c.guid for c in before} | {c.entry.url for c in before}
    out = []
    for entry in entries:
        guid = entry.guid or entry.url
        if guid in seen or entry.url in seen:
            continue
        seen.add(guid)
        seen.add(entry.url)
        out.append(_Candidate(entry, guid))
    return out


def entry_hash(entry: Entry) -> str:
    """What a source said about an item (title and text); a change means the item was corrected."""
    text = f"{entry.title}\0{entry.content or entry.summary or ''}"
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _new_entries(ctx: PollContext, source: SourceConfig, candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """The candidates to read: not stored yet (neither this source's guid nor the canonical URL is
    known), or stored but changed since (a correction: its entry hash differs).

    Guids first (an unchanged listing is settled by one indexed query, without computing a single
    canonical URL), then canonical URLs of what is left (the same article under another guid, or
    from another source or a seed).
    """
    if not candidates:
        return []
    # A plain connection and prebuilt statements: this runs once per listing, hot on every cycle.
    with ctx.store.engine.connect() as conn:
        known = _stored_hashes(conn, [c.guid for c in candidates], source.name)
        corrected = [c for c in candidates if known.get(c.guid) not in (None, entry_hash(c.entry))]
        left = [c for c in candidates if c.guid not in known]
        if not left:
            return corrected
        keys: set[str] = set()
        unique = []
        for candidate in left:
            candidate.key = canonical_url(candidate.entry.url)
            if candidate.key not in keys:
                keys.add(candidate.key)
                unique.append(candidate)
        stored = _stored(conn, _URLS_STORED, list(keys))
    return corrected + [c for c in unique if c.key not in stored]


_GUIDS_STORED = select(articles.c.guid, articles.c.entry_hash).where(
    articles.c.source == bindparam("source"), articles.c.guid.in_(bindparam("values", expanding=True)))
_URLS_STORED = select(articles.c.canonical_url).where(
    articles.c.canonical_url.in_(bindparam("values", expanding=True)))


def _stored_hashes(conn: Connection, guids: list[str], source: str) -> dict[str, str | None]:
    """This source's stored guids among `guids`, each with the entry hash it was stored with."""
    found: dict[str, str | None] = {}
    for start in range(0, len(guids), _LOOKUP_CHUNK):
        chunk = {"values": guids[start:start + _LOOKUP_CHUNK], "source": source}
        found.update((guid, hash_) for guid, hash_ in conn.execute(_GUIDS_STORED, chunk))
    return found


def _stored(conn: Connection, statement: Select[Any], values: list[str], **params: Any) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), _LOOKUP_CHUNK):
        found.update(conn.execute(statement, {"values": values[start:start + _LOOKUP_CHUNK], **params}).scalars())
    return found


# ---- article pages and drafts ---------------------------------------------------------------------

def _needs_page(source: SourceConfig, entry: Entry) -> bool:
    if source.kind != "feed":
        return True
    mode = source.fetch_article
    if mode == "always":
        return True
    if mode == "never":
        return False
    return not (entry.content and entry.content.strip())


async def _drafts(ctx: PollContext, source: SourceConfig, entries: Sequence[Entry],
                  result: PollResult) -> list[Draft]:
    if not entries:
        return []
    from watcher.ingest import Draft

    texts = await _entry_texts(ctx, entries)
    fetched = await asyncio.gather(*(_draft(ctx, source, entry, text) for entry, text in zip(entries, texts)),
                                   return_exceptions=True)
    drafts = []
    for entry, item in zip(entries, fetched):
        if isinstance(item, Draft):
            drafts.append(item)
        elif isinstance(item, (FetchError, ParseError, _ItemError)):
            result.item_error(str(item))
        elif isinstance(item, BaseException):
            if not isinstance(item, Exception):
                raise item  # cancellation and friends are not this entry's problem
            log.warning("poll.item_crashed", extra={"source": source.name, "url": entry.url,
                                                    "error": f"{type(item).__name__}: {item}"})
            result.item_error(f"{entry.url}: {type(item).__name__}: {item}")
    return drafts


class _ItemError(Exception):
    pass


async def _entry_texts(ctx: PollContext, entries: Sequence[Entry]) -> list[FeedText | Exception]:
    """The text of each entry's own content (watcher.prepare), one batch for the source's new entries."""
    from watcher.prepare import FeedText

    with_content = [i for i, entry in enumerate(entries) if entry.content]
    texts: list[FeedText | Exception] = [FeedText("")] * len(entries)
    if with_content:
        prepared = await ctx.preparer.feed_texts([(entries[i].title or "", entries[i].content) for i in with_content])
        for i, text in zip(with_content, prepared):
            texts[i] = text
    return texts


async def _draft(ctx: PollContext, source: SourceConfig, entry: Entry, text: FeedText | Exception) -> Draft:
    from watcher.extract import extract_article, guess_language

    if isinstance(text, Exception):
        raise text  # preparing this entry failed: its own error, not the source's
    feed_body = text.body
    if not _needs_page(source, entry):
        if feed_body:
            return _make_draft(source, entry, title=entry.title, body=feed_body, published=entry.published,
                               author=entry.author, language=text.language, features=text.features)
        body = entry.summary or "" if source.fetch_article == "never" else ""
        if body:
            return _make_draft(source, entry, title=entry.title, body=body, published=entry.published,
                               author=entry.author, language=guess_language(body))
        if source.fetch_article == "never":
            raise _ItemError(f"{entry.url}: the feed entry has no text and fetch_article is never")
        # "auto": the content was there but held no text once cleaned; the page may have it.
    try:
        page = await ctx.fetcher.get(entry.url, timeout=source.timeout, max_bytes=source.max_bytes,
                                     robots=source.robots is not False, headers=source.headers or None)
    except FetchError as exc:
        if exc.kind == "permanent" and (feed_body or entry.summary):
            # The page will not come (404, 410, robots.txt): keep what the feed said rather than lose
            # the item. A transient failure is left for the next poll, which retries the page.
            body = feed_body or entry.summary or ""
            return _make_draft(source, entry, title=entry.title, body=body, published=entry.published,
                               author=entry.author, language=guess_language(body))
        raise
    extracted = extract_article(page.body, page.final_url, source.article, page.content_type)
    body = extracted.body or feed_body or (entry.summary or "")
    if not body.strip():
        raise _ItemError(f"{entry.url}: no article text found on the page")
    published = (entry.published or extracted.published) if source.kind == "feed" else (
        extracted.published or entry.published)
    return _make_draft(source, entry, title=extracted.title or entry.title, body=body, published=published,
                       author=extracted.author or entry.author, language=extracted.language,
                       canonical=_usable_canonical(source, extracted.canonical_url, page.final_url))


def _usable_canonical(source: SourceConfig, declared: str | None, final_url: str) -> str | None:
    """The page's rel=canonical, unless it is a site-wide mistake (home page, the listing itself)."""
    for candidate in (declared, final_url):
        if not candidate:
            continue
        path = urlsplit(candidate).path
        if path.strip("/") == "" or canonical_url(candidate) == canonical_url(str(source.url)):
            continue
        return candidate
    return None


def _make_draft(source: SourceConfig, entry: Entry, *, title: str, body: str, published: datetime | None,
                author: str | None, language: str | None, canonical: str | None = None,
                features: Features | None = None) -> Draft:
    from watcher.ingest import Draft

    return Draft(source=source.name, guid=entry.guid or entry.url, title=title or "", body=body,
                 url=entry.url, origin=source.kind, canonical_url=canonical, summary=entry.summary,
                 author=author, language=language, published_at=published, entry_hash=entry_hash(entry),
                 features=features)


# ---- synchronous entry point ----------------------------------------------------------------------

def select_sources(config: Config, store: Store, names: Sequence[str] | None = None, *,
                   due_only: bool = True, at: datetime | None = None) -> list[SourceConfig]:
    """Sync the config's sources into the store, then pick the ones to poll (named, or all; due ones).

    Raises KeyError naming a requested source that is not configured.
    """
    at = at or now()
    configured = {s.name: s for s in config.sources}
    if names:
        unknown = [n for n in names if n not in configured]
        if unknown:
            raise KeyError(f"unknown source {', '.join(map(repr, unknown))} (configured: "
                           f"{', '.join(sorted(configured)) or 'none'})")
        chosen = [configured[n] for n in dict.fromkeys(names)]
    else:
        chosen = [s for s in config.sources if s.enabled]
    with store.connect() as conn:
        source_store.sync_sources(conn, chosen if names else config.sources, at, prune=not names)
        if due_only:
            due = set(source_store.due_names(conn, at, [s.name for s in chosen]))
            chosen = [s for s in chosen if s.name in due]
    return chosen


def poll(config: Config, store: Store, names: Sequence[str] | None = None, *, due_only: bool = True,
         worker: bool = True,
         on_result: Callable[[PollResult], None] | None = None,
         fetcher_options: dict[str, Any] | None = None) -> list[PollResult]:
    """One poll cycle from synchronous code: the due (or named) sources, results in config order."""
    return poll_selected(config, store, select_sources(config, store, names, due_only=due_only),
                         on_result=on_result, fetcher_options=fetcher_options, worker=worker)


def poll_selected(config: Config, store: Store, sources: Sequence[SourceConfig], *,
                  on_result: Callable[[PollResult], None] | None = None,
                  fetcher_options: dict[str, Any] | None = None, worker: bool = True) -> list[PollResult]:
    """`poll` for sources already chosen by `select_sources` (which synced them into the store).

    `worker`: a cycle with over 1,000 new entries may start a worker process for their CPU work
    (watcher.prepare); `watcher poll` lets it, the daemon only with `daemon.worker`.
    """
    if not sources:
        return []

    async def run() -> list[PollResult]:
        async with make_fetcher(config, store, **(fetcher_options or {})) as fetcher:
            ctx = PollContext.create(config, store, fetcher, on_result=on_result, worker=worker)
            return await poll_sources(ctx, sources)

    return asyncio.run(run())
