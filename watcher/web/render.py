"""Templates of the web view (watcher/templates/web/): one autoescaping Jinja2 environment, its filters,
and the helpers every page shares (query parameters, absolute URLs, responses)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from watcher.http import Request, Response

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "web"
# Characters XML 1.0 forbids (a scraped title may carry them): dropped before they reach a feed.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def rfc3339(value: datetime) -> str:
    """An Atom date: UTC with a Z."""
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def xml_text(value: Any) -> str:
    return _NOT_XML.sub("", "" if value is None else str(value))


def web_url(value: str | None) -> str | None:
    """`value` when it is an http(s) URL, else None: a hostile feed's `javascript:` link is not a link."""
    if value and re.match(r"^https?://", value.strip(), re.IGNORECASE):
        return value.strip()
    return None


def _domain(domain_id: str) -> str:
    from watcher import agreements

    return agreements.domain_label(domain_id, "fr")


def _instrument(instrument: str | None) -> str:
    from watcher import agreements

    return agreements.instrument_label(instrument, "fr")


_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True)
_env.filters.update(day=_day, rfc3339=rfc3339, xml=xml_text, domain=_domain, instrument=_instrument,
                    web_url=web_url)


def page(template: str, status: int = 200, **context: Any) -> Response:
    """An HTML page from `template`."""
    body = _env.get_template(template).render(**context)
    return Response(status, body.encode("utf-8"), "text/html; charset=utf-8")


def render(template: str, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def not_found(what: str) -> Response:
    return page("error.html.j2", 404, title="Introuvable", message=what)


def param(request: Request, name: str) -> str:
    """A query parameter, stripped; "" when absent."""
    values = request.query.get(name) or [""]
    return values[0].strip()


def query_string(params: dict[str, Any]) -> str:
    """`?a=1&b=2` from the non-empty values of `params` ("" when all are empty)."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


def base_url(request: Request, configured: str | None) -> str:
    """Where this server is reached, for absolute links (feeds): the configured base URL, else the
    request's Host with the scheme a proxy reports (X-Forwarded-Proto)."""
    if configured:
        return configured
    scheme = request.headers.get("x-forwarded-proto", "http").split(",")[0].strip().lower()
    host = request.headers.get("host") or "localhost"
    return f"{scheme if scheme in ('http', 'https') else 'http'}://{host}"
