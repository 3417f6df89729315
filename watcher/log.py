"""Structured logging: one line per event, `key=value` text or JSON, secrets masked."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

_STD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_SECRETS: set[str] = set()
# URLs with credentials and Slack webhook paths are secrets wherever they appear.
_SECRET_PATTERNS = [
    re.compile(r"(https://hooks\.slack\.com/services/)[^\s\"'>]+"),
    re.compile(r"(://[^/\s:@]+:)[^@\s/]+(@)"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret (password, webhook URL) so it is masked in every log line."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def register_url_secret(url: str | None) -> None:
    """Remember a secret URL (a webhook) and also its path and query on their own.

    Servers and proxies echo the request path in error pages ("Cannot POST /services/T0/B0/xyz"),
    and for a webhook the path is the credential.
    """
    if not url:
        return
    register_secret(url)
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(tail.strip("/")) >= 8:  # "/" or "/hook" alone are not secrets and would mask too much
        register_secret(tail)
        register_secret(parts.path)


def redact(text: str) -> str:
    """Mask registered secrets and credential-looking URL parts in `text`."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***" + (m.group(2) if m.lastindex and m.lastindex > 1 else ""), text)
    return text


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STD_ATTRS and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        parts = [stamp, record.levelname.lower(), record.name, record.getMessage()]
        parts += [f"{k}={_quote(v)}" for k, v in _fields(record).items()]
        line = " ".join(parts)
        if record.exc_info:
            line += " error=" + _quote(repr(record.exc_info[1]))
        return redact(line)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update(_fields(record))
        if record.exc_info:
            data["error"] = repr(record.exc_info[1])
        return redact(json.dumps(data, default=str, ensure_ascii=False))


def _quote(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (" " in text or not text) else text


def setup(fmt: str = "text", level: str = "info", stream: Any = None) -> None:
    """Configure the root logger once for the process."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic", "trafilatura", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
