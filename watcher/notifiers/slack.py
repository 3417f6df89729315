"""The `slack` notifier: incoming webhook, Block Kit message with a plain-text fallback, mrkdwn escaped.

Every piece of article text goes through `escape()` (`&`, `<`, `>`), so a title such as `<!channel>` or
`<https://evil|bank>` is shown as text and can neither ping a channel nor forge a link. Responses:
200 delivered; 429 transient with the server's Retry-After; 5xx, timeouts and connection errors
transient; other 4xx (404 `no_service`, 410 `channel_is_archived`, 400 `invalid_payload`) permanent.
At most one message per second goes to one webhook (Slack's documented limit), across threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from watcher import USER_AGENT, clock
from watcher.log import redact, register_secret
from watcher.notifiers import register
from watcher.notifiers.base import AlertMessage, AlertStory, Notifier, PermanentError, TransientError

MAX_BLOCKS = 50  # Slack's limit per message
SECTION_MAX = 3000  # Slack's limit per section text
SNIPPET_MAX = 500
TEXT_MAX = 3500  # the fallback shows in notifications: keep it short


def escape(text: str) -> str:
    """Slack mrkdwn escaping: the only three characters Slack treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str) -> str:
    """`<url|label>` with both parts neutralised, or the escaped label when there is no safe URL."""
    if not url:
        return escape(label)
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe}|{escape(label)}>"


def _date(value: datetime | None) -> str:
    return value.strftime("%d/%m/%Y %H:%M UTC") if value is not None else ""


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _story_blocks(story: AlertStory) -> list[dict[str, Any]]:
    meta = escape(story.source) + (f" · {_date(story.published)}" if story.published else "")
    body = f"*{link(story.url, _cut(story.title, 300) or '(sans titre)')}*\n{meta}"
    if story.snippet:
        body += "\n" + escape(_cut(story.snippet, SNIPPET_MAX))
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": body[:SECTION_MAX]}}]
    context = []
    if story.matched_terms:
        context.append("Termes : " + ", ".join(f"`{escape(t)}`" for t in story.matched_terms))
    if story.copies:
        context.append("Aussi publié par : " + ", ".join(link(c.url, c.source) for c in story.copies))
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t[:SECTION_MAX]} for t in context]})
    return blocks


def payload(message: AlertMessage) -> dict[str, Any]:
    """The webhook JSON: Block Kit blocks plus a `text` fallback for notifications and old clients."""
    count = len(message.stories)
    if message.is_digest:
        heading = f"{count} article{'s' if count > 1 else ''} pour « {message.subscription} »"
    else:
        heading = f"Nouvel article pour « {message.subscription} »"
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(_cut(heading, 300))}]}]
    shown = 0
    for story in message.stories:
        story_blocks = _story_blocks(story)
        # Keep room for a divider and the "and N more" line.
        if len(blocks) + len(story_blocks) + 2 > MAX_BLOCKS:
            break
        if shown:
            blocks.append({"type": "divider"})
        blocks += story_blocks
        shown += 1
    if shown < count:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"… et {count - shown} autre{'s' if count - shown > 1 else ''} article(s)"}]})
    lines = [escape(heading)] + [
        f"• {escape(_cut(s.title, 200))}" + (f" – {escape(s.source)}" if s.source else "")
        + (f" {link(s.url, 'lien')}" if s.url else "")
        for s in message.stories]
    return {"text": _cut_lines(lines, TEXT_MAX), "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def _cut_lines(lines: list[str], limit: int) -> str:
    out: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit:
            out.append("…")
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - clock.now()).total_seconds())


class Throttle:
    """At most one call per `interval` seconds per key (a webhook), shared by every thread."""

    def __init__(self, interval: float = 1.0, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def wait(self, key: str) -> None:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            last = self._last.get(key)
            if last is not None:
                delay = last + self.interval - self._monotonic()
                if delay > 0:
                    self._sleep(delay)
            self._last[key] = self._monotonic()


THROTTLE = Throttle()


@register("slack")
class SlackNotifier(Notifier):
    """Posts one Block Kit message per alert message to one incoming webhook."""

    def __init__(self, name: str, config: Any, *, base_dir: Path | None = None) -> None:
        super().__init__(name, config, base_dir=base_dir)
        register_secret(config.webhook_url)
        self._client = httpx.Client(
            timeout=config.timeout.total_seconds(),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def describe(self) -> str:
        # The webhook path is the credential: only the host is ever shown.
        return f"slack webhook on {urlsplit(self.config.webhook_url).hostname or '?'}"

    def send(self, message: AlertMessage) -> None:
        where = f"notifier {self.name!r} ({self.describe()})"
        url = self.config.webhook_url
        THROTTLE.wait(url)
        try:
            response = self._client.post(url, json=payload(message))
        except httpx.TimeoutException as exc:
            raise TransientError(f"{where}: timed out ({type(exc).__name__})", channel_wide=True) from None
        except httpx.HTTPError as exc:
            reason = self._clean(str(exc)) or type(exc).__name__
            raise TransientError(f"{where}: cannot connect: {reason}", channel_wide=True) from None
        status, body = response.status_code, self._clean(response.text[:200])
        if 200 <= status < 300:
            return
        detail = f"HTTP {status}" + (f" {body}" if body else "")
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            raise TransientError(f"{where}: {detail} (rate limited)", retry_after=wait, channel_wide=True)
        if status >= 500 or status == 408:
            raise TransientError(f"{where}: {detail} (server error)")
        raise PermanentError(f"{where}: {detail} (webhook refused the message)")

    def _clean(self, text: str) -> str:
        return redact(" ".join(text.replace(self.config.webhook_url, "***").split()))

    def close(self) -> None:
        self._client.close()
