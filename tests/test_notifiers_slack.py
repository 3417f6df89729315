"""Slack notifier against a local HTTP endpoint playing Slack's incoming webhooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.support.http import LocalServer, Request
from watcher import clock
from watcher.config import Config
from watcher.notifiers import notifier_for
from watcher.notifiers import slack
from watcher.notifiers.base import AlertMessage, AlertStory, Copy, PermanentError, TransientError

HOOK = "/services/T0001/B0002/XyZsecretToken123"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


class Script:
    """A route answering with the next scripted response, then the last one for ever."""

    def __init__(self, *responses: tuple[int, dict[str, str], bytes]) -> None:
        self.responses = list(responses)
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        self.bodies.append(json.loads(request.body))
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


OK = (200, {"Content-Type": "text/plain"}, b"ok")


@pytest.fixture(autouse=True)
def no_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 1 message/s limit is tested on its own with a fake clock; elsewhere it would only add sleeps."""
    monkeypatch.setattr(slack, "THROTTLE", slack.Throttle(interval=0))


@pytest.fixture(scope="module")
def _shared_server() -> Iterator[LocalServer]:
    with LocalServer() as srv:  # one per module: stopping a server costs half a second
        yield srv


@pytest.fixture
def server(_shared_server: LocalServer) -> LocalServer:
    _shared_server.routes.clear()
    _shared_server.requests.clear()
    return _shared_server


def slack_config(url: str) -> Config:
    return Config.model_validate({"notifiers": {"team": {"type": "slack", "webhook_url": url, "timeout": "5s"}}})


def message(title: str = "Accord <!channel> & <https://evil.example|votre banque>", **kw: Any) -> AlertMessage:
    story = AlertStory(
        title=title,
        url="https://www.agenceecofin.com/a?x=1&y=2",
        source="agence-ecofin",
        published=datetime(2026, 11, 23, 8, 30, tzinfo=timezone.utc),
        snippet="Texte <@U123> avec <!here> et *gras*",
        matched_terms=["tunisie", "numérique"],
        copies=[Copy("icesco", "https://icesco.org/fr/x")],
    )
    return AlertMessage("tunisia-digital", [story], **kw)


def test_block_kit_message_with_escaped_text_and_fallback(server: LocalServer) -> None:
    script = server.routes[HOOK] = Script(OK)
    notifier_for("team", slack_config(server.url(HOOK))).send(message())
    assert len(script.bodies) == 1
    body = script.bodies[0]
    raw = json.dumps(body, ensure_ascii=False)
    # Article text can never ping a channel, mention a user or forge a link.
    for dangerous in ("<!channel>", "<!here>", "<@U123>", "<https://evil.example"):
        assert dangerous not in raw
    section = body["blocks"][1]["text"]["text"]
    assert section.startswith(
        "*<https://www.agenceecofin.com/a?x=1&amp;y=2|Accord &lt;!channel&gt; &amp; "
        "&lt;https://evil.example|votre banque&gt;>*")
    assert "agence-ecofin · 23/11/2026 08:30 UTC" in section
    assert "Texte &lt;@U123&gt; avec &lt;!here&gt;" in section
    context = body["blocks"][2]["elements"]
    assert context[0]["text"] == "Termes : `tunisie`, `numérique`"
    assert context[1]["text"] == "Aussi publié par : <https://icesco.org/fr/x|icesco>"
    assert "Accord &lt;!channel&gt;" in body["text"] and "<!channel>" not in body["text"]
    assert body["unfurl_links"] is False


def test_429_with_retry_after_is_transient_with_the_delay(server: LocalServer) -> None:
    server.routes[HOOK] = Script((429, {"Retry-After": "1"}, b"rate_limited"), OK)
    notifier = notifier_for("team", slack_config(server.url(HOOK)))
    with pytest.raises(TransientError) as info:
        notifier.send(message("t"))
    assert info.value.retry_after == 1.0 and info.value.channel_wide
    assert "HTTP 429 rate_limited" in info.value.reason
    notifier.send(message("t"))  # the next call goes through


@pytest.mark.parametrize("status, body, error", [
    (500, b"internal_error", TransientError),
    (503, b"", TransientError),
    (404, b"no_service", PermanentError),
    (410, b"channel_is_archived", PermanentError),
    (400, b"invalid_payload", PermanentError),
    (403, b"action_prohibited", PermanentError),
])
def test_status_classification(server: LocalServer, status: int, body: bytes, error: type[Exception]) -> None:
    server.routes[HOOK] = (status, {"Content-Type": "text/plain"}, body)
    with pytest.raises(error) as info:
        notifier_for("team", slack_config(server.url(HOOK))).send(message("t"))
    reason = str(info.value)
    assert f"HTTP {status}" in reason and body.decode() in reason
    assert "XyZsecretToken123" not in reason and HOOK not in reason


def test_connection_refused_is_transient_and_hides_the_webhook() -> None:
    with LocalServer() as srv:
        url = srv.url(HOOK)
    with pytest.raises(TransientError) as info:  # the server is closed now
        notifier_for("team", slack_config(url)).send(message("t"))
    assert info.value.channel_wide and "XyZsecretToken123" not in info.value.reason
    assert "127.0.0.1" in info.value.reason


def test_describe_shows_only_the_host(server: LocalServer) -> None:
    notifier = notifier_for("team", slack_config(server.url(HOOK)))
    assert notifier.describe() == "slack webhook on 127.0.0.1"


def test_retry_after_http_date() -> None:
    clock.freeze(NOW)
    try:
        assert slack.retry_after_seconds("Mon, 23 Nov 2026 10:00:30 GMT") == 30.0
        assert slack.retry_after_seconds("2.5") == 2.5
        assert slack.retry_after_seconds("soon") is None
        assert slack.retry_after_seconds(None) is None
    finally:
        clock.freeze(None)


def test_at_most_one_message_per_second_per_webhook() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = slack.Throttle(1.0, monotonic=lambda: now[0], sleep=sleep)
    throttle.wait("https://hooks.example/a")
    throttle.wait("https://hooks.example/b")  # another webhook: its own budget
    assert slept == []
    now[0] += 0.25
    throttle.wait("https://hooks.example/a")
    assert slept == [pytest.approx(0.75)]
    now[0] += 5
    throttle.wait("https://hooks.example/a")
    assert slept == [pytest.approx(0.75)]


def test_digest_caps_blocks_and_says_how_many_more(server: LocalServer) -> None:
    script = server.routes[HOOK] = Script(OK)
    stories = [AlertStory(f"Article {i}", f"https://example.org/{i}", "icesco", None, "x", ["accord"]) for i in range(40)]
    notifier_for("team", slack_config(server.url(HOOK))).send(
        AlertMessage("daily", stories, digest="daily", period_end=NOW + timedelta(hours=1)))
    body = script.bodies[0]
    assert len(body["blocks"]) <= slack.MAX_BLOCKS
    assert body["blocks"][0]["elements"][0]["text"] == "40 articles pour « daily »"
    assert body["blocks"][-1]["elements"][0]["text"].startswith("… et ")
    assert "Article 39" in body["text"] or body["text"].endswith("…")
