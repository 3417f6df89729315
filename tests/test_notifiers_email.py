"""Email notifier against a real in-process SMTP server (aiosmtpd) with STARTTLS, implicit TLS and AUTH."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from watcher import clock
from watcher.config import Config
from watcher.notifiers import notifier_for
from watcher.notifiers.base import AlertMessage, AlertStory, Copy, PermanentError, TransientError
from watcher.notifiers.email import EmailNotifier

# aiosmtpd counts only STARTTLS as TLS for AUTH; the implicit-TLS server is TLS all the same.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, PASSWORD = "watcher", "s3cret-Pa55word"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


# ---- a real SMTP server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    login: bytes | None

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      envelope.original_content or envelope.content, tls, login))
        return "250 Message accepted"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    # handled=False: aiosmtpd then answers 535 itself (its default assumes the authenticator replied).
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class SmtpServer:
    """aiosmtpd on 127.0.0.1:`port`: `starttls` (required before AUTH/MAIL), `ssl` or `none` (no AUTH)."""

    def __init__(self, cert: tuple[Path, Path], security: str = "starttls", port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = Handler()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert[0]), str(cert[1]))
        # aiosmtpd's LOGIN does not take smtplib's initial response (smtplib would then wait for a
        # timeout): offer PLAIN only, as many servers do. Implicit TLS is TLS, but aiosmtpd only
        # counts STARTTLS for `auth_require_tls`.
        kwargs: dict[str, Any] = {"authenticator": _authenticate, "auth_required": security != "none",
                                  "auth_require_tls": security == "starttls", "auth_exclude_mechanism": ["LOGIN"]}
        if security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        elif security == "ssl":
            kwargs.update(ssl_context=context)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()


@pytest.fixture(scope="session")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost, generated for this test run."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


@pytest.fixture
def trust(cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the default TLS context (the one the notifier uses) trust the test certificate."""
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    return cert[0]


@pytest.fixture
def frozen() -> Any:
    clock.freeze(NOW)
    yield NOW
    clock.freeze(None)


def email_config(port: int, security: str = "starttls", **extra: Any) -> dict[str, Any]:
    config = {"type": "email", "host": "127.0.0.1", "port": port, "security": security,
              "from": "Cooperation Watcher <watcher@example.org>", "timeout": "5s"}
    if security != "none":
        config.update(username=USER, password=PASSWORD)
    config.update(extra)
    return config


def make_config(notifiers: dict[str, Any], **rest: Any) -> Config:
    return Config.model_validate({"notifiers": notifiers, **rest})


def sample(title: str = "Accord numérique Tunisie–Sénégal <script>alert(1)</script>") -> AlertMessage:
    story = AlertStory(
        title=title,
        url="https://www.agenceecofin.com/telecom/2311-accord?x=1&y=2",
        source="agence-ecofin",
        published=datetime(2026, 11, 23, 8, 30, tzinfo=timezone.utc),
        snippet="La Tunisie & le Sénégal ont signé un protocole d'accord <i>numérique</i>.",
        matched_terms=["tunisie", "numérique"],
        copies=[Copy("digital-business-africa", "https://www.digitalbusiness.africa/accord"),
                Copy("evil", "javascript:alert(1)")],
    )
    return AlertMessage("tunisia-digital", [story], to=["desk@example.org"], key="watcher-alert-42")


# ---- tests -----------------------------------------------------------------------------------------


def test_starttls_auth_multipart_headers_and_escaping(cert, trust, frozen) -> None:
    with SmtpServer(cert, "starttls") as server:
        config = make_config({"mail": email_config(server.port)})
        notifier = notifier_for("mail", config)
        notifier.send(sample())
    assert len(server.received) == 1
    got = server.received[0]
    assert got.tls and got.login == USER.encode()
    assert got.mail_from == "watcher@example.org" and got.rcpt_tos == ["desk@example.org"]
    msg = got.message
    assert msg["Subject"] == "[tunisia-digital] Accord numérique Tunisie–Sénégal <script>alert(1)</script>"
    assert b"=?utf-8?" in got.content.lower()  # the UTF-8 subject is RFC 2047 encoded on the wire
    assert msg["From"] == "Cooperation Watcher <watcher@example.org>"
    assert msg["To"] == "desk@example.org"
    assert parsedate_to_datetime(msg["Date"]) == NOW
    assert msg["Message-ID"] == "<watcher-alert-42@example.org>"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Accord numérique Tunisie–Sénégal <script>alert(1)</script>" in text
    assert "https://www.agenceecofin.com/telecom/2311-accord?x=1&y=2" in text
    assert "tunisie, numérique" in text and "digital-business-africa" in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<i>numérique</i>" not in html and "&lt;i&gt;numérique&lt;/i&gt;" in html
    assert "La Tunisie &amp; le Sénégal" in html
    assert 'href="https://www.agenceecofin.com/telecom/2311-accord?x=1&amp;y=2"' in html
    assert "javascript:" not in html and "javascript:" not in text
    assert "23/11/2026 08:30 UTC" in html


