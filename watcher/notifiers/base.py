"""The notifier interface: the alert message model, the Notifier base class and its two error kinds."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

_SAFE_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)


class NotifierError(Exception):
    """A delivery failed; `reason` says why in one line, without secrets."""

    kind: ClassVar[str] = "error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientError(NotifierError):
    """Retrying later can help (timeout, connection refused, SMTP 4xx, HTTP 429/5xx).

    `retry_after` (seconds) is the server's own wish (Retry-After); `channel_wide` says the whole
    channel is unavailable (server down, rate limited), not just this one message, so the dispatcher
    stops trying the channel's other messages in the same batch.
    """

    kind = "transient"

    def __init__(self, reason: str, retry_after: float | None = None, *, channel_wide: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.channel_wide = channel_wide


class PermanentError(NotifierError):
    """Retrying the same message cannot help (recipient refused, webhook gone, payload rejected)."""

    kind = "permanent"


class NotifierUnavailable(TransientError):
    """The notifier's configuration is unusable (e.g. a `${VAR}` it needs is not set)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, channel_wide=True)


def safe_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL, else None: links in alerts never carry javascript: etc."""
    return url if url and _SAFE_URL.match(url) else None


@dataclass(frozen=True)
class Copy:
    """Another source carrying the same story."""

    source: str
    url: str | None


@dataclass(frozen=True)
class AlertStory:
    """One story as shown in an alert: its matching article plus the other copies."""

    title: str
    url: str | None
    source: str
    published: datetime | None
    snippet: str
    matched_terms: list[str] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", safe_url(self.url))
        object.__setattr__(self, "copies", [Copy(c.source, safe_url(c.url)) for c in self.copies])


@dataclass(frozen=True)
class AlertMessage:
    """What a notifier sends: one story (immediate) or several (digest) for one subscription.

    `to` are the recipients for addressable channels (email), empty for webhooks. `key` identifies
    the delivery (stable across retries) so channels that support it can de-duplicate (Message-ID).
    """

    subscription: str
    stories: list[AlertStory]
    to: list[str] = field(default_factory=list)
    key: str = ""
    digest: str | None = None  # "daily", "hourly", a cron line; None for an immediate alert
    period_end: datetime | None = None  # end of the digest period

    @property
    def is_digest(self) -> bool:
        return self.digest is not None


class Notifier(ABC):
    """One channel type. Subclasses set `type` and register with `watcher.notifiers.register`."""

    type: ClassVar[str] = ""

    def __init__(self, name: str, config: Any, *, base_dir: Path | None = None) -> None:
        # base_dir: the config file's directory, against which relative paths in `config` resolve.
        self.name = name
        self.config = config
        self.base_dir = base_dir

    @abstractmethod
    def send(self, message: AlertMessage) -> None:
        """Deliver `message`; raise TransientError or PermanentError when it was not delivered."""

    def describe(self) -> str:
        """Where this notifier sends, for humans, without secrets (e.g. `smtp.example.org:587 starttls`)."""
        return self.type

    def close(self) -> None:
        """Release connections; the notifier is not used afterwards."""
