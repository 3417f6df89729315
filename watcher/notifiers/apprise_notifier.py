"""The `apprise` notifier: Teams, Telegram, Discord, Matrix and the rest through the Apprise library.

Each configured URL (`urls: ["tgram://...", "msteams://..."]`) is one service; a message is delivered
when every service accepted it. Apprise does not say whether a failure is lasting, so every failure is
transient (retried with backoff until `alerts.max_attempts`), except URLs Apprise cannot parse, which
make the notifier unusable. The body is plain text (`body_format: text`): Apprise escapes it for each
service, so article text cannot turn into markup, mentions or links there.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from watcher.log import redact, register_secret
from watcher.notifiers import register
from watcher.notifiers.base import AlertMessage, Notifier, NotifierUnavailable, TransientError
from watcher.notifiers.email import subject_for, template_environment

log = logging.getLogger(__name__)


def _register_url_secrets(url: str) -> None:
    """Apprise URLs carry tokens in the user, password and path parts: mask each wherever it shows."""
    register_secret(url)
    parts = urlsplit(url)
    for piece in [parts.username, parts.password, parts.netloc, *parts.path.split("/"), parts.query]:
        if piece and len(piece) >= 8:
            register_secret(piece)


@register("apprise")
class AppriseNotifier(Notifier):
    """Sends the plain-text alert to every Apprise URL of the notifier."""

    def __init__(self, name: str, config: Any, *, base_dir: Path | None = None) -> None:
        super().__init__(name, config, base_dir=base_dir)
        for url in config.urls:
            _register_url_secrets(url)
        try:
            import apprise
        except ImportError:
            raise NotifierUnavailable(
                f"notifier {name!r}: the apprise library is not installed (pip install apprise)") from None
        self._apprise = apprise
        self._client = apprise.Apprise()
        for index, url in enumerate(config.urls):
            if not self._client.add(url):
                raise NotifierUnavailable(f"notifier {name!r}: urls[{index}] is not a URL Apprise understands "
                                          f"(scheme {urlsplit(url).scheme or '?'}://)")
        self._env = template_environment(None)

    def describe(self) -> str:
        schemes = sorted({urlsplit(u).scheme for u in self.config.urls})
        return f"apprise: {len(self.config.urls)} service(s) ({', '.join(schemes)})"

    def send(self, message: AlertMessage) -> None:
        base = "alert_digest" if message.is_digest else "alert_email"
        body = self._env.get_template(f"{base}.txt.j2").render(
            subscription=message.subscription, stories=message.stories, digest=message.digest,
            period_end=message.period_end, message=message)
        where = f"notifier {self.name!r} ({self.describe()})"
        try:
            result = self._client.notify(body=body, title=subject_for(message),
                                         body_format=self._apprise.NotifyFormat.TEXT)
        except Exception as exc:  # Apprise plugins raise their own errors: all are worth a retry
            raise TransientError(f"{where}: {type(exc).__name__}: {redact(str(exc))}") from None
        if result:
            return
        raise TransientError(f"{where}: not delivered: {self._failure_detail(result)}")

    @staticmethod
    def _failure_detail(result: Any) -> str:
        """The services' own last warning or error (Apprise 1.x returns a bare bool: no detail)."""
        messages = []
        for entry in getattr(result, "logs", lambda: [])():
            data = entry.asdict() if hasattr(entry, "asdict") else {}
            if str(data.get("level", "")).upper() in ("WARNING", "ERROR", "CRITICAL"):
                messages.append(" ".join(str(data.get("message", "")).split()))
        counts = ""
        if hasattr(result, "failed_count"):
            counts = f"{result.failed_count} service(s) failed"
        detail = "; ".join(dict.fromkeys(m for m in messages if m))[-400:]
        return redact(": ".join(p for p in (counts, detail) if p) or "the service refused the message")
