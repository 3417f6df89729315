"""The store-free CPU work of a new feed entry, done on the machine's second core when there is a lot of it.

Turning a feed entry's `content:encoded` into an article costs ~1 ms of pure computation: HTML to clean
paragraphs, language guess, tokens, MinHash. On a cycle that brings thousands of new entries (a first
poll of many feeds, a source added with a long backlog) that is a third of the cycle, done on the one
thread that also fetches, parses and stores. `Preparer` hands it to one worker process beside the event
loop once a cycle has shown it is big; a small cycle never starts one, since a worker costs ~0.5 s to
start and ~70 MB while it lives (which is also why the daemon starts none unless `daemon.worker`).
Inline or in the worker, the same functions run, so an article is stored the same either way.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from watcher import dedupe
from watcher.extract import fragment_body, guess_language
from watcher.text import token_string

log = logging.getLogger(__name__)

# Entries prepared inline in one cycle before a worker is started: ~1 s of CPU, 50 feeds' worth, so a
# daemon's tick that brings a few hundred new entries does not start a process it hardly uses;
# None: never; 0: every batch in the worker (tests).
WORKER_AFTER: int | None = 1000


@dataclass(frozen=True)
class Features:
    """What ingest computes from an article's title and body: token strings and dedupe keys."""

    docs: tuple[str, str]  # token strings of the title and of the body (watcher.text.token_string)
    content_hash: str
    signature: bytes


def features(title: str, body: str) -> Features:
    """Features of one article (tokenised once: relevance and matching read the strings, dedupe the words)."""
    docs = (token_string(title), token_string(body))
    content_hash, signature = dedupe.keys(docs[0].split(), docs[1].split())
    return Features(docs, content_hash, signature)


@dataclass(frozen=True)
class FeedText:
    """A feed entry's own text: the cleaned body of its content, and what follows from it."""

    body: str  # "" when the content held no text
    language: str | None = None
    features: Features | None = None  # of (the entry's title, body)


def feed_text(title: str, content: str | None) -> FeedText:
    body = fragment_body(content)
    if not body:
        return FeedText("")
    return FeedText(body, guess_language(body), features(title, body))


def _feed_texts(items: Sequence[tuple[str, str | None]]) -> list[FeedText | Exception]:
    """Each item's FeedText, or the exception preparing it raised (that entry's error, not the batch's)."""
    texts: list[FeedText | Exception] = []
    for title, content in items:
        try:
            texts.append(feed_text(title, content))
        except Exception as exc:  # noqa: BLE001 - handed back to the caller, which reports the entry
            texts.append(exc)
    return texts


def _started() -> bool:
    return True  # by the time this runs, the worker has imported watcher.prepare


class Preparer:
    """Prepares the feed texts of one cycle: inline until WORKER_AFTER entries, then in a worker.

    A worker that dies (killed, out of memory) is not replaced within the cycle: the batch it held and
    the rest of the cycle are prepared inline, so no entry is lost. `close()` ends the worker.
    """

    def __init__(self, worker: bool = True) -> None:
        self.worker_after = WORKER_AFTER if worker else None  # worker False: everything inline
        self.inline = 0  # entries prepared inline so far in this cycle
        self.in_worker = 0  # entries the worker prepared
        self._pool: Executor | None = None
        self._started: Future[bool] | None = None
        self._broken = False

    async def feed_texts(self, items: Sequence[tuple[str, str | None]]) -> list[FeedText | Exception]:
        """FeedText of each (title, content), in order; an entry that could not be prepared gets its error."""
        pool = self._worker() if items else None
        if pool is not None:
            try:
                texts = await asyncio.get_running_loop().run_in_executor(pool, _feed_texts, items)
                self.in_worker += len(items)
                return texts
            except Exception as exc:  # the worker died, or a result could not cross back: do it here
                self._failed(exc, entries=len(items), lost=isinstance(exc, BrokenProcessPool))
        self.inline += len(items)
        return _feed_texts(items)

    def _worker(self) -> Executor | None:
        """The worker, once it has started and imported this module; None until then (work inline)."""
        if self._pool is None and not self._broken and self.worker_after is not None \
                and self.inline >= self.worker_after:
            # spawn, not fork: the daemon has threads (scheduler, web view), and a forked copy of a
            # lock held by one of them would hang the worker.
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            self._started = self._pool.submit(_started)
            log.info("prepare.worker_starting", extra={"after": self.inline})
        if self._pool is None:
            return None
        if not self._started.done():
            # Its ~0.5 s start-up overlaps work done here meanwhile; with WORKER_AFTER = 0 (tests)
            # every batch waits for it instead.
            return self._pool if self.worker_after == 0 else None
        if self._started.exception() is not None:
            self._failed(self._started.exception(), entries=0, lost=True)
            return None
        return self._pool

    def _failed(self, exc: BaseException | None, *, entries: int, lost: bool) -> None:
        """Report a failed hand-over; `lost`: the worker is gone, the rest of the cycle stays inline."""
        log.warning("prepare.worker_failed", extra={"entries": entries, "error": f"{type(exc).__name__}: {exc}"})
        if lost:
            self._broken = True
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            log.info("prepare.worker_stopped", extra={"in_worker": self.in_worker, "inline": self.inline})