def test_implicit_tls(cert, trust) -> None:
    with SmtpServer(cert, "ssl") as server:
        notifier_for("mail", make_config({"mail": email_config(server.port, "ssl")})).send(sample("Plain title"))
    assert len(server.received) == 1 and server.received[0].tls


def test_plain_smtp_without_auth(cert) -> None:
    with SmtpServer(cert, "none") as server:
        notifier_for("mail", make_config({"mail": email_config(server.port, "none")})).send(sample("Plain"))
    assert len(server.received) == 1 and not server.received[0].tls


def test_wrong_password_is_transient_and_never_shows_the_password(cert, trust) -> None:
    with SmtpServer(cert, "starttls") as server:
        config = make_config({"mail": email_config(server.port, password="wrong-" + PASSWORD)})
        with pytest.raises(TransientError) as info:
            notifier_for("mail", config).send(sample())
    assert "authentication failed" in info.value.reason and "535" in info.value.reason
    assert PASSWORD not in info.value.reason and not server.received


def test_untrusted_certificate_is_a_transient_tls_error(cert) -> None:
    with SmtpServer(cert, "starttls") as server:
        with pytest.raises(TransientError) as info:
            notifier_for("mail", make_config({"mail": email_config(server.port)})).send(sample())
    assert "certificate" in info.value.reason.lower() and info.value.channel_wide


def test_connection_refused_is_transient() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(TransientError) as info:
        notifier_for("mail", make_config({"mail": email_config(port, "none")})).send(sample())
    assert f"127.0.0.1:{port}" in info.value.reason and info.value.channel_wide


def test_recipient_550_is_permanent_and_450_transient(cert, trust) -> None:
    with SmtpServer(cert, "starttls") as server:
        server.handler.refuse["desk@example.org"] = "550 5.1.1 No such user"
        notifier = notifier_for("mail", make_config({"mail": email_config(server.port)}))
        with pytest.raises(PermanentError) as info:
            notifier.send(sample())
        assert "desk@example.org 550" in info.value.reason
        server.handler.refuse["desk@example.org"] = "450 4.2.1 Mailbox busy"
        with pytest.raises(TransientError):
            notifier.send(sample())
    assert not server.received


def test_user_template_directory_overrides_shipped_templates(cert, tmp_path) -> None:
    (tmp_path / "alert_email.html.j2").write_text(
        "<p>CUSTOM {{ stories[0].title }}</p>", encoding="utf-8")
    with SmtpServer(cert, "none") as server:
        config = make_config({"mail": email_config(server.port, "none", templates=str(tmp_path))})
        notifier_for("mail", config).send(sample("A <b>bold</b> claim"))
    msg = server.received[0].message
    assert msg.get_body(("html",)).get_content().strip() == "<p>CUSTOM A &lt;b&gt;bold&lt;/b&gt; claim</p>"
    assert "A <b>bold</b> claim" in msg.get_body(("plain",)).get_content()  # shipped text template


def test_digest_message_lists_every_story(cert) -> None:
    stories = [AlertStory(f"Article {i}", f"https://example.org/{i}", "icesco", None, "", ["accord"]) for i in range(3)]
    message = AlertMessage("daily-sub", stories, to=["a@example.org", "b@example.org"], key="watcher-digest-x",
                           digest="daily", period_end=NOW)
    with SmtpServer(cert, "none") as server:
        notifier_for("mail", make_config({"mail": email_config(server.port, "none")})).send(message)
    got = server.received[0]
    assert got.rcpt_tos == ["a@example.org", "b@example.org"]
    assert got.message["Subject"] == "[daily-sub] 3 articles – 23/11/2026"
    text = got.message.get_body(("plain",)).get_content()
    assert all(f"Article {i}" in text for i in range(3))


def test_headers_never_carry_line_breaks() -> None:
    config = make_config({"mail": email_config(25, "none")})
    notifier = notifier_for("mail", config)
    assert isinstance(notifier, EmailNotifier)
    msg = notifier.build(sample("Title\r\nBcc: victim@example.org"))
    assert msg["Subject"] == "[tunisia-digital] Title Bcc: victim@example.org" and msg["Bcc"] is None
