"""Canonical URLs: the one identity key used wherever two article URLs are compared, and what is fetchable.

`canonical_url()` is an *identity* key, not an address to fetch: it maps every spelling of one page
(http or https, with or without `www.`, with tracking parameters, fragments, a trailing slash, default
ports, differently escaped characters, shuffled query parameters) to one string. Fetch the original URL.

Canonical form chosen: `https://host[:port]/path[?sorted query]`, host lower-case without `www.` and
without a trailing dot, no fragment, non-root paths without a trailing slash, percent-escapes of
unreserved characters decoded and all other escapes upper-case.

`canonical_url()` never raises on a `str`: input that is not an absolute http(s) URL with a host
(a relative path, `javascript:`, `mailto:`, an `urn:uuid:` guid, junk) comes back stripped and otherwise
unchanged, so it can still serve as an opaque identity.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")  # control characters never belong in a URL

# Query parameters that only track the reader; they never change which page is served.
# Matched case-insensitively; entries ending in "_" are prefixes (utm_source, at_medium, ...).
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "igshid", "mc_cid", "mc_eid", "xtor", "xtref", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
    "oly_enc_id", "oly_anon_id", "vero_id", "wt.mc_id", "ncid", "cmpid", "ocid", "sr_share",
    "__twitter_impression", "s_cid", "spm",
    "rcmd_alg",    # Sputnik: which recommendation algorithm produced the link
    "replytocom",  # WordPress: "reply to comment" link to the same article page
})
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "ga_")

_WEB_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {80, 443}
# RFC 3986 unreserved characters: an escape of one of these means the same as the character itself.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_BAD_HOST = re.compile(r"[\s/\\<>\"'`{}|^%]")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Characters left as they are in a path (reserved sub-delimiters keep their meaning; "%" is handled first).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
# Inside a query key or value, "&", "=", "+" and "#" must stay escaped or they change the query's meaning.
_QUERY_SAFE = "/:@!$'()*,;?-._~"


def is_fetchable(url: str) -> bool:
    """True for an absolute http/https URL with a host (not javascript:, file:, data:, mailto:, relative)."""
    if not isinstance(url, str):
        return False
    text = url.strip()
    # Control characters never belong in an URL; a space in the path is tolerated (clients escape it).
    if not text or _CONTROL_RE.search(text):
        return False
    try:
        parts = urlsplit(text)
        parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        return False
    host = parts.hostname or ""
    return parts.scheme.lower() in _WEB_SCHEMES and bool(host) and not _BAD_HOST.search(host)


def canonical_url(url: str) -> str:
    """The identity form of `url` (see the module docstring); non-web input comes back stripped."""
    text = url.strip()
    if not is_fetchable(text):
        return text
    parts = urlsplit(text)
    netloc = _canonical_netloc(parts.netloc, parts.hostname or "", parts.port)
    path = _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    return urlunsplit(("https", netloc, path, query, ""))


def _canonical_netloc(netloc: str, hostname: str, port: int | None) -> str:
    host = _canonical_host(hostname)
    if ":" in host:  # IPv6 literal: urlsplit drops the brackets, put them back
        host = f"[{host}]"
    if port is not None and port not in _DEFAULT_PORTS:
        host = f"{host}:{port}"
    userinfo, sep, _ = netloc.rpartition("@")
    return f"{userinfo}@{host}" if sep else host


def _canonical_host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if not host.isascii():
        try:  # one spelling for internationalised names: the punycode form servers and links also use
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    return host


def _normalise_escapes(text: str, safe: str) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape what must be escaped."""

    def fix(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    text = _ESCAPE.sub(fix, text)
    # A "%" that does not start a valid escape is a literal percent sign: escape it.
    text = re.sub(r"%(?![0-9A-F]{2})", "%25", text)
    return quote(text, safe=safe)


def _canonical_path(path: str) -> str:
    path = _remove_dot_segments(_normalise_escapes(path, _PATH_SAFE))
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: /a/./b/../c -> /a/c."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out)


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k in TRACKING_PARAMS or k.startswith(TRACKING_PREFIXES)


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")
    kept = sorted((k, v) for k, v in pairs if k and not _is_tracking(k))
    return "&".join(
        f"{_quote_component(k)}={_quote_component(v)}" if v else _quote_component(k) for k, v in kept
    )


def _quote_component(text: str) -> str:
    escaped = quote(text, safe=_QUERY_SAFE, encoding="utf-8", errors="surrogateescape")
    return _ESCAPE.sub(lambda m: "%" + m.group(1).upper(), escaped)
