"""Prometheus metric objects, in their own registry, and small functions the pipeline and outbox call.

This module never imports the HTTP server or the store, so any stage may record what it did:

    from watcher import metrics
    metrics.record_poll("agence-ecofin", "ok", seconds=0.41)
    metrics.record_articles(new=3, duplicate=1, ignored=5)
    metrics.record_alert("sent")        # or "retried", "failed"

`/metrics` (watcher.http) renders `REGISTRY`. Gauges that describe the store (outbox depth, failing
sources) are refreshed by the daemon (`set_store_gauges`), not on every scrape, so a scrape never
waits on the database.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
# process_resident_memory_bytes, process_cpu_seconds_total, open fds... (Linux /proc)
ProcessCollector(registry=REGISTRY)

POLLS = Counter("watcher_polls", "Source polls by source and outcome (ok, not_modified, error).",
                ["source", "outcome"], registry=REGISTRY)
FETCH_SECONDS = Histogram("watcher_fetch_seconds", "Latency of one source poll's listing fetch, in seconds.",
                          buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60), registry=REGISTRY)
ARTICLES = Counter("watcher_articles", "Articles seen by the pipeline, by result (new, duplicate, ignored).",
                   ["result"], registry=REGISTRY)
ALERTS = Counter("watcher_alerts", "Alert deliveries by outcome (sent, retried, failed).", ["outcome"],
                 registry=REGISTRY)
OUTBOX_DEPTH = Gauge("watcher_outbox_depth", "Alerts waiting in the outbox (pending, not yet sent).",
                     registry=REGISTRY)
SOURCES_FAILING = Gauge("watcher_sources_failing", "Configured sources whose last poll failed.", registry=REGISTRY)
SOURCES = Gauge("watcher_sources", "Configured and enabled sources.", registry=REGISTRY)
TICKS = Counter("watcher_ticks", "Scheduler ticks completed.", registry=REGISTRY)
LAST_TICK = Gauge("watcher_last_tick_timestamp_seconds", "Unix time of the last completed tick.", registry=REGISTRY)
JOB_ERRORS = Counter("watcher_job_errors", "Scheduler jobs that raised, by job.", ["job"], registry=REGISTRY)
LEASES = Counter("watcher_leases_claimed", "Source leases claimed by this process.", registry=REGISTRY)
HEALTHY = Gauge("watcher_healthy", "1 when the daemon is healthy (see /healthz), else 0.", registry=REGISTRY)

_ALERT_OUTCOMES = ("sent", "retried", "failed")
_ARTICLE_RESULTS = ("new", "duplicate", "ignored")

# Show the labelled series at zero from the start, so dashboards and alerts see them before any event.
for _outcome in _ALERT_OUTCOMES:
    ALERTS.labels(_outcome)
for _result in _ARTICLE_RESULTS:
    ARTICLES.labels(_result)


def record_poll(source: str, outcome: str, seconds: float | None = None) -> None:
    """One poll of `source` ended with `outcome` (ok | not_modified | error); `seconds` its fetch time."""
    POLLS.labels(source, outcome).inc()
    if seconds is not None:
        FETCH_SECONDS.observe(seconds)


def record_articles(new: int = 0, duplicate: int = 0, ignored: int = 0) -> None:
    """Articles the pipeline stored as new, recognised as duplicates, or kept as ignored (irrelevant)."""
    for result, count in (("new", new), ("duplicate", duplicate), ("ignored", ignored)):
        if count:
            ARTICLES.labels(result).inc(count)


def record_alert(outcome: str, count: int = 1) -> None:
    """Alert deliveries: `sent`, `retried` (a transient failure, rescheduled) or `failed` (permanent)."""
    if outcome not in _ALERT_OUTCOMES:
        raise ValueError(f"alert outcome {outcome!r} is not one of {', '.join(_ALERT_OUTCOMES)}")
    if count:
        ALERTS.labels(outcome).inc(count)


def set_store_gauges(*, outbox_depth: int, sources_failing: int, sources: int) -> None:
    OUTBOX_DEPTH.set(outbox_depth)
    SOURCES_FAILING.set(sources_failing)
    SOURCES.set(sources)


def render() -> tuple[bytes, str]:
    """The Prometheus text exposition of `REGISTRY` and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
