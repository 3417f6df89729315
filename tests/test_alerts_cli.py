"""`watcher alerts` (listing, retry) and `watcher test-alert` through the real command line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.support.http import LocalServer
from tests.test_notifiers_email import PASSWORD, USER, SmtpServer, cert, free_port, trust  # noqa: F401
from tests.test_outbox import Script, add_article, enqueue_for
from watcher import clock
from watcher.cli import main
from watcher.config import load_config
from watcher.notifiers import slack
from watcher.outbox import dispatch
from watcher.store import open_store

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
HOOK = "/services/T0001/B0002/XyZsecretToken123"
SECRETS = (PASSWORD, "XyZsecretToken123", HOOK)


@pytest.fixture(autouse=True)
def setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    clock.freeze(NOW)
    monkeypatch.setattr(slack, "THROTTLE", slack.Throttle(interval=0))
    yield
    clock.freeze(None)
    logging.getLogger().handlers.clear()  # main() installs a stderr handler bound to capsys


@pytest.fixture(scope="module")
def _shared_http() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def http(_shared_http: LocalServer) -> LocalServer:
    _shared_http.routes.clear()
    _shared_http.requests.clear()
    return _shared_http


@pytest.fixture
def config_path(tmp_path: Path, http: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config whose secrets come from the environment, as a real deployment's do."""
    smtp_port = free_port()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", http.url(HOOK))
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    path = tmp_path / "watcher.yaml"
    path.write_text(f"""
store: {{url: "sqlite:///{tmp_path}/watcher.db"}}
notifiers:
  mail: {{type: email, host: "${{SMTP_HOST}}", port: {smtp_port}, security: starttls, username: {USER},
          password: "${{SMTP_PASSWORD}}", from: "watcher@example.org", timeout: 5s}}
  team: {{type: slack, webhook_url: "${{SLACK_WEBHOOK_URL}}", timeout: 5s}}
  broken: {{type: email, host: "${{BROKEN_SMTP_HOST}}", from: "watcher@example.org"}}
subscriptions:
  - name: tunisia-digital
    any: [Tunisie]
    notify: [{{notifier: team}}]
""", encoding="utf-8")
    return path


def smtp_port(config_path: Path) -> int:
    return load_config(config_path).notifiers["mail"].port


def cli(config_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config_path), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def queue_and_dispatch(config_path: Path, count: int = 1) -> None:
    config = load_config(config_path)
    store = open_store(config.store.url)
    for i in range(count):
        enqueue_for(store, config, add_article(store, f"Tunisie : accord numérique {i}"))
    dispatch(store, config, owner="test")
    store.close()


def test_a_404_webhook_shows_as_failed_and_can_be_retried(config_path, http, capsys) -> None:
    http.routes[HOOK] = script = Script((404, {}, b"no_service"), (200, {}, b"ok"))
    queue_and_dispatch(config_path)
    code, out, err = cli(config_path, capsys, "alerts")
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:5] == ["ID", "STATUS", "SUBSCRIPTION", "CHANNEL", "TRIES"]
    assert row.split()[:5] == ["1", "failed", "tunisia-digital", "team", "1"]
    assert "HTTP 404" in row

    code, out, _ = cli(config_path, capsys, "alerts", "--status", "failed", "--format", "json")
    (item,) = json.loads(out)
    assert item["status"] == "failed" and item["notifier"] == "team" and item["attempts"] == 1
    assert "HTTP 404 no_service" in item["last_error"] and item["title"] == "Tunisie : accord numérique 0"
    assert json.loads(cli(config_path, capsys, "alerts", "--status", "sent", "--format", "json")[1]) == []

    # No further attempts on its own...
    clock.freeze(datetime(2026, 11, 30, tzinfo=timezone.utc))
    config = load_config(config_path)
    store = open_store(config.store.url)
    assert dispatch(store, config, owner="test").sent == 0 and len(script.bodies) == 1
    # ... until someone retries it.
    code, out, _ = cli(config_path, capsys, "alerts", "retry", "1")
    assert code == 0 and out == "1 alert scheduled to be sent again\n"
    assert dispatch(store, config, owner="test").sent == 1
    store.close()
    code, out, _ = cli(config_path, capsys, "alerts", "--format", "json")
    assert json.loads(out)[0]["status"] == "sent"
    code, _, err = cli(config_path, capsys, "alerts", "retry", "1", "99")
    assert code == 1 and "alert 1: already sent" in err and "alert 99: no such alert" in err
    for secret in SECRETS:
        assert secret not in out + err


