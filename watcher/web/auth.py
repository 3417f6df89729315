"""Who may read the web view: anyone on a loopback address; elsewhere only with the configured token.

The decision follows the address the server is bound to, not the client's: a server bound to 0.0.0.0
answers a local client and a remote one alike. Bound elsewhere than loopback, the pages need `web.token`
as the password of HTTP basic auth (any user name) or as `Authorization: Bearer TOKEN`; with no token
configured they are refused (403) with a message saying how to fix it. `/healthz` and `/metrics` are
not wrapped and stay open. The token is compared in constant time and never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import Callable

from watcher.http import Handler, Request, Response

REALM = "Cooperation Watcher"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"; False for 0.0.0.0, other addresses and names."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def presented_token(header: str | None) -> str | None:
    """The token in an Authorization header: a Bearer token, or a basic-auth password."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def guard(host: str, token: Callable[[], str | None]) -> Callable[[Handler], Handler]:
    """A decorator for page handlers on a server bound to `host`; `token()` is read per request, so a
    configuration reload (SIGHUP) applies at once."""
    open_to_all = is_loopback(host)

    def wrap(handler: Handler) -> Handler:
        def handle(request: Request) -> Response:
            if open_to_all:
                return handler(request)
            expected = token()
            if expected is None:
                return refused(host)
            given = presented_token(request.headers.get("authorization"))
            if given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
                return handler(request)
            return Response(401, b"authentication required: use the web token as the basic-auth password "
                                 b"or as 'Authorization: Bearer TOKEN'\n",
                            headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'})

        return handle

    return wrap


def refused(host: str) -> Response:
    message = (f"The web view is not served: the daemon listens on {host}, which is not a loopback address, "
               "and no web token is configured. Set `web: {token: \"${WATCHER_WEB_TOKEN}\"}` in the "
               "configuration (then use it as the basic-auth password), or listen on 127.0.0.1.\n")
    return Response(403, message.encode("utf-8"))
