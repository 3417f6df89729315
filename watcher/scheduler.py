"""The daemon: an APScheduler loop of short jobs over the store (tick, alerts, digests, retention, leases).

The schedule lives in the store (`sources.next_poll_at`, leases, the outbox), never in memory, so a
restart or another replica resumes exactly where the store says. Jobs:

- `tick` (every `tick`): claim due sources (`watcher.leases`), poll them through the pipeline, which
  records success or failure and sets each source's next poll (interval, or backoff), then release the
  leases. A poll that raises keeps its leases until they expire, so a broken source is retried after
  one lease, not at every tick.
- `alerts` (every `dispatch_every`): `watcher.outbox.dispatch` until the due alerts are sent or rescheduled.
- `digests` (every `digest_every`): `watcher.outbox.dispatch_digests`, one replica at a time.
- `retention` (every `retention_every`): empties the bodies of ignored articles older than
  `retention.ignored_body_days` (their identity, hash and signature stay, so they are never refetched).
- `leases` (every lease/3): renews the leases this process holds, so a long poll keeps its sources.

Every job has `max_instances=1` and `coalesce=True` (never overlaps itself, a backlog of missed runs
collapses to one); a job that raises is logged and counted, and the scheduler keeps running. The
watchdog (`health()`) reports unhealthy when no tick completed for `watchdog_ticks` tick intervals,
or the running tick has lasted longer than both that and one lease.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select, text, update

from watcher import clock, leases, memory, metrics
from watcher import log as logs
from watcher.config import Config, ConfigError, load_config
from watcher.store import Store
from watcher.store.models import Alert, Article, Source

log = logging.getLogger(__name__)


class _SkippedRunFilter(logging.Filter):
    """APScheduler warns each time a run is skipped because the previous one is still going; with
    `max_instances=1` that is the intended behaviour (a long alert batch, a slow tick), not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


_SKIPPED_FILTER = _SkippedRunFilter()

# poller(config, store, names) polls exactly the named (claimed) sources and returns per-source results.
Poller = Callable[[Config, Store, list[str]], Sequence[Any]]


