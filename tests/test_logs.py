"""No secret ever appears in the daemon's logs or stored errors, in text and JSON formats.

The servers here are hostile on purpose: the SMTP server rejects the login and echoes the credentials
in its reply, the Slack endpoint answers 404 with the request path (the webhook's secret part) in its
body, as proxies and web frameworks do. The daemon polls a feed, tries both channels at debug level,
and the SMTP password, the webhook URL, its path and its token must be nowhere in what it wrote, while
the failures themselves are logged.
"""

from __future__ import annotations

import base64
import json
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import ROOT, FeedSite
from tests.support.http import LocalServer

PASSWORD = "S3cr3t-Pa55-z9q"
TOKEN = "sEcReTtOkEn42xyz"
HOOK_PATH = f"/services/T0LOGS/B0LOGS/{TOKEN}"
DB_PASSWORD = "PgPa55-w0rd-k7"


class EchoingSmtp:
    """A minimal SMTP server that refuses AUTH PLAIN and echoes the decoded credentials in its 535 reply."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.credentials: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            conn.sendall(b"220 test ESMTP\r\n")
            for raw in reader:
                line = raw.decode("utf-8", "replace").strip()
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    conn.sendall(b"250-test\r\n250 AUTH PLAIN\r\n")
                elif verb == "AUTH":
                    parts = line.split()
                    raw_creds = base64.b64decode(parts[2]) if len(parts) > 2 else b""
                    decoded = raw_creds.decode("utf-8", "replace").replace("\0", " ")
                    self.credentials.append(decoded)
                    conn.sendall(f"535 5.7.8 rejected credentials:{decoded}\r\n".encode())
                elif verb == "QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 ok\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def smtp() -> Iterator[EchoingSmtp]:
    server = EchoingSmtp()
    yield server
    server.close()


def _config(path: Path, store_url: str, feed_url: str, smtp_port: int) -> Path:
    path.write_text(f"""
store: {{url: "{store_url}"}}
defaults: {{timeout: 5s, robots: false}}
alerts: {{max_attempts: 1}}
sources:
  - {{name: f0, kind: feed, url: "{feed_url}", alert_backlog: true, fetch_article: never}}
notifiers:
  mail: {{type: email, host: 127.0.0.1, port: {smtp_port}, security: none, username: desk,
          password: "${{SMTP_PASSWORD}}", from: watcher@example.org, to: [desk@example.org], timeout: 5s}}
  hook: {{type: slack, webhook_url: "${{SLACK_WEBHOOK_URL}}", timeout: 5s}}
subscriptions:
  - {{name: tunisie, any: [Tunisie], notify: [{{notifier: mail}}, {{notifier: hook}}]}}
""", encoding="utf-8")
    return path


def _watcher(config: Path, fmt: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "watcher", "--config", str(config), "--log-format", fmt,
                           "--log-level", "debug", "run", "--once", "--http", "none"],
                          capture_output=True, text=True, timeout=90, cwd=ROOT, env=env)


def _secrets(hook_url: str) -> list[str]:
    return [PASSWORD, base64.b64encode(f"\0desk\0{PASSWORD}".encode()).decode(), TOKEN, HOOK_PATH, hook_url]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_secret_in_logs_or_stored_errors(fmt: str, tmp_path: Path, smtp: EchoingSmtp) -> None:
    import os

    with LocalServer() as server:
        site = FeedSite(server)
        feed = site.add_feed("/feed.xml", ["logs-1"])
        server.routes[HOOK_PATH] = lambda r: (404, {"Content-Type": "text/plain"},
                                              f"Cannot POST {r.path}".encode())
        hook_url = server.url(HOOK_PATH)
        db = tmp_path / "watcher.db"
        config = _config(tmp_path / "watcher.yaml", f"sqlite:///{db}", feed, smtp.port)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")},
               "SMTP_PASSWORD": PASSWORD, "SLACK_WEBHOOK_URL": hook_url}
        result = _watcher(config, fmt, env)
        posts = [r for r in server.requests if r.method == "POST" and r.path == HOOK_PATH]
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The secrets were really in play: the server got the password, the webhook got the message...
    assert smtp.credentials and PASSWORD in smtp.credentials[0] and len(posts) == 1
    # ...both failures were logged, with the servers' own words...
    assert "rejected credentials" in output and "Cannot POST" in output
    assert output.count("alert.failed") >= 2
    # ...and no secret is anywhere in the output.
    for secret in _secrets(hook_url):
        assert secret not in output, f"secret {secret[:6]}... leaked into the {fmt} log"
    if fmt == "json":
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines and all(isinstance(json.loads(line), dict) for line in lines)
    with sqlite3.connect(db) as conn:
        errors = [row[0] or "" for row in conn.execute("SELECT last_error FROM alerts")]
    assert len(errors) == 2 and all(errors)
    for secret in _secrets(hook_url):
        assert not any(secret in error for error in errors), "secret stored in alerts.last_error"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_database_password_when_the_store_is_unreachable(fmt: str, tmp_path: Path) -> None:
    import os

    config = tmp_path / "watcher.yaml"
    config.write_text(f'store: {{url: "postgresql+psycopg://watcher:{DB_PASSWORD}@127.0.0.1:9/watcher"}}\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    result = _watcher(config, fmt, env)
    assert result.returncode == 1
    assert "127.0.0.1" in result.stderr  # the error says where it failed...
    assert DB_PASSWORD not in result.stdout + result.stderr  # ...but not with what
