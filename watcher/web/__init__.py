"""The read-only web view, served by the daemon's HTTP server (`watcher run --http HOST:PORT`).

    /                         recent stories: parties, instrument, domains, sources, copies; filters, pages
    /stories/<id>             one story: its agreement and every copy (source, URL, date, title)
    /sources                  each source's health, as `watcher sources` shows it
    /feeds/<subscription>.atom  the stories a subscription matched, as an Atom feed (RFC 4287)
    /agreements.csv           the extracted agreements, with the page's filters

Server-rendered (Jinja2, autoescaped), one small inline stylesheet, no JavaScript, nothing loaded from
elsewhere. Access rules are in `watcher.web.auth`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from watcher.config import Config
from watcher.http import HttpServer
from watcher.store import Store
from watcher.web.auth import guard, is_loopback
from watcher.web.feeds import Feeds
from watcher.web.pages import Pages

log = logging.getLogger(__name__)


def mount(server: HttpServer, store: Store, config: Callable[[], Config], host: str) -> None:
    """Add the web view's routes to `server`, bound to `host`; `config()` gives the current config."""
    token = lambda: config().web.token  # noqa: E731 - read per request: a reload may set or change it
    if not is_loopback(host):
        if token() is None:
            log.warning("web.refused", extra={"host": host, "reason": "not a loopback address and no web.token "
                                              "configured: pages answer 403 (healthz and metrics stay open)"})
        else:
            log.info("web.token_required", extra={"host": host})
    protect = guard(host, token)
    pages, feeds = Pages(store, config), Feeds(store, config)
    server.route("/", protect(pages.index))
    server.route("/stories/", protect(pages.story))
    server.route("/sources", protect(pages.sources))
    server.route("/feeds/", protect(feeds.atom))
    server.route("/agreements.csv", protect(feeds.agreements_csv))