def test_retry_failed_and_usage_errors(config_path, http, capsys) -> None:
    http.routes[HOOK] = Script((410, {}, b"channel_is_archived"))
    queue_and_dispatch(config_path, count=2)
    code, out, _ = cli(config_path, capsys, "alerts", "retry", "--failed")
    assert code == 0 and out == "2 alerts scheduled to be sent again\n"
    code, out, _ = cli(config_path, capsys, "alerts", "--status", "pending", "--format", "json")
    assert [a["attempts"] for a in json.loads(out)] == [0, 0]
    assert cli(config_path, capsys, "alerts", "retry")[0] == 2
    assert cli(config_path, capsys, "alerts", "--failed")[0] == 2


def test_test_alert_slack_success_and_exact_error(config_path, http, capsys) -> None:
    http.routes[HOOK] = script = Script((200, {}, b"ok"), (404, {}, b"no_service"))
    code, out, err = cli(config_path, capsys, "test-alert", "team")
    assert code == 0, err
    assert out == "ok: test alert sent by team (slack, slack webhook on 127.0.0.1)\n"
    assert "Test de Cooperation Watcher" in json.dumps(script.bodies[0], ensure_ascii=False)
    code, out, err = cli(config_path, capsys, "test-alert", "team")
    assert code == 1
    assert err == ("watcher test-alert: FAILED (permanent): notifier 'team' (slack webhook on 127.0.0.1): "
                   "HTTP 404 no_service (webhook refused the message)\n")
    for secret in SECRETS:
        assert secret not in out + err


def test_test_alert_email(config_path, cert, trust, capsys) -> None:  # noqa: F811
    code, out, err = cli(config_path, capsys, "test-alert", "mail")
    assert code == 2 and "give --to ADDRESS" in err
    code, out, err = cli(config_path, capsys, "test-alert", "mail", "--to", "me@example.org")
    assert code == 1 and "FAILED (transient)" in err and "127.0.0.1" in err  # nothing listens yet
    with SmtpServer(cert, "starttls", port=smtp_port(config_path)) as server:
        code, out, err = cli(config_path, capsys, "test-alert", "mail", "--to", "me@example.org")
    assert code == 0, err
    assert out == f"ok: test alert sent by mail (email, 127.0.0.1:{server.port} starttls as watcher) to me@example.org\n"
    (got,) = server.received
    assert got.rcpt_tos == ["me@example.org"] and got.login == USER.encode()
    assert got.message["Subject"].startswith("[test-alert] Test de Cooperation Watcher")
    for secret in SECRETS:
        assert secret not in out + err


def test_test_alert_wrong_password_never_prints_it(config_path, cert, trust, capsys, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("SMTP_PASSWORD", "Wr0ng-" + PASSWORD)
    with SmtpServer(cert, "starttls", port=smtp_port(config_path)):
        code, out, err = cli(config_path, capsys, "test-alert", "mail", "--to", "me@example.org")
    assert code == 1 and "authentication failed for user 'watcher'" in err and "535" in err
    assert PASSWORD not in out + err


def test_test_alert_unknown_or_unusable_notifier(config_path, capsys) -> None:
    code, _, err = cli(config_path, capsys, "test-alert", "nope")
    assert code == 2 and "no notifier named 'nope' (known: broken, mail, team)" in err
    code, _, err = cli(config_path, capsys, "test-alert", "broken", "--to", "x@example.org")
    assert code == 2 and "BROKEN_SMTP_HOST is not set" in err


def test_alerts_send_dispatches_once_without_the_daemon(config_path, http, capsys) -> None:
    http.routes[HOOK] = script = Script((200, {}, b"ok"))
    config = load_config(config_path)
    store = open_store(config.store.url)
    for i in range(3):
        enqueue_for(store, config, add_article(store, f"Tunisie : accord numérique {i}"))
    store.close()
    code, out, _ = cli(config_path, capsys, "alerts", "send")
    assert code == 0 and out == "sent 3, retried 0, failed 0; digests sent 0\n"
    assert cli(config_path, capsys, "alerts", "send")[1] == "sent 0, retried 0, failed 0; digests sent 0\n"
    assert len(script.bodies) == 3
