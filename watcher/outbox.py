"""The alert outbox: rows written with their article, then claimed, sent, retried or failed by dispatchers.

Delivery works like a payment system; the `alerts` table is the queue and the ledger.

* `enqueue()` runs inside the transaction that stores the article, so an article and its alerts commit
  together or not at all. One row per (story, subscription, notifier, target) under a unique
  constraint, inserted with ON CONFLICT DO NOTHING: re-polls, restarts, a second source carrying the
  same story and several daemons never create a second row.
* `dispatch()` claims due rows with a compare-and-set UPDATE (lease owner + expiry; on PostgreSQL the
  candidate rows are read with FOR UPDATE SKIP LOCKED so daemons never wait on each other), commits
  the claim, sends outside any transaction, then records the outcome in a second transaction:
  `sent` (with `sent_at`), a retry (`attempts`+1, `next_attempt_at` with exponential backoff and jitter,
  or the server's Retry-After, and `last_error`), or `failed` (permanent error or `max_attempts` used).
* Never lost: a crash between claim and send leaves the row pending with a lease that expires, after
  which any dispatcher claims it again.
* The only duplicate window: a crash (or lost database connection) after the channel accepted the
  message and before the `sent` commit. The lease then expires and the alert goes out a second time.
  It is as narrow as one UPDATE; emails carry a stable Message-ID per delivery (`message.key`) so mail
  clients can fold such a duplicate.
* Digests: rows of a digest subscription are stored with status `digest`, a `digest_key` naming the end
  of their period (UTC) and `next_attempt_at` = that end. `dispatch_digests()` claims each due
  (subscription, notifier, target, period) group as a whole and sends one message with all its stories.

SQLite is safe for one dispatching process (writes are serialised); PostgreSQL for any number.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from watcher import clock
from watcher.log import redact
from watcher.notifiers import notifier_for
from watcher.notifiers.base import (
    AlertMessage,
    AlertStory,
    Copy,
    Notifier,
    NotifierError,
    PermanentError,
    TransientError,
)
from watcher.store.db import insert_or_ignore
from watcher.store.models import Alert, Article, Story

log = logging.getLogger(__name__)

PENDING, DIGEST, SENT, FAILED = "pending", "digest", "sent", "failed"
STATUSES = (PENDING, DIGEST, SENT, FAILED)
SNIPPET_CHARS = 320
_KEY_FORMAT = "%Y-%m-%dT%H:%MZ"


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __iadd__(self, other: DispatchResult) -> DispatchResult:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        return self


# ---- enqueue -------------------------------------------------------------------------------------


TARGET_MAX = 500  # alerts.target column size


def targets_of(to: Sequence[str], notifier_config: Any) -> list[str]:
    """Stored targets: the `to` addresses (subscription's, else the notifier's) joined; [""] for webhooks.

    A recipient list longer than the column is split into several targets (several emails) rather
    than cut, so no address is ever dropped; the split is deterministic, so re-polls find the same rows.
    """
    addresses = list(to) or list(getattr(notifier_config, "to", None) or [])
    unique = list(dict.fromkeys(a.strip() for a in addresses if a.strip()))
    targets: list[str] = []
    current = ""
    for address in unique:
        joined = f"{current},{address}" if current else address
        if current and len(joined) > TARGET_MAX:
            targets.append(current)
            joined = address
        current = joined
    targets.append(current)
    return targets


def digest_due(spec: str, at: datetime) -> datetime:
    """End of the digest period that contains `at` (UTC): next hour, next midnight, or next cron time."""
    at = at.astimezone(timezone.utc)
    if spec == "hourly":
        return at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if spec == "daily":
        return at.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    from apscheduler.triggers.cron import CronTrigger

    fire = CronTrigger.from_crontab(spec, timezone=timezone.utc).get_next_fire_time(None, at)
    if fire is None:  # a cron line that never fires again: send at once rather than never
        return at
    return fire.astimezone(timezone.utc)


def digest_key(due: datetime) -> str:
    return due.astimezone(timezone.utc).strftime(_KEY_FORMAT)


def _period_end(key: str | None) -> datetime | None:
    if not key:
        return None
    try:
        return datetime.strptime(key, _KEY_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


@dataclass(frozen=True)
class Matched:
    """A stored story and the subscriptions its article matched: what `enqueue_many` turns into rows."""

    story_id: int
    article_id: int
    published_at: datetime | None
    matches: Sequence[Any]


def enqueue(session: Session, *, story_id: int, article_id: int, published_at: datetime | None,
            matches: Sequence[Any], config: Any, silent: bool) -> int:
    """Write the alert rows for one story's `matches`; returns how many rows were created."""
    return enqueue_many(session, [Matched(story_id, article_id, published_at, matches)], config, silent=silent)


