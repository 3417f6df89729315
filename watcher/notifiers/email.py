"""The `email` notifier: SMTP (STARTTLS, SSL or plain) with auth, multipart text + HTML from templates.

Error classes: connection problems, timeouts, TLS and authentication failures and SMTP 4xx replies are
transient (fixing the server or the config lets queued alerts go out); 5xx replies about the message or
all its recipients are permanent.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError

from watcher import clock
from watcher.log import redact, register_secret
from watcher.notifiers import register
from watcher.notifiers.base import (
    AlertMessage,
    Notifier,
    NotifierUnavailable,
    PermanentError,
    TransientError,
)

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SUBJECT_MAX = 180


def format_date(value: datetime | None) -> str:
    """`23/11/2026 10:05 UTC`: the one date format of alerts."""
    return value.strftime("%d/%m/%Y %H:%M UTC") if value is not None else ""


def template_environment(user_dir: str | Path | None = None) -> Environment:
    """Jinja2 environment: `user_dir` templates first (same file names override), shipped ones after.

    Autoescaping is on for every `*.html.j2` template, so article fields can never inject markup.
    """
    loaders = []
    if user_dir is not None:
        loaders.append(FileSystemLoader(str(user_dir)))
    loaders.append(FileSystemLoader(str(TEMPLATES)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=lambda name: bool(name) and name.endswith((".html.j2", ".html")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["date"] = format_date
    return env


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """Collapse whitespace (headers never carry line breaks) and cut at `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def subject_for(message: AlertMessage) -> str:
    if message.is_digest:
        count = len(message.stories)
        # The day the period covers: a daily digest sent at 00:00 on the 24th is the digest of the 23rd.
        when = f" – {message.period_end - timedelta(seconds=1):%d/%m/%Y}" if message.period_end else ""
        return one_line(f"[{message.subscription}] {count} article{'s' if count > 1 else ''}{when}")
    title = message.stories[0].title if message.stories else "(sans titre)"
    return one_line(f"[{message.subscription}] {title}")


@register("email")
class EmailNotifier(Notifier):
    """Sends one multipart/alternative email per alert message through one SMTP server."""

    def __init__(self, name: str, config: Any, *, base_dir: Path | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(name, config, base_dir=base_dir)
        register_secret(config.password)
        self._ssl_context = ssl_context
        user_dir = None
        if config.templates:
            user_dir = Path(config.templates).expanduser()
            if not user_dir.is_absolute() and base_dir is not None:
                user_dir = base_dir / user_dir
            if not user_dir.is_dir():
                raise NotifierUnavailable(f"notifier {name!r}: template directory {user_dir} does not exist")
        self._env = template_environment(user_dir)

    # ---- message ---------------------------------------------------------------------------------

    def recipients(self, message: AlertMessage) -> list[str]:
        return list(message.to or self.config.to)

    def build(self, message: AlertMessage) -> EmailMessage:
        """The complete email for `message` (headers, text part, HTML part)."""
        context = {
            "subscription": message.subscription,
            "stories": message.stories,
            "digest": message.digest,
            "period_end": message.period_end,
            "message": message,
        }
        base = "alert_digest" if message.is_digest else "alert_email"
        try:
            text = self._env.get_template(f"{base}.txt.j2").render(context)
            html = self._env.get_template(f"{base}.html.j2").render(context)
        except TemplateError as exc:
            where = f"{getattr(exc, 'filename', None) or getattr(exc, 'name', None) or base}"
            line = getattr(exc, "lineno", None)
            raise NotifierUnavailable(
                f"notifier {self.name!r}: template {where}{':' + str(line) if line else ''}: {exc}"
            ) from None
        sender = self.config.from_
        domain = parseaddr(sender)[1].rpartition("@")[2] or "cooperation-watcher.local"
        msg = EmailMessage()
        msg["Subject"] = subject_for(message)
        msg["From"] = sender
        msg["To"] = ", ".join(self.recipients(message))
        msg["Date"] = format_datetime(clock.now())
        # A stable Message-ID per delivery lets mail clients fold the rare duplicate (see outbox.py).
        msg["Message-ID"] = f"<{message.key}@{domain}>" if message.key else make_msgid(domain=domain)
        msg["X-Watcher-Subscription"] = one_line(message.subscription, 200)
        msg["Auto-Submitted"] = "auto-generated"
        # quoted-printable: 7-bit safe on servers without 8BITMIME, still readable in raw form.
        msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        return msg

    # ---- transport -------------------------------------------------------------------------------

    def describe(self) -> str:
        who = f" as {self.config.username}" if self.config.username else ""
        return f"{self.config.host}:{self.config.port} {self.config.security}{who}"

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        timeout = cfg.timeout.total_seconds()
        if cfg.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=timeout)
        try:
            smtp.ehlo()
            if cfg.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if cfg.username:
                smtp.login(cfg.username, cfg.password or "")
        except BaseException:
            _quit(smtp)
            raise
        return smtp

    def send(self, message: AlertMessage) -> None:
        recipients = self.recipients(message)
        if not recipients:
            raise PermanentError(f"notifier {self.name!r}: no recipient (set `to` on the notifier or the subscription)")
        email = self.build(message)
        try:
            smtp = self._connect()
            try:
                refused = smtp.send_message(email, to_addrs=recipients)
            finally:
                _quit(smtp)
        except Exception as exc:  # every failure is classified; nothing escapes unlabelled
            raise self._classify(exc) from None
        if refused:  # accepted for some: a retry would send the rest a second copy, so it counts as sent
            log.warning("email.partially_refused", extra={
                "notifier": self.name, "refused": _describe_refused(refused)})

    def _classify(self, exc: Exception) -> TransientError | PermanentError:
        where = f"notifier {self.name!r} ({self.config.host}:{self.config.port})"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            detail = _describe_refused(exc.recipients)
            if all(code >= 500 for code, _ in exc.recipients.values()):
                return PermanentError(f"{where}: all recipients refused: {detail}")
            return TransientError(f"{where}: recipients deferred: {detail}")
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return TransientError(
                f"{where}: authentication failed for user {self.config.username!r}: {_reply(exc)}",
                channel_wide=True)
        if isinstance(exc, (smtplib.SMTPConnectError, smtplib.SMTPHeloError)):
            return TransientError(f"{where}: server refused the session: {_reply(exc)}", channel_wide=True)
        if isinstance(exc, smtplib.SMTPResponseException):
            if exc.smtp_code == 421:  # service closing: the whole server is unavailable
                return TransientError(f"{where}: {_reply(exc)}", channel_wide=True)
            if 400 <= exc.smtp_code < 500:
                return TransientError(f"{where}: {_reply(exc)}")
            return PermanentError(f"{where}: message refused: {_reply(exc)}")
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return TransientError(f"{where}: {redact(str(exc))} (check `security`)", channel_wide=True)
        if isinstance(exc, ssl.SSLError):
            return TransientError(f"{where}: TLS failed: {redact(str(exc))}", channel_wide=True)
        if isinstance(exc, (smtplib.SMTPException, OSError)):
            reason = redact(str(exc)) or type(exc).__name__
            return TransientError(f"{where}: cannot deliver: {reason}", channel_wide=True)
        return TransientError(f"{where}: unexpected {type(exc).__name__}: {redact(str(exc))}")


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return redact(f"{exc.smtp_code} {' '.join(text.split())}")


def _describe_refused(refused: dict[str, tuple[int, bytes]]) -> str:
    parts = []
    for address, (code, text) in refused.items():
        reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        parts.append(f"{address} {code} {' '.join(reply.split())}")
    return redact("; ".join(parts))


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except Exception:  # already broken: closing is all that is left
        smtp.close()


__all__ = ["EmailNotifier", "template_environment", "format_date", "subject_for"]
