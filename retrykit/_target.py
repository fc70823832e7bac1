"""What an HTTP request is called in logs, notes and events, and which host it counts against.

A request's name keeps what helps find the call (method, scheme, host, port, the
path's shape) and drops what may be a credential: userinfo, the query, the
fragment, path parameters (``;jsessionid=...``), and any path segment that looks
like a token. URLs carry secrets in their paths too (``/bot<id>:<token>/...``,
webhook paths), so this is a rule for the whole path, not a list of known APIs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# A path segment holding any of these is a credential-shaped thing (``id:token``,
# ``key=value``, ``user@host``), never a resource name: it is replaced whole.
CREDENTIAL_MARKS = (":", "=", "@")
# A segment this long that mixes letters and digits is a token, a key or a signature.
TOKEN_LENGTH = 16
# A segment this long is replaced whatever it is made of.
OPAQUE_LENGTH = 40
REDACTED = "<redacted>"
DEFAULT_PORTS = {"http": 80, "https": 443}


def _looks_secret(segment: str) -> bool:
    if any(mark in segment for mark in CREDENTIAL_MARKS) or len(segment) >= OPAQUE_LENGTH:
        return True
    if len(segment) < TOKEN_LENGTH:
        return False
    return any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment)


def safe_path(path: str) -> str:
    """``path`` with path parameters dropped and credential-looking segments replaced."""
    segments = []
    for segment in path.split("/"):
        segment = segment.split(";", 1)[0]  # RFC 3986 path parameters: ;jsessionid=..., ;token=...
        segments.append(REDACTED if _looks_secret(segment) else segment)
    return "/".join(segments)


def safe_target(method: str, url: object) -> str:
    """``GET http://host:port/path`` for logs, notes and events: nothing that may be a secret."""
    try:
        parts = urlsplit(str(url))
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"  # IPv6
        if parts.port:
            host = f"{host}:{parts.port}"
        return f"{method.upper()} {parts.scheme}://{host}{safe_path(parts.path)}"
    except ValueError:
        return method.upper()


def host_of(url: object) -> str:
    """``host:port`` of a URL (the default port of its scheme filled in), for per-host budgets."""
    try:
        parts = urlsplit(str(url))
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
        return f"{parts.hostname or ''}:{port}"
    except ValueError:
        return ""


class RequestName:
    """A request's name for the retry driver, built only if a log line, note or event asks for it.

    The driver names what it retries with ``__name__``; building this one parses the URL.
    """

    __slots__ = ("client", "method", "url")

    def __init__(self, client: str, method: str, url: object) -> None:
        self.client, self.method, self.url = client, method, url

    @property
    def __name__(self) -> str:
        return f"{self.client} {safe_target(self.method, self.url)}"