@dataclass
class DaemonSettings:
    """How the daemon paces itself (command-line options of `watcher run`)."""

    tick: timedelta = timedelta(seconds=15)
    lease: timedelta = timedelta(minutes=5)
    watchdog_ticks: int = 3
    batch: int = 200  # sources claimed at once; a tick claims again while whole batches come back
    dispatch_every: timedelta = timedelta(seconds=10)
    alert_batch: int = 5  # alerts claimed at once (small: shutdown waits for the batch in flight)
    digest_every: timedelta = timedelta(seconds=30)
    retention_every: timedelta = timedelta(hours=1)
    agreement_batch: int = 500  # stories whose agreement one run of the job extracts (~1 ms each)
    grace: timedelta = timedelta(seconds=7)  # how long stop() waits for in-flight jobs


    @classmethod
    def from_config(cls, daemon: Any, **overrides: Any) -> DaemonSettings:
        """Settings from the config's `daemon:` section; `overrides` (command-line options) that are not
        None win."""
        values = {name: getattr(daemon, name) for name in ("tick", "lease", "watchdog_ticks", "batch",
                                                           "dispatch_every") if hasattr(daemon, name)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class TickStats:
    claimed: int = 0
    polled: int = 0
    failed: int = 0


@dataclass
class _State:
    started_at: datetime = field(default_factory=clock.now)
    last_tick: datetime | None = None
    tick_started: datetime | None = None
    ticks: int = 0
    last_job_error: str | None = None


def pipeline_poller(config: Config, store: Store, names: list[str]) -> Sequence[Any]:
    """Poll exactly `names` through the pipeline (their due check was done by the claim)."""
    from watcher.pipeline import poll

    return poll(config, store, names, due_only=False, worker=config.daemon.worker)


def sync_sources(config: Config, store: Store) -> None:
    """Bring the `sources` table in line with the config (added, changed, removed sources)."""
    from watcher.store.sources import sync_sources as sync

    with store.session() as session:
        sync(session, config.sources, clock.now())


class Daemon:
    """One `watcher run` process: scheduler, jobs, watchdog, reload and graceful stop."""

    def __init__(self, config: Config, store: Store, settings: DaemonSettings | None = None, *,
                 owner: str | None = None, poller: Poller | None = None,
                 syncer: Callable[[Config, Store], None] | None = None, exclusive: bool = False) -> None:
        # exclusive: no other daemon can use this store (SQLite under its file lock), so leases left
        # by a killed predecessor can be dropped at start instead of waiting for them to expire.
        self.config = config
        self.store = store
        self.settings = settings or DaemonSettings()
        self.owner = owner or leases.new_owner()
        self.exclusive = exclusive
        metrics.enable()  # the daemon is what /metrics describes
        self._poller = poller or pipeline_poller
        self._syncer = syncer or sync_sources
        self._state = _State()
        self._stopping = threading.Event()
        self._running = 0
        self._idle = threading.Condition()
        self._config_lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None
        self._unhealthy_logged = False
        register_url_secrets(config)

    # ---- lifecycle --------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Sync the config's sources into the store and drop stale leases when this daemon is alone."""
        if self.exclusive:
            dropped = leases.clear_source_leases(self.store)
            if dropped:
                log.info("lease.stale_dropped", extra={"count": dropped, "owner": self.owner})
        self._syncer(self.config, self.store)

    def start(self) -> None:
        """Prepare, then start the jobs in a background scheduler (the first tick runs at once)."""
        self.prepare()
        s = self.settings
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=5)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            timezone="UTC",
        )
        first = clock.now()
        jobs: list[tuple[str, Callable[[], Any], timedelta]] = [
            ("tick", self.tick, s.tick),
            ("alerts", self.dispatch_alerts, s.dispatch_every),
            ("digests", self.dispatch_digests, s.digest_every),
            ("retention", self.retention, s.retention_every),
            ("agreements", self.extract_agreements, s.tick),
            ("leases", self.renew_leases, max(s.lease / 3, timedelta(seconds=1))),
        ]
        for name, job, every in jobs:
            scheduler.add_job(self._guarded(name, job), "interval", seconds=every.total_seconds(), id=name,
                              name=name, next_run_time=first)
        logging.getLogger("apscheduler.scheduler").addFilter(_SKIPPED_FILTER)
        scheduler.start()
        self._scheduler = scheduler
        log.info("daemon.started", extra={"owner": self.owner, "tick_s": s.tick.total_seconds(),
                                          "lease_s": s.lease.total_seconds(), "sources": len(self._names())})

    def stop(self) -> bool:
        """Stop claiming, let in-flight jobs finish within the grace period, release every lease.

        Returns True when no job is still running (the caller may then exit normally).
        """
        self._stopping.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        deadline = time.monotonic() + self.settings.grace.total_seconds()
        with self._idle:
            while self._running and time.monotonic() < deadline:
                self._idle.wait(timeout=max(0.0, min(0.2, deadline - time.monotonic())))
            finished = self._running == 0
        # Whatever is still in flight is abandoned: give its sources and alerts back to the others now.
        try:
            released = leases.release_sources(self.store, self.owner)
            released_alerts = leases.release_alerts(self.store, self.owner)
        except Exception:
            log.exception("daemon.release_failed", extra={"owner": self.owner})
            released = released_alerts = 0
        log.info("daemon.stopped", extra={"owner": self.owner, "clean": finished,
                                          "leases_released": released, "alert_leases_released": released_alerts})
        return finished

    def run_once(self) -> TickStats:
        """One pass of every job, in order (`watcher run --once`): poll what is due, send what is due."""
        self.prepare()
        stats = self.tick()
        self.dispatch_alerts()
        self.dispatch_digests()
        self.retention()
        self.extract_agreements()
        return stats

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # ---- jobs -------------------------------------------------------------------------------------

    def _guarded(self, name: str, job: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            if self._stopping.is_set():
                return
            with self._idle:
                self._running += 1
            try:
                job()
            except Exception as exc:  # logged and counted; the scheduler runs the job again next time
                metrics.record_job_error(name)
                self._state.last_job_error = f"{name}: {type(exc).__name__}: {exc}"
                log.exception("job.failed", extra={"job": name, "owner": self.owner})
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

        run.__name__ = f"watcher_{name}"
        return run

    def _names(self) -> list[str]:
        return [source.name for source in self.config.sources if source.enabled]

    def tick(self) -> TickStats:
        """Claim due sources batch by batch and poll them, until none is due or the daemon stops."""
        stats = TickStats()
        self._state.tick_started = clock.now()
        try:
            while not self._stopping.is_set():
                with self._config_lock:
                    config = self.config
                enabled = [s.name for s in config.sources if s.enabled]
                names = leases.claim_sources(self.store, self.owner, lease=self.settings.lease,
                                             limit=self.settings.batch, names=enabled)
                if not names:
                    break
                stats.claimed += len(names)
                metrics.record_leases(len(names))
                log.info("lease.claimed", extra={"owner": self.owner, "count": len(names), "sources": ",".join(names)})
                # On an exception the leases stay until they expire: a crashing poll is retried after
                # one lease instead of at every tick.
                results = self._poller(config, self.store, names)
                released = leases.release_sources(self.store, self.owner, names)
                log.debug("lease.released", extra={"owner": self.owner, "count": released})
                stats.polled += len(results)
                stats.failed += self._record(results)
                if len(names) < self.settings.batch:
                    break
            self._refresh_gauges()
        finally:
            self._state.tick_started = None
        finished = clock.now()
        self._state.last_tick = finished
        self._state.ticks += 1
        metrics.record_tick(finished)
        if stats.claimed:
            log.info("tick.done", extra={"owner": self.owner, "polled": stats.polled, "failed": stats.failed})
            memory.release()  # a tick's articles are stored and freed: don't keep their pages
        return stats

    @staticmethod
    def _record(results: Sequence[Any]) -> int:
        """How many polls failed (the pipeline itself counts polls and articles in `watcher.metrics`)."""
        return sum(1 for result in results if _outcome(result) == "error")

    def dispatch_alerts(self) -> None:
        """Send due alerts in small batches until none is left or the daemon stops."""
        from watcher import outbox

        while not self._stopping.is_set():
            with self._config_lock:
                config = self.config
            result = outbox.dispatch(self.store, config, owner=self.owner, batch=self.settings.alert_batch,
                                     lease=config.alerts.lease)
            metrics.record_alert("sent", result.sent)
            metrics.record_alert("retried", result.retried)
            metrics.record_alert("failed", result.failed)
            if result.sent + result.retried + result.failed < self.settings.alert_batch:
                break

    def dispatch_digests(self) -> None:
        """Send the digests whose period ended; one replica at a time (named lock `digests`)."""
        from watcher import outbox

        ttl = max(self.config.alerts.lease, self.settings.digest_every)
        if not leases.acquire_lock(self.store, "digests", self.owner, ttl=ttl):
            return
        try:
            sent = outbox.dispatch_digests(self.store, self.config, owner=self.owner, now=clock.now())
            metrics.record_alert("sent", sent)
        finally:
            leases.release_lock(self.store, "digests", self.owner)

    def retention(self) -> int:
        """Empty the bodies of ignored articles older than `retention.ignored_body_days` (one replica)."""
        days = self.config.retention.ignored_body_days
        if not days or not leases.acquire_lock(self.store, "retention", self.owner, ttl=timedelta(minutes=10)):
            return 0
        try:
            pruned = prune_ignored_bodies(self.store, older_than=timedelta(days=days))
        finally:
            leases.release_lock(self.store, "retention", self.owner)
        if pruned:
            log.info("retention.pruned", extra={"articles": pruned, "older_than_days": days})
        return pruned

    def extract_agreements(self) -> int:
        """Fill in the agreements of stories stored since the last call (ingest leaves them to us), a
        bounded batch per run. Replicas may overlap here: the result is the same whichever writes it."""
        from watcher import agreements

        with self.store.session() as session:
            done = agreements.refresh(session, limit=self.settings.agreement_batch)
        if done:
            memory.release()
        return done

    def renew_leases(self) -> None:
        leases.renew_sources(self.store, self.owner, lease=self.settings.lease)

    # ---- reload -----------------------------------------------------------------------------------

    def reload(self, path: Any = None) -> bool:
        """Load the config again (SIGHUP); an invalid one is rejected with its errors and the old kept."""
        path = path or self.config.path
        try:
            new = load_config(path)
        except ConfigError as exc:
            for line in exc.errors:
                log.error("config.reload_rejected", extra={"error": line})
            log.error("config.kept", extra={"path": str(path), "errors": len(exc.errors)})
            return False
        if new.store.url != self.config.store.url:
            log.warning("config.store_change_needs_restart", extra={"path": str(path)})
            new.store = self.config.store
        if new.daemon != self.config.daemon:
            log.warning("config.daemon_change_needs_restart", extra={"path": str(path)})
        register_url_secrets(new)
        changes = describe_changes(self.config, new)
        try:
            self._syncer(new, self.store)
        except Exception:
            log.exception("config.reload_sync_failed", extra={"path": str(path)})
            return False
        with self._config_lock:
            self.config = new
        log.info("config.reloaded", extra={"path": str(path), **changes})
        return True

    # ---- health -----------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """The watchdog's verdict and what it is based on (served as `/healthz`)."""
        now = clock.now()
        s, state = self.settings, self._state
        limit = s.watchdog_ticks * s.tick.total_seconds()
        reasons: list[str] = []
        last = state.last_tick or state.started_at
        since_tick = (now - last).total_seconds()
        tick_started = state.tick_started
        running_for = (now - tick_started).total_seconds() if tick_started else None
        if self._stopping.is_set():
            reasons.append("stopping")
        elif self._scheduler is not None and not self._scheduler.running:
            reasons.append("scheduler is not running")
        if running_for is not None:
            if running_for > max(limit, s.lease.total_seconds()):
                reasons.append(f"the current tick has been running for {running_for:.0f}s")
        elif since_tick > limit:
            reasons.append(f"no tick completed for {since_tick:.0f}s (limit {limit:.0f}s)")
        report: dict[str, Any] = {
            "status": "ok",
            "owner": self.owner,
            "started_at": state.started_at.isoformat(),
            "last_tick": state.last_tick.isoformat() if state.last_tick else None,
            "seconds_since_tick": round(since_tick, 3),
            "ticks": state.ticks,
            "last_job_error": state.last_job_error,
        }
        try:
            report.update(self._store_stats())
            report["db"] = "ok"
        except Exception as exc:
            report["db"] = f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            reasons.append("database unreachable")
        if reasons:
            report["status"] = "unhealthy"
            report["reasons"] = reasons
            if not self._unhealthy_logged and "stopping" not in reasons:
                log.error("watchdog.unhealthy", extra={"owner": self.owner, "reasons": "; ".join(reasons)})
            self._unhealthy_logged = True
        else:
            self._unhealthy_logged = False
        metrics.set_healthy(not reasons)
        return report

    def _store_stats(self) -> dict[str, Any]:
        names = self._names()
        with self.store.session() as session:
            session.execute(text("SELECT 1"))
            failing = session.scalars(
                select(Source.name).where(Source.name.in_(names), Source.consecutive_failures > 0).order_by(Source.name)
            ).all() if names else []
            depth = session.scalar(select(func.count()).select_from(Alert).where(Alert.status == "pending")) or 0
        metrics.set_store_gauges(outbox_depth=int(depth), sources_failing=len(failing), sources=len(names))
        return {"sources": len(names), "sources_failing": len(failing), "failing": list(failing[:50]),
                "outbox_depth": int(depth)}

    def _refresh_gauges(self) -> None:
        try:
            self._store_stats()
        except Exception:
            log.debug("metrics.gauges_failed", exc_info=True)


def _outcome(result: Any) -> str:
    """ok | not_modified | error, from a pipeline PollResult."""
    status = str(getattr(result, "status", "") or "")
    if getattr(result, "error", None) or status == "error":
        return "error"
    if status == "not_modified" or getattr(result, "not_modified", False):
        return "not_modified"
    return "ok"


def prune_ignored_bodies(store: Store, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Empty the body of ignored articles fetched before now - `older_than`; returns how many."""
    cutoff = (now or clock.now()) - older_than
    with store.session() as session:
        result = session.execute(
            update(Article)
            .where(Article.status == "ignored", Article.fetched_at < cutoff, Article.body != "")
            .values(body="")
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)


def register_url_secrets(config: Config) -> None:
    """Mask webhook URLs in logs, their paths included (servers echo paths in error pages)."""
    for notifier in config.notifiers.values():
        logs.register_url_secret(getattr(notifier, "webhook_url", None))
        for url in getattr(notifier, "urls", None) or []:
            logs.register_url_secret(url)


def describe_changes(old: Config, new: Config) -> dict[str, str]:
    """Names of sources and subscriptions added, changed and removed between two configs, for the log."""
    out: dict[str, str] = {}
    for section in ("sources", "subscriptions"):
        before = {item.name: item.model_dump() for item in getattr(old, section)}
        after = {item.name: item.model_dump() for item in getattr(new, section)}
        for label, names in (("added", sorted(set(after) - set(before))),
                             ("removed", sorted(set(before) - set(after))),
                             ("changed", sorted(n for n in set(before) & set(after) if before[n] != after[n]))):
            out[f"{section}_{label}"] = ",".join(names) or "-"
    return out
