"""The outbox end to end: enqueue in the article's transaction, dispatch to real local servers, retries,
leases, digests and the flood guard, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import random
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support.http import LocalServer, Request
from tests.test_notifiers_email import PASSWORD, SmtpServer, cert, email_config, free_port, trust  # noqa: F401
from watcher import clock, outbox
from watcher import log as watcher_log
from watcher.config import AlertsConfig, Config, load_config
from watcher.matching import Match, Matcher
from watcher.notifiers import slack
from watcher.outbox import (
    DispatchResult,
    backoff,
    claim,
    digest_due,
    digest_key,
    dispatch,
    dispatch_digests,
    enqueue,
    retry,
)
from watcher.store import Store, open_store
from watcher.store.models import Alert, Article, Story

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
HOOK = "/services/T0001/B0002/XyZsecretToken123"
OK = (200, {"Content-Type": "text/plain"}, b"ok")


# ---- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def move_to(at: datetime) -> None:
    clock.freeze(at)


@pytest.fixture(autouse=True)
def no_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack, "THROTTLE", slack.Throttle(interval=0))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def _shared_http() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def http(_shared_http: LocalServer) -> LocalServer:
    _shared_http.routes.clear()
    _shared_http.requests.clear()
    return _shared_http


class Script:
    """Scripted webhook: the next response each call, the last one for ever; keeps the JSON bodies."""

    def __init__(self, *responses: tuple[int, dict[str, str], bytes]) -> None:
        self.responses = list(responses)
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.bodies.append(json.loads(request.body))
            return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


def make_config(*, slack_url: str | None = None, smtp_port: int | None = None, digest: str = "immediate",
                notify: list[dict[str, Any]] | None = None, **rest: Any) -> Config:
    notifiers: dict[str, Any] = {}
    if slack_url:
        notifiers["team"] = {"type": "slack", "webhook_url": slack_url, "timeout": "5s"}
    if smtp_port:
        notifiers["mail"] = email_config(smtp_port)
    if notify is None:
        notify = ([{"notifier": "mail", "to": ["desk@example.org"]}] if smtp_port else []) + (
            [{"notifier": "team"}] if slack_url else [])
    sub = {"name": "tunisia-digital", "any": ["Tunisie", "Tunisia"], "all": ["numérique"],
           "digest": digest, "notify": notify}
    return Config.model_validate({"notifiers": notifiers, "subscriptions": [sub], **rest})


def add_article(store: Store, title: str, *, body: str = "La Tunisie renforce sa coopération numérique.",
                source: str = "agence-ecofin", story_id: int | None = None,
                published: datetime | None = NOW - timedelta(hours=2)) -> tuple[int, int]:
    """Store an article (and a new story unless `story_id`) the way ingest does; returns (story, article)."""
    url = f"https://{source}.example/{uuid.uuid4().hex[:8]}"
    with store.session() as s:
        if story_id is None:
            story = Story(title=title, created_at=clock.now(), published_at=published)
            s.add(story)
            s.flush()
            story_id = story.id
        article = Article(source=source, origin="feed", url=url, canonical_url=url, guid=url, title=title,
                          body=body, published_at=published, fetched_at=clock.now(),
                          content_hash=uuid.uuid4().hex, relevance=1.0, status="relevant", story_id=story_id)
        s.add(article)
        s.flush()
        return story_id, article.id


def enqueue_for(store: Store, config: Config, story_article: tuple[int, int], *, silent: bool = False,
                published: datetime | None = NOW - timedelta(hours=2), terms: list[str] | None = None) -> int:
    with store.session() as s:
        return enqueue(s, story_id=story_article[0], article_id=story_article[1], published_at=published,
                       matches=[Match("tunisia-digital", terms or ["Tunisie", "numérique"])], config=config,
                       silent=silent)


def alerts(store: Store) -> list[Alert]:
    with store.session() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)).all())


def run(store: Store, config: Config, owner: str = "test") -> DispatchResult:
    return dispatch(store, config, owner=owner)


# ---- enqueue -------------------------------------------------------------------------------------


def test_matching_article_produces_exactly_one_email(store, cert, trust) -> None:  # noqa: F811
    title = "La Tunisie signe un accord numérique <script>alert('x')</script>"
    body = "Tunis et Dakar ont signé un protocole d'accord sur le numérique et la cybersécurité."
    with SmtpServer(cert, "starttls") as server:
        config = make_config(smtp_port=server.port)
        matches = Matcher(config.subscriptions).match(title, body, "agence-ecofin", 1.0)
        assert [m.subscription for m in matches] == ["tunisia-digital"]
        ids = add_article(store, title, body=body)
        with store.session() as s:  # the same transaction as the article in the pipeline
            assert enqueue(s, story_id=ids[0], article_id=ids[1], published_at=NOW, matches=matches,
                           config=config, silent=False) == 1
        assert run(store, config) == DispatchResult(sent=1)
        assert run(store, config) == DispatchResult()
    assert len(server.received) == 1
    (row,) = alerts(store)
    msg = server.received[0].message
    assert server.received[0].rcpt_tos == ["desk@example.org"] and server.received[0].tls
    assert msg["Subject"] == f"[tunisia-digital] {title}"
    assert msg["Message-ID"] == f"<watcher-alert-{row.id}@example.org>"
    assert msg["To"] == "desk@example.org" and msg["From"] == "Cooperation Watcher <watcher@example.org>"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert title in text and "Tunis et Dakar" in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert row.status == "sent" and row.sent_at == NOW and row.attempts == 1 and row.last_error is None


def test_enqueue_twice_restart_and_second_source_create_no_second_alert(store_url, http) -> None:
    http.routes[HOOK] = script = Script(OK)
    config = make_config(slack_url=http.url(HOOK), smtp_port=2525)
    first = open_store(store_url)
    ids = add_article(first, "La Tunisie et le numérique")
    assert enqueue_for(first, config, ids) == 2  # one email target, one Slack target
    assert enqueue_for(first, config, ids) == 0  # re-poll
    copy = add_article(first, "Tunisie : accord numérique", source="icesco", story_id=ids[0])
    assert enqueue_for(first, config, (ids[0], copy[1])) == 0  # the same story from another source
    first.close()
    restarted = open_store(store_url)  # a new process on the same database
    assert enqueue_for(restarted, config, ids) == 0
    rows = alerts(restarted)
    assert [(r.notifier, r.target, r.status) for r in rows] == [
        ("mail", "desk@example.org", "pending"), ("team", "", "pending")]
    config_slack_only = make_config(slack_url=http.url(HOOK))
    assert dispatch(restarted, config_slack_only, owner="a").sent == 1
    assert enqueue_for(restarted, config_slack_only, ids) == 0  # still none once sent
    assert dispatch(restarted, config_slack_only, owner="a").sent == 0
    assert len(script.bodies) == 1
    restarted.close()


def test_flood_guard_silent_and_max_age(store) -> None:
    config = make_config(slack_url="http://127.0.0.1:9/hook")
    ids = add_article(store, "Tunisie numérique")
    assert enqueue_for(store, config, ids, silent=True) == 0  # a new source's first poll
    assert enqueue_for(store, config, ids, published=NOW - timedelta(days=8)) == 0  # older than 7 days
    assert enqueue_for(store, config, ids, published=None) == 1  # no date: alert rather than lose it
    short = Config.model_validate({
        "notifiers": {"team": {"type": "slack", "webhook_url": "http://127.0.0.1:9/hook"}},
        "subscriptions": [{"name": "tunisia-digital", "any": ["Tunisie"], "max_age": "1d",
                           "notify": [{"notifier": "team"}]}]})
    other = add_article(store, "Tunisie numérique 2")
    assert enqueue_for(store, short, other, published=NOW - timedelta(days=2)) == 0
    assert enqueue_for(store, short, other, published=NOW - timedelta(hours=23)) == 1
    assert len(alerts(store)) == 2


def test_one_batch_of_stories_is_one_insert_with_the_rules_of_one_story(store, http) -> None:
    """enqueue_many: each story gets its rows; a story twice in the batch (two copies) gets them once,
    for its first copy; a story too old and a stored row already there add nothing."""
    config = make_config(slack_url=http.url("/hook"))
    match = [Match("tunisia-digital", ["Tunisie", "numérique"])]
    first, second, old = (add_article(store, f"Tunisie numérique {i}") for i in range(3))
    copy = add_article(store, "Tunisie numérique 0, reprise", story_id=first[0])
    enqueue_for(store, config, second)  # already queued by an earlier batch
    statements: list[str] = []
    with store.session() as s:
        from sqlalchemy import event

        conn = s.connection()
        event.listen(conn, "before_cursor_execute", lambda *args: statements.append(args[2]))
        created = outbox.enqueue_many(s, [
            outbox.Matched(first[0], first[1], NOW, match),
            outbox.Matched(second[0], second[1], NOW, match),
            outbox.Matched(copy[0], copy[1], NOW, match),
            outbox.Matched(old[0], old[1], NOW - timedelta(days=30), match),
        ], config)
    assert created == 1
    assert len([q for q in statements if q.lstrip().upper().startswith("INSERT")]) == 1
    rows = sorted((a.story_id, a.article_id) for a in alerts(store))
    assert rows == sorted([first, second])


def test_a_long_recipient_list_is_split_never_cut(store) -> None:
    to = [f"reader{i:03d}@newsroom.example.org" for i in range(40)]  # ~1.3 KB joined
    config = make_config(smtp_port=2525, notify=[{"notifier": "mail", "to": to}])
    ids = add_article(store, "Tunisie numérique")
    created = enqueue_for(store, config, ids)
    rows = alerts(store)
    assert created == len(rows) > 1
    assert all(len(r.target) <= 500 for r in rows)
    assert [a for r in rows for a in r.target.split(",")] == to
    assert enqueue_for(store, config, ids) == 0


def test_unknown_subscription_is_skipped(store) -> None:
    config = make_config(slack_url="http://127.0.0.1:9/hook")
    ids = add_article(store, "Tunisie numérique")
    with store.session() as s:
        assert enqueue(s, story_id=ids[0], article_id=ids[1], published_at=NOW, matches=[Match("gone", ["x"])],
                       config=config, silent=False) == 0


# ---- Slack delivery through the dispatcher -------------------------------------------------------


def test_slack_429_retry_after_then_200_delivers_once(store, http) -> None:
    http.routes[HOOK] = script = Script((429, {"Retry-After": "1"}, b"rate_limited"), OK)
    config = make_config(slack_url=http.url(HOOK))
    enqueue_for(store, config, add_article(store, "<!channel> Tunisie : accord numérique"))
    assert run(store, config) == DispatchResult(retried=1)
    (row,) = alerts(store)
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at == NOW + timedelta(seconds=1)
    assert "HTTP 429" in row.last_error
    assert run(store, config) == DispatchResult()  # not due yet: Retry-After honoured
    assert len(script.bodies) == 1
    move_to(NOW + timedelta(seconds=1))
    assert run(store, config) == DispatchResult(sent=1)
    assert run(store, config) == DispatchResult()
    assert len(script.bodies) == 2
    delivered = json.dumps(script.bodies[1], ensure_ascii=False)
    assert "<!channel>" not in delivered and "&lt;!channel&gt; Tunisie" in delivered
    (row,) = alerts(store)
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None


def test_slack_500_then_200_is_retried_with_backoff(store, http) -> None:
    http.routes[HOOK] = script = Script((500, {}, b"internal_error"), OK)
    config = make_config(slack_url=http.url(HOOK))
    enqueue_for(store, config, add_article(store, "Tunisie numérique"))
    assert run(store, config) == DispatchResult(retried=1)
    (row,) = alerts(store)
    base = config.alerts.backoff_base
    assert NOW + base / 2 <= row.next_attempt_at <= NOW + base  # first retry: half to full base delay
    move_to(row.next_attempt_at)
    assert run(store, config) == DispatchResult(sent=1)
    assert len(script.bodies) == 2


def test_slack_404_fails_permanently_without_further_attempts(store, http) -> None:
    http.routes[HOOK] = script = Script((404, {}, b"no_service"))
    config = make_config(slack_url=http.url(HOOK))
    enqueue_for(store, config, add_article(store, "Tunisie numérique"))
    assert run(store, config) == DispatchResult(failed=1)
    move_to(NOW + timedelta(days=3))
    assert run(store, config) == DispatchResult()
    assert len(script.bodies) == 1
    (row,) = alerts(store)
    assert row.status == "failed" and row.attempts == 1
    assert "HTTP 404 no_service" in row.last_error and "XyZsecretToken123" not in row.last_error


def test_transient_errors_give_up_after_max_attempts(store, http) -> None:
    http.routes[HOOK] = script = Script((503, {}, b"busy"))
    config = make_config(slack_url=http.url(HOOK), alerts={"max_attempts": 3})
    enqueue_for(store, config, add_article(store, "Tunisie numérique"))
    for _ in range(3):
        run(store, config)
        (row,) = alerts(store)
        move_to(row.next_attempt_at)
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error.startswith("gave up after 3 attempts:")
    assert run(store, config) == DispatchResult() and len(script.bodies) == 3


def test_a_rate_limited_webhook_defers_the_rest_of_the_batch(store, http) -> None:
    http.routes[HOOK] = script = Script((429, {"Retry-After": "30"}, b"rate_limited"), OK)
    config = make_config(slack_url=http.url(HOOK))
    for i in range(3):
        enqueue_for(store, config, add_article(store, f"Tunisie numérique {i}"))
    assert run(store, config) == DispatchResult(retried=3)
    assert len(script.bodies) == 1  # the other two were not even tried
    rows = alerts(store)
    assert [r.attempts for r in rows] == [1, 0, 0]
    assert {r.next_attempt_at for r in rows} == {NOW + timedelta(seconds=30)}
    move_to(NOW + timedelta(seconds=30))
    assert run(store, config) == DispatchResult(sent=3)


# ---- SMTP down, then up --------------------------------------------------------------------------


def test_smtp_down_then_up_delivers_everything_exactly_once(store, cert, trust) -> None:  # noqa: F811
    port = free_port()
    config = make_config(smtp_port=port)
    for i in range(3):
        enqueue_for(store, config, add_article(store, f"Tunisie numérique {i}"))
    result = run(store, config)  # nothing listens on the port
    assert result.sent == 0 and result.retried == 3
    rows = alerts(store)
    assert all(r.status == "pending" for r in rows)
    assert all(f"127.0.0.1:{port}" in r.last_error for r in rows)
    assert PASSWORD not in " ".join(r.last_error for r in rows)
    move_to(max(r.next_attempt_at for r in rows))
    result = run(store, config)  # still down: one more try, nothing lost
    assert result.sent == 0
    with SmtpServer(cert, "starttls", port=port) as server:
        move_to(max(r.next_attempt_at for r in alerts(store)))
        assert run(store, config) == DispatchResult(sent=3)
        move_to(clock.now() + timedelta(days=1))
        assert run(store, config) == DispatchResult()
    assert len(server.received) == 3
    subjects = sorted(r.message["Subject"] for r in server.received)
    assert subjects == [f"[tunisia-digital] Tunisie numérique {i}" for i in range(3)]
    assert len({r.message["Message-ID"] for r in server.received}) == 3
    assert all(r.status == "sent" for r in alerts(store))


# ---- leases and concurrency ----------------------------------------------------------------------


def test_crash_between_claim_and_send_is_reclaimed_after_the_lease(store, http) -> None:
    http.routes[HOOK] = script = Script(OK)
    config = make_config(slack_url=http.url(HOOK))
    enqueue_for(store, config, add_article(store, "Tunisie numérique"))
    claimed = claim(store, owner="crashed", batch=10, lease=timedelta(minutes=5))
    assert len(claimed) == 1  # ... and the process dies here, before sending
    assert dispatch(store, config, owner="other") == DispatchResult()  # the lease still holds
    move_to(NOW + timedelta(minutes=5))
    assert dispatch(store, config, owner="other") == DispatchResult(sent=1)
    assert len(script.bodies) == 1


def test_a_dispatcher_that_lost_its_lease_does_not_send(store, http) -> None:
    http.routes[HOOK] = script = Script(OK)
    config = make_config(slack_url=http.url(HOOK))
    for i in range(2):
        enqueue_for(store, config, add_article(store, f"Tunisie numérique {i}"))
    lease = timedelta(minutes=5)
    slow = claim(store, owner="slow", batch=10, lease=lease)  # then stalls longer than its lease
    move_to(NOW + timedelta(minutes=6))
    assert dispatch(store, config, owner="fast") == DispatchResult(sent=2)
    assert outbox._deliver(store, config, [[row] for row in slow], "slow", lease) == DispatchResult()
    assert len(script.bodies) == 2


def test_a_claimed_row_cannot_be_claimed_twice(store) -> None:
    config = make_config(slack_url="http://127.0.0.1:9/hook")
    for i in range(4):
        enqueue_for(store, config, add_article(store, f"Tunisie numérique {i}"))
    first = claim(store, owner="a", batch=3, lease=timedelta(minutes=5))
    second = claim(store, owner="b", batch=10, lease=timedelta(minutes=5))
    assert len(first) == 3 and len(second) == 1
    assert not {r.id for r in first} & {r.id for r in second}


def test_concurrent_dispatchers_send_each_alert_once(pg_url, http) -> None:
    """Several daemons on PostgreSQL: SKIP LOCKED + compare-and-set, no alert twice."""
    http.routes[HOOK] = script = Script(OK)
    config = make_config(slack_url=http.url(HOOK))
    store = open_store(pg_url)
    for i in range(24):
        enqueue_for(store, config, add_article(store, f"Tunisie numérique {i}"))
    results: list[DispatchResult] = []

    def worker(name: str) -> None:
        for _ in range(5):
            results.append(dispatch(store, config, owner=name, batch=4))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    titles = [b["blocks"][1]["text"]["text"] for b in script.bodies]
    assert len(titles) == 24 and len(set(titles)) == 24
    assert sum(r.sent for r in results) == 24
    store.close()


# ---- digests -------------------------------------------------------------------------------------


def test_digest_periods() -> None:
    at = datetime(2026, 11, 23, 10, 17, 5, tzinfo=timezone.utc)
    assert digest_due("hourly", at) == datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)
    assert digest_due("daily", at) == datetime(2026, 11, 24, 0, 0, tzinfo=timezone.utc)
    assert digest_due("0 8 * * *", at) == datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
    assert digest_due("0 12 * * *", at) == datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    assert digest_key(datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)) == "2026-11-24T08:00Z"


def test_digest_subscription_receives_one_message_with_all_its_stories(store, http, cert, trust) -> None:  # noqa: F811
    http.routes[HOOK] = script = Script(OK)
    with SmtpServer(cert, "starttls") as server:
        config = make_config(slack_url=http.url(HOOK), smtp_port=server.port, digest="daily")
        for i in range(3):
            move_to(NOW + timedelta(minutes=10 * i))
            enqueue_for(store, config, add_article(store, f"Tunisie numérique {i}"))
        rows = alerts(store)
        assert {(r.status, r.digest_key) for r in rows} == {("digest", "2026-11-24T00:00Z")}
        assert run(store, config) == DispatchResult()  # digests never go out one by one
        assert dispatch_digests(store, config, owner="d", now=clock.now()) == 0  # period not over
        midnight = datetime(2026, 11, 24, tzinfo=timezone.utc)
        move_to(midnight)
        assert dispatch_digests(store, config, owner="d", now=midnight) == 2  # one per target
        assert dispatch_digests(store, config, owner="d", now=midnight) == 0
        # A story matched after the period closed goes to the next period.
        enqueue_for(store, config, add_article(store, "Tunisie numérique 3"))
    assert len(server.received) == 1 and len(script.bodies) == 1
    text = server.received[0].message.get_body(("plain",)).get_content()
    assert all(f"Tunisie numérique {i}" in text for i in range(3)) and "numérique 3" not in text
    assert server.received[0].message["Subject"] == "[tunisia-digital] 3 articles – 23/11/2026"
    slack_text = json.dumps(script.bodies[0], ensure_ascii=False)
    assert all(f"Tunisie numérique {i}" in slack_text for i in range(3))
    rows = alerts(store)
    assert [r.status for r in rows] == ["sent"] * 6 + ["digest"] * 2
    assert rows[-1].digest_key == "2026-11-25T00:00Z"


def test_failed_digest_is_retried_as_one_message(store, http) -> None:
    http.routes[HOOK] = script = Script((500, {}, b"oops"), OK)
    config = make_config(slack_url=http.url(HOOK), digest="hourly")
    for i in range(2):
        enqueue_for(store, config, add_article(store, f"Tunisie numérique {i}"))
    move_to(NOW + timedelta(hours=1))
    assert dispatch_digests(store, config, owner="d") == 0
    rows = alerts(store)
    assert {r.status for r in rows} == {"digest"} and {r.attempts for r in rows} == {1}
    move_to(rows[0].next_attempt_at)
    assert dispatch_digests(store, config, owner="d") == 1
    assert len(script.bodies) == 2 and "numérique 1" in json.dumps(script.bodies[1], ensure_ascii=False)


# ---- unusable notifiers, secrets, retry, backoff -------------------------------------------------


def test_unusable_notifier_retries_with_a_clear_error(store, tmp_path) -> None:
    path = tmp_path / "watcher.yaml"
    path.write_text(
        "notifiers:\n"
        "  mail: {type: email, host: '${SMTP_HOST}', password: '${SMTP_PASSWORD}', from: w@example.org}\n"
        "subscriptions:\n"
        "  - {name: tunisia-digital, any: [Tunisie], notify: [{notifier: mail, to: [desk@example.org]}]}\n",
        encoding="utf-8")
    config = load_config(path, env={"SMTP_PASSWORD": "hunter2-secret"})
    enqueue_for(store, config, add_article(store, "Tunisie numérique"))
    assert run(store, config) == DispatchResult(retried=1)
    (row,) = alerts(store)
    assert row.status == "pending" and row.attempts == 1
    assert "notifier 'mail' is unusable" in row.last_error and "SMTP_HOST" in row.last_error
    assert "hunter2" not in row.last_error


def test_no_secret_in_logs_or_last_error(store, http, cert, trust) -> None:  # noqa: F811
    stream = io.StringIO()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    watcher_log.setup("text", "debug", stream)
    keep = Keep()
    logging.getLogger().addHandler(keep)
    try:
        http.routes[HOOK] = Script((404, {}, b"no_service"))
        with SmtpServer(cert, "starttls") as server:
            config = make_config(slack_url=http.url(HOOK), smtp_port=server.port)
            config.notifiers["mail"].password = "wrong-" + PASSWORD
            enqueue_for(store, config, add_article(store, "Tunisie numérique"))
            run(store, config)
    finally:
        logging.getLogger().removeHandler(keep)
        logging.getLogger().handlers.clear()
    output = stream.getvalue() + "".join(repr(vars(r)) for r in records)
    errors = " ".join(r.last_error or "" for r in alerts(store))
    assert "alert.failed" in output and "alert.retry" in output  # something was logged at all
    assert "authentication failed" in errors and "HTTP 404" in errors
    for secret in (PASSWORD, "XyZsecretToken123", HOOK):
        assert secret not in output and secret not in errors


def test_retry_resets_failed_alerts(store, http) -> None:
    http.routes[HOOK] = Script((404, {}, b"no_service"), OK)
    config = make_config(slack_url=http.url(HOOK))
    enqueue_for(store, config, add_article(store, "Tunisie numérique"))
    assert run(store, config).failed == 1
    with store.session() as s:
        assert retry(s, failed=True) == 1
    (row,) = alerts(store)
    assert row.status == "pending" and row.attempts == 0 and row.next_attempt_at == NOW
    assert run(store, config).sent == 1
    with store.session() as s:
        assert retry(s, ids=[row.id]) == 0  # sent alerts are never sent again
        assert s.scalar(select(func.count()).select_from(Alert).where(Alert.status == "sent")) == 1


def test_backoff_is_exponential_jittered_and_capped() -> None:
    cfg = AlertsConfig(backoff_base="30s", backoff_cap="6h")
    rng = random.Random(7)
    for attempts, full in [(1, 30), (2, 60), (3, 120), (10, 15360), (11, 6 * 3600), (40, 6 * 3600)]:
        for _ in range(20):
            delay = backoff(attempts, cfg, rng).total_seconds()
            assert full / 2 <= delay <= full
    delays = {backoff(3, cfg, rng) for _ in range(10)}
    assert len(delays) > 1  # jitter: daemons that failed together do not retry together


# ---- apprise (Teams, Telegram, Discord...) -------------------------------------------------------


def test_apprise_service_delivers_plain_text_and_failures_retry(store, http) -> None:
    pytest.importorskip("apprise")
    http.routes["/apprise/Tok3nSecretValue"] = script = Script((500, {}, b"busy"), OK)
    url = http.url("/apprise/Tok3nSecretValue").replace("http://", "json://")
    config = Config.model_validate({
        "notifiers": {"chat": {"type": "apprise", "urls": [url]}},
        "subscriptions": [{"name": "tunisia-digital", "any": ["Tunisie"], "notify": [{"notifier": "chat"}]}]})
    enqueue_for(store, config, add_article(store, "Tunisie <b>numérique</b>"))
    assert run(store, config) == DispatchResult(retried=1)
    (row,) = alerts(store)
    assert "error=500" in row.last_error and "Tok3nSecretValue" not in row.last_error
    move_to(row.next_attempt_at)
    assert run(store, config) == DispatchResult(sent=1)
    delivered = script.bodies[-1]
    assert delivered["title"] == "[tunisia-digital] Tunisie <b>numérique</b>"
    assert "Tunisie <b>numérique</b>" in delivered["message"] and len(script.bodies) == 2
