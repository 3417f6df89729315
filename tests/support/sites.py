"""Fixture copies of the four real sources (tests/data/sites/<name>/), served from a LocalServer.

Each site directory holds `site.yaml` (the source as config/watcher.yaml declares it, plus Content-Type
overrides), `expected.yaml` (per article: path, title, published, author, first and last body sentence;
plus `forbidden` boilerplate strings) and `www/`, whose files are the site's pages by URL path
(`a/b/index.html` is served at `/a/b/` and `/a/b/index.html`). `{{BASE}}` in any served file or in site.yaml is replaced by the
URL the site is mounted at, so feeds and listings link to the test server.

    with serve_sites() as (server, sites):
        dba = sites["digital-business-africa"]
        dba.source["url"]            # http://127.0.0.1:PORT/digital-business-africa/feed/
        dba.articles[0]["url"]       # absolute URL of the first expected article
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.http import LocalServer, Response

SITES_DIR = Path(__file__).resolve().parent.parent / "data" / "sites"
SITE_NAMES = ("digital-business-africa", "agence-ecofin", "icesco", "sputnik-afrique")
PLACEHOLDER = "{{BASE}}"
_DEFAULT_TYPES = {".xml": "application/xml; charset=utf-8", ".html": "text/html; charset=utf-8",
                  ".json": "application/feed+json; charset=utf-8"}


@dataclass
class Site:
    """One fixture site as stored on disk (nothing substituted)."""

    name: str
    root: Path
    source: dict[str, Any]
    content_types: dict[str, str]
    articles: list[dict[str, Any]]
    forbidden: list[str] = field(default_factory=list)

    def files(self) -> dict[str, Path]:
        """URL path -> file, for every file under www/; index.html and index.xml also answer for their directory."""
        www = self.root / "www"
        paths: dict[str, Path] = {}
        for file in sorted(p for p in www.rglob("*") if p.is_file()):
            rel = "/" + file.relative_to(www).as_posix()
            paths[rel] = file
            if file.name in ("index.html", "index.xml"):
                paths[rel[: -len(file.name)]] = file
        return paths

    def routes(self, base: str, prefix: str = "") -> dict[str, Response]:
        """LocalServer routes serving this site at `base + prefix`, with {{BASE}} rewritten."""
        mounted = (base + prefix).encode()
        routes: dict[str, Response] = {}
        for path, file in self.files().items():
            body = file.read_bytes().replace(PLACEHOLDER.encode(), mounted)
            routes[prefix + path] = (200, {"Content-Type": self.content_type(path, file)}, body)
        return routes

    def content_type(self, path: str, file: Path) -> str:
        if path in self.content_types:
            return self.content_types[path]
        return _DEFAULT_TYPES.get(file.suffix, "text/html; charset=utf-8")

    def mounted(self, base: str, prefix: str = "") -> MountedSite:
        """This site with {{BASE}} replaced in its source config and expected article URLs."""
        url = base + prefix
        source = _substitute(copy.deepcopy(self.source), url)
        articles = [dict(a, url=url + a["path"]) for a in copy.deepcopy(self.articles)]
        return MountedSite(site=self, base=url, source=source, articles=articles)


@dataclass
class MountedSite:
    """A site served at `base`: `source` is ready for SourceConfig(**source)."""

    site: Site
    base: str
    source: dict[str, Any]
    articles: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def forbidden(self) -> list[str]:
        return self.site.forbidden


def _substitute(value: Any, base: str) -> Any:
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, base)
    if isinstance(value, dict):
        return {k: _substitute(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, base) for v in value]
    return value


def load_site(name: str) -> Site:
    """The fixture site `name` (one of SITE_NAMES) as stored under tests/data/sites/."""
    root = SITES_DIR / name
    config = yaml.safe_load((root / "site.yaml").read_text(encoding="utf-8"))
    expected = yaml.safe_load((root / "expected.yaml").read_text(encoding="utf-8"))
    return Site(name=name, root=root, source=config["source"], content_types=config.get("content_types") or {},
                articles=expected["articles"], forbidden=expected.get("forbidden") or [])


def mount(server: LocalServer, name: str, prefix: str | None = None) -> MountedSite:
    """Add site `name` to `server` under `prefix` (default "/<name>") and return it mounted."""
    site = load_site(name)
    prefix = f"/{name}" if prefix is None else prefix
    server.routes.update(site.routes(server.base, prefix))
    return site.mounted(server.base, prefix)


@contextmanager
def serve_sites(*names: str) -> Iterator[tuple[LocalServer, dict[str, MountedSite]]]:
    """Serve the named fixture sites (default: all four) on one LocalServer, each under /<name>."""
    with LocalServer() as server:
        yield server, {name: mount(server, name) for name in (names or SITE_NAMES)}
