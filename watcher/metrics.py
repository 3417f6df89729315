"""Prometheus metrics: small functions the pipeline, outbox and scheduler call, one registry behind them.

This module never imports the HTTP server or the store, so any stage may record what it did:

    from watcher import metrics
    metrics.record_poll("agence-ecofin", "ok", seconds=0.41)
    metrics.record_articles(new=3, duplicate=1, ignored=5)
    metrics.record_alert("sent")        # or "retried", "failed"

Recording starts with `enable()`, which the daemon calls (it serves `/metrics`; watcher.http renders
`render()`). Until then the record functions do nothing and prometheus_client is not even imported: a
one-shot `watcher poll` has nobody to scrape it, and the import plus a label lookup per source cost
~40 ms of its start-up. Gauges that describe the store (outbox depth, failing sources) are refreshed by
the daemon (`set_store_gauges`), not on every scrape, so a scrape never waits on the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

_ALERT_OUTCOMES = ("sent", "retried", "failed")
_ARTICLE_RESULTS = ("new", "duplicate", "ignored")


class Metrics:
    """The metric objects, in their own registry (built by `enable()`)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

        self.registry = registry = CollectorRegistry(auto_describe=True)
        # process_resident_memory_bytes, process_cpu_seconds_total, open fds... (Linux /proc)
        ProcessCollector(registry=registry)
        self.polls = Counter("watcher_polls", "Source polls by source and outcome (ok, not_modified, error).",
                             ["source", "outcome"], registry=registry)
        self.fetch_seconds = Histogram(
            "watcher_fetch_seconds", "Latency of one source poll's listing fetch, in seconds.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60), registry=registry)
        self.articles = Counter("watcher_articles", "Articles seen by the pipeline, by result (new, duplicate, ignored).",
                                ["result"], registry=registry)
        self.alerts = Counter("watcher_alerts", "Alert deliveries by outcome (sent, retried, failed).", ["outcome"],
                              registry=registry)
        self.outbox_depth = Gauge("watcher_outbox_depth", "Alerts waiting in the outbox (pending, not yet sent).",
                                  registry=registry)
        self.sources_failing = Gauge("watcher_sources_failing", "Configured sources whose last poll failed.",
                                     registry=registry)
        self.sources = Gauge("watcher_sources", "Configured and enabled sources.", registry=registry)
        self.ticks = Counter("watcher_ticks", "Scheduler ticks completed.", registry=registry)
        self.last_tick = Gauge("watcher_last_tick_timestamp_seconds", "Unix time of the last completed tick.",
                               registry=registry)
        self.job_errors = Counter("watcher_job_errors", "Scheduler jobs that raised, by job.", ["job"],
                                  registry=registry)
        self.leases = Counter("watcher_leases_claimed", "Source leases claimed by this process.", registry=registry)
        self.healthy = Gauge("watcher_healthy", "1 when the daemon is healthy (see /healthz), else 0.",
                             registry=registry)
        # Show the labelled series at zero from the start, so dashboards and alerts see them before any event.
        for outcome in _ALERT_OUTCOMES:
            self.alerts.labels(outcome)
        for result in _ARTICLE_RESULTS:
            self.articles.labels(result)


_metrics: Metrics | None = None


def enable() -> Metrics:
    """Start recording (idempotent); returns the metric objects."""
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
    return _metrics


def record_poll(source: str, outcome: str, seconds: float | None = None) -> None:
    """One poll of `source` ended with `outcome` (ok | not_modified | error); `seconds` its fetch time."""
    if _metrics is not None:
        _metrics.polls.labels(source, outcome).inc()
        if seconds is not None:
            _metrics.fetch_seconds.observe(seconds)


def record_articles(new: int = 0, duplicate: int = 0, ignored: int = 0) -> None:
    """Articles the pipeline stored as new, recognised as duplicates, or kept as ignored (irrelevant)."""
    if _metrics is not None:
        for result, count in (("new", new), ("duplicate", duplicate), ("ignored", ignored)):
            if count:
                _metrics.articles.labels(result).inc(count)


def record_alert(outcome: str, count: int = 1) -> None:
    """Alert deliveries: `sent`, `retried` (a transient failure, rescheduled) or `failed` (permanent)."""
    if outcome not in _ALERT_OUTCOMES:
        raise ValueError(f"alert outcome {outcome!r} is not one of {', '.join(_ALERT_OUTCOMES)}")
    if _metrics is not None and count:
        _metrics.alerts.labels(outcome).inc(count)


def record_job_error(job: str) -> None:
    if _metrics is not None:
        _metrics.job_errors.labels(job).inc()


def record_leases(count: int) -> None:
    if _metrics is not None:
        _metrics.leases.inc(count)


def record_tick(finished: datetime) -> None:
    if _metrics is not None:
        _metrics.ticks.inc()
        _metrics.last_tick.set(finished.timestamp())


def set_healthy(healthy: bool) -> None:
    if _metrics is not None:
        _metrics.healthy.set(1 if healthy else 0)


def set_store_gauges(*, outbox_depth: int, sources_failing: int, sources: int) -> None:
    if _metrics is not None:
        _metrics.outbox_depth.set(outbox_depth)
        _metrics.sources_failing.set(sources_failing)
        _metrics.sources.set(sources)


def render() -> tuple[bytes, str]:
    """The Prometheus text exposition of the registry and its content type (enables recording)."""
    from prometheus_client import generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    return generate_latest(enable().registry), CONTENT_TYPE_LATEST


def value(metric: Any, *labels: str) -> float:
    """The current value of a counter or gauge (tests and diagnostics)."""
    return float((metric.labels(*labels) if labels else metric)._value.get())
