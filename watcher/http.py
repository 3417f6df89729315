"""The daemon's small HTTP server: a route table (`/healthz`, `/metrics`, more added by later features).

A route is a path (exact, or a prefix ending in "/") and a handler `Request -> Response`. Handlers run
in the server's threads; a handler that raises answers 500 and is logged, the server keeps serving.

    server = HttpServer("127.0.0.1", 8080)
    server.route("/healthz", health_handler)
    server.start()      # serves in a background thread
    server.stop()
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from watcher import metrics

log = logging.getLogger(__name__)


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str, indent=1).encode("utf-8")
    return Response(status, body + b"\n", "application/json; charset=utf-8")


def parse_address(value: str) -> tuple[str, int] | None:
    """`HOST:PORT` (or `[v6]:PORT`, or `:PORT` for all interfaces) -> (host, port); "none" -> None."""
    if value.strip().lower() in ("none", "off", ""):
        return None
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT (e.g. 127.0.0.1:8080) or 'none', got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


class HttpServer:
    """A threaded HTTP/1.1 server on (host, port) with a simple route table."""

    def __init__(self, host: str, port: int) -> None:
        self._exact: dict[str, Handler] = {}
        self._prefixes: list[tuple[str, Handler]] = []
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    def route(self, path: str, handler: Handler) -> None:
        """Serve GET/HEAD `path` with `handler`; a path ending in "/" also serves everything below it."""
        if path.endswith("/") and path != "/":
            self._prefixes.append((path, handler))
            self._prefixes.sort(key=lambda item: len(item[0]), reverse=True)
        self._exact[path.rstrip("/") or "/"] = handler

    def resolve(self, path: str) -> Handler | None:
        handler = self._exact.get(path.rstrip("/") or "/")
        if handler is not None:
            return handler
        for prefix, candidate in self._prefixes:
            if path.startswith(prefix):
                return candidate
        return None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="watcher-http", daemon=True)
        self._thread.start()
        host, port = self.address
        log.info("http.listening", extra={"host": host, "port": port})

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def _dispatch(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response(405, b"method not allowed\n", headers={"Allow": "GET, HEAD"})
        handler = self.resolve(request.path)
        if handler is None:
            return Response(404, b"not found\n")
        try:
            return handler(request)
        except Exception:  # one broken page must not take the health endpoint down with it
            log.exception("http.handler_failed", extra={"path": request.path})
            return Response(500, b"internal error\n")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "watcher"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path or "/", parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()})
                response = server._dispatch(request)
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                self.send_header("Cache-Control", "no-store")
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                log.debug("http.request", extra={"client": self.client_address[0], "line": format % args})

        return _Handler


def metrics_handler(_request: Request) -> Response:
    body, content_type = metrics.render()
    return Response(200, body, content_type)


def health_handler(health: Callable[[], dict[str, Any]]) -> Handler:
    """A `/healthz` handler over `health()`: 200 with its JSON when `status` is "ok", else 503."""

    def handle(_request: Request) -> Response:
        report = health()
        return json_response(report, 200 if report.get("status") == "ok" else 503)

    return handle