def enqueue_many(session: Session, stories: Sequence[Matched], config: Any, *, silent: bool = False) -> int:
    """Write the alert rows of `stories` (one ingest batch) with one INSERT; returns how many were created.

    `silent` (a new source's first poll without `alert_backlog`) and stories published more than the
    subscription's `max_age` ago create nothing. Existing rows are left alone (ON CONFLICT DO NOTHING);
    two copies of one story in a batch make one row per target, for the first copy. One statement per
    batch, not per story: an INSERT built and compiled per story cost ~0.3 ms, more than the matching.
    """
    if silent:
        return 0
    at = clock.now()
    subscriptions = {s.name: s for s in config.subscriptions}
    rows: dict[tuple[int, str, str, str], dict[str, Any]] = {}
    for story in stories:
        for row in _story_rows(story, subscriptions, config, at):
            rows.setdefault((row["story_id"], row["subscription"], row["notifier"], row["target"]), row)
    if not rows:
        return 0
    created = insert_or_ignore(session, Alert.__table__, list(rows.values()),
                               ["story_id", "subscription", "notifier", "target"])
    if created:
        log.info("alert.enqueued", extra={"story_ids": sorted({key[0] for key in rows}), "rows": created})
    return created


def _story_rows(story: Matched, subscriptions: dict[str, Any], config: Any, at: datetime) -> Iterator[dict[str, Any]]:
    """The alert rows of one story: one per (matched subscription, notifier, target), unless too old."""
    for match in story.matches:
        sub = subscriptions.get(match.subscription)
        if sub is None:
            log.warning("alert.unknown_subscription",
                        extra={"subscription": match.subscription, "story_id": story.story_id})
            continue
        if story.published_at is not None and _aware(story.published_at) < at - sub.max_age:
            log.info("alert.too_old", extra={"subscription": sub.name, "story_id": story.story_id,
                                             "published_at": story.published_at.isoformat()})
            continue
        digest = sub.digest != "immediate"
        due = digest_due(sub.digest, at) if digest else at
        for notify in sub.notify:
            for target in targets_of(notify.to, config.notifiers.get(notify.notifier)):
                yield {
                    "story_id": story.story_id,
                    "article_id": story.article_id,
                    "subscription": sub.name,
                    "notifier": notify.notifier,
                    "target": target,
                    "matched_terms": list(dict.fromkeys(match.terms)),
                    "status": DIGEST if digest else PENDING,
                    "created_at": at,
                    "next_attempt_at": due,
                    "attempts": 0,
                    "digest_key": digest_key(due) if digest else None,
                }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


# ---- claiming ------------------------------------------------------------------------------------


def _lease_free(at: datetime) -> Any:
    return or_(Alert.lease_expires_at.is_(None), Alert.lease_expires_at <= at)


def _claim_ids(session: Session, ids: Iterable[int], *, owner: str, status: str, at: datetime,
               lease: timedelta) -> list[Alert]:
    """Compare-and-set: take the lease on those of `ids` that are still `status` and unleased."""
    ids = list(ids)
    if not ids:
        return []
    expires = at + lease
    session.execute(
        update(Alert)
        .where(Alert.id.in_(ids), Alert.status == status, _lease_free(at))
        .values(lease_owner=owner, lease_expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    claimed = select(Alert).where(Alert.id.in_(ids), Alert.lease_owner == owner, Alert.lease_expires_at == expires)
    return list(session.scalars(claimed.order_by(Alert.id)).all())


def claim(store: Any, *, owner: str, batch: int, lease: timedelta, at: datetime | None = None) -> list[Alert]:
    """Lease up to `batch` due pending alerts to `owner`; the claim is committed before returning."""
    at = at or clock.now()
    with store.session() as session:
        due = (
            select(Alert.id)
            .where(Alert.status == PENDING, Alert.next_attempt_at <= at, _lease_free(at))
            .order_by(Alert.next_attempt_at, Alert.id)
            .limit(batch)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises writers instead
        )
        return _claim_ids(session, session.scalars(due).all(), owner=owner, status=PENDING, at=at, lease=lease)


def claim_digests(store: Any, *, owner: str, batch: int, lease: timedelta, at: datetime) -> list[list[Alert]]:
    """Lease up to `batch` due digest groups, each (subscription, notifier, target, period) whole."""
    with store.session() as session:
        due = (
            select(Alert.id, Alert.subscription, Alert.notifier, Alert.target, Alert.digest_key)
            .where(Alert.status == DIGEST, Alert.next_attempt_at <= at, _lease_free(at))
            .order_by(Alert.next_attempt_at, Alert.id)
            .with_for_update(skip_locked=True)
        )
        groups: dict[tuple[str, str, str, str | None], list[int]] = {}
        for row in session.execute(due):
            key = (row.subscription, row.notifier, row.target, row.digest_key)
            if key in groups or len(groups) < batch:
                groups.setdefault(key, []).append(row.id)
        claimed = []
        for ids in groups.values():
            rows = _claim_ids(session, ids, owner=owner, status=DIGEST, at=at, lease=lease)
            if rows:
                claimed.append(rows)
        return claimed


# ---- messages ------------------------------------------------------------------------------------


def snippet(article: Article, limit: int = SNIPPET_CHARS) -> str:
    """The summary, else the start of the body, cut at a word boundary."""
    text = " ".join((article.summary or article.body or "").split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def story_for(session: Session, alert: Alert) -> AlertStory:
    """The alert's story as shown to the subscriber: its matching article and the other copies."""
    article = session.get(Article, alert.article_id)
    if article is None:
        raise PermanentError(f"alert {alert.id}: article {alert.article_id} no longer exists")
    story = session.get(Story, alert.story_id)
    others = [a for a in (story.articles if story else []) if a.id != article.id]
    return AlertStory(
        title=article.title or (story.title if story else "") or "(sans titre)",
        url=article.url or article.canonical_url,
        source=article.source,
        published=article.published_at or (story.published_at if story else None),
        snippet=snippet(article),
        matched_terms=[str(t) for t in alert.matched_terms or []],
        copies=[Copy(a.source, a.url or a.canonical_url) for a in others],
    )


def message_for(store: Any, alerts: Sequence[Alert], config: Any) -> AlertMessage:
    """One message for `alerts` (one immediate alert, or a digest group)."""
    first = alerts[0]
    with store.session() as session:
        stories = [story_for(session, alert) for alert in alerts]
    stories.sort(key=lambda s: s.published or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    if first.status == DIGEST:
        spec = next((s.digest for s in config.subscriptions if s.name == first.subscription), "digest")
        group = "|".join((first.subscription, first.notifier, first.target, first.digest_key or ""))
        key = "watcher-digest-" + hashlib.sha1(group.encode()).hexdigest()[:20]
        return AlertMessage(first.subscription, stories, to=_split(first.target), key=key,
                            digest=spec if spec != "immediate" else "digest", period_end=_period_end(first.digest_key))
    return AlertMessage(first.subscription, stories, to=_split(first.target), key=f"watcher-alert-{first.id}")


def _split(target: str) -> list[str]:
    return [a for a in target.split(",") if a]


# ---- outcomes ------------------------------------------------------------------------------------


def backoff(attempts: int, alerts: Any, rng: random.Random | None = None) -> timedelta:
    """Delay before attempt `attempts`+1: base·2^(attempts-1) capped, with "equal jitter" (½ to 1×)."""
    base = alerts.backoff_base.total_seconds()
    cap = alerts.backoff_cap.total_seconds()
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=delay / 2 + (rng or random).uniform(0, delay / 2))


def retry_delay(attempts: int, error: TransientError, alerts: Any) -> timedelta:
    """The server's Retry-After when it gave one (at least 1 s, at most the cap), else the backoff."""
    if error.retry_after is not None:
        cap = alerts.backoff_cap.total_seconds()
        return timedelta(seconds=min(max(error.retry_after, 1.0), cap))
    return backoff(attempts, alerts)


def _mark_sent(store: Any, alerts: Sequence[Alert], owner: str, at: datetime) -> None:
    with store.session() as session:
        for alert in alerts:
            # The message went out: record it even if our lease expired meanwhile.
            session.execute(
                update(Alert).where(Alert.id == alert.id, Alert.status != SENT)
                .values(status=SENT, sent_at=at, attempts=alert.attempts + 1, last_error=None,
                        lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False))


def _mark_error(store: Any, alerts: Sequence[Alert], owner: str, error: NotifierError, config: Any,
                at: datetime) -> tuple[str, datetime | None]:
    """Record a failed attempt; returns ("retried", next attempt) or ("failed", None)."""
    attempts = max(a.attempts for a in alerts) + 1
    reason = redact(error.reason)
    permanent = isinstance(error, PermanentError) or not isinstance(error, TransientError)
    exhausted = attempts >= config.alerts.max_attempts
    values: dict[str, Any] = {"attempts": attempts, "last_error": reason, "lease_owner": None,
                              "lease_expires_at": None}
    next_at: datetime | None = None
    if permanent or exhausted:
        values["status"] = FAILED
        if exhausted and not permanent:
            values["last_error"] = f"gave up after {attempts} attempts: {reason}"
    else:
        assert isinstance(error, TransientError)
        next_at = at + retry_delay(attempts, error, config.alerts)
        values["next_attempt_at"] = next_at
    with store.session() as session:
        session.execute(
            update(Alert).where(Alert.id.in_([a.id for a in alerts]), Alert.lease_owner == owner)
            .values(**values).execution_options(synchronize_session=False))
    event = "alert.failed" if next_at is None else "alert.retry"
    log.warning(event, extra={"alert_ids": ",".join(str(a.id) for a in alerts), "notifier": alerts[0].notifier,
                              "attempts": attempts, "error": reason,
                              **({"next_attempt_at": next_at.isoformat()} if next_at else {})})
    return ("failed", None) if next_at is None else ("retried", next_at)


def _renew(store: Any, alerts: Sequence[Alert], owner: str, lease: timedelta) -> bool:
    """Extend our lease right before sending; False when another dispatcher took any of the rows.

    A batch can take longer than one lease (slow SMTP servers): renewing per message keeps the lease
    covering the send itself, so an expired claim never leads to a second dispatcher sending too.
    """
    at = clock.now()
    ids = [a.id for a in alerts]
    with store.session() as session:
        renewed = session.execute(
            update(Alert).where(Alert.id.in_(ids), Alert.lease_owner == owner, Alert.lease_expires_at > at)
            .values(lease_expires_at=at + lease).execution_options(synchronize_session=False)).rowcount
    if renewed != len(ids):
        log.warning("alert.lease_lost", extra={"alert_ids": ",".join(map(str, ids)), "owner": owner})
        return False
    return True


def _defer(store: Any, alerts: Sequence[Alert], owner: str, until: datetime, reason: str) -> None:
    """Release alerts not attempted because their channel just failed as a whole; no attempt is counted."""
    with store.session() as session:
        session.execute(
            update(Alert).where(Alert.id.in_([a.id for a in alerts]), Alert.lease_owner == owner)
            .values(next_attempt_at=until, last_error=f"not attempted, channel unavailable: {reason}",
                    lease_owner=None, lease_expires_at=None)
            .execution_options(synchronize_session=False))


class _Notifiers:
    """Notifiers built on first use for one dispatch run (a build failure is remembered as the error)."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self._built: dict[str, Notifier | NotifierError] = {}

    def get(self, name: str) -> Notifier:
        if name not in self._built:
            try:
                self._built[name] = notifier_for(name, self.config)
            except NotifierError as exc:
                self._built[name] = exc
        built = self._built[name]
        if isinstance(built, NotifierError):
            raise built
        return built

    def close(self) -> None:
        for built in self._built.values():
            if isinstance(built, Notifier):
                built.close()


def _deliver(store: Any, config: Any, groups: Sequence[Sequence[Alert]], owner: str,
             lease: timedelta) -> DispatchResult:
    """Send each group as one message and record the outcome; a channel-wide failure defers the rest."""
    result = DispatchResult()
    notifiers = _Notifiers(config)
    blocked: dict[str, tuple[datetime, str]] = {}
    try:
        for alerts in groups:
            name = alerts[0].notifier
            if name in blocked:
                until, reason = blocked[name]
                _defer(store, alerts, owner, until, reason)
                result.retried += 1
                continue
            if not _renew(store, alerts, owner, lease):
                continue
            try:
                notifier = notifiers.get(name)
                notifier.send(message_for(store, alerts, config))
            except Exception as exc:  # a bug or a database hiccup must not wedge the whole queue
                error = exc if isinstance(exc, NotifierError) else TransientError(
                    f"notifier {name!r}: unexpected {type(exc).__name__}: {redact(str(exc))}")
                if not isinstance(exc, NotifierError):
                    log.exception("alert.unexpected_error", extra={"notifier": name})
                outcome, next_at = _mark_error(store, alerts, owner, error, config, clock.now())
                if outcome == "failed":
                    result.failed += 1
                else:
                    result.retried += 1
                if isinstance(error, TransientError) and error.channel_wide:
                    blocked[name] = (next_at or clock.now() + backoff(1, config.alerts), redact(error.reason))
                continue
            _mark_sent(store, alerts, owner, clock.now())
            result.sent += 1
            log.info("alert.sent", extra={"alert_ids": ",".join(str(a.id) for a in alerts), "notifier": name,
                                          "subscription": alerts[0].subscription})
    finally:
        notifiers.close()
    return result


def dispatch(store: Any, config: Any, *, owner: str, batch: int = 50, lease: timedelta | None = None) -> DispatchResult:
    """Claim due immediate alerts, send them, record sent / retry / failed. Safe to call in a loop.

    `owner` names this dispatcher in the leases and must be unique per process (host, pid, random).
    """
    lease = lease or config.alerts.lease
    rows = claim(store, owner=owner, batch=batch, lease=lease)
    if not rows:
        return DispatchResult()
    return _deliver(store, config, [[row] for row in rows], owner, lease)


def dispatch_digests(store: Any, config: Any, *, owner: str, now: datetime | None = None,
                     batch: int = 50, lease: timedelta | None = None) -> int:
    """Send one message per due digest group (subscription, target, period); returns messages sent."""
    lease = lease or config.alerts.lease
    groups = claim_digests(store, owner=owner, batch=batch, lease=lease, at=now or clock.now())
    if not groups:
        return 0
    return _deliver(store, config, groups, owner, lease).sent


# ---- operations (CLI, metrics) -------------------------------------------------------------------


def retry(session: Session, *, ids: Sequence[int] = (), failed: bool = False) -> int:
    """Make alerts due now again: the given `ids` (failed or pending) and/or every failed alert.

    Attempts start from zero; a digest alert goes back to its digest group. Sent alerts are untouched.
    """
    at = clock.now()
    conditions = []
    if ids:
        conditions.append(Alert.id.in_(list(ids)))
    if failed:
        conditions.append(Alert.status == FAILED)
    if not conditions:
        return 0
    rows = session.scalars(select(Alert).where(or_(*conditions), Alert.status != SENT)).all()
    for alert in rows:
        alert.status = DIGEST if alert.digest_key else PENDING
        alert.attempts = 0
        alert.next_attempt_at = at
        alert.lease_owner = None
        alert.lease_expires_at = None
    return len(rows)


def counts(session: Session) -> dict[str, int]:
    """Number of alerts per status (every status present, zero included)."""
    found = dict(session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def oldest_due(session: Session) -> datetime | None:
    """When the oldest pending alert became due (for a "stuck outbox" metric)."""
    return session.scalar(select(func.min(Alert.next_attempt_at)).where(Alert.status == PENDING))


__all__ = [
    "DispatchResult", "Matched", "enqueue", "enqueue_many", "dispatch", "dispatch_digests", "retry", "counts", "oldest_due",
    "backoff", "digest_due", "digest_key", "message_for", "claim", "claim_digests", "STATUSES",
]
