"""The error model's error envelope ``{"error": {"message", "type", "code"}}`` as typed exceptions."""

from __future__ import annotations

import time
from collections.abc import Mapping

from ._headers import retry_delay_from_headers
from ._status import DEFAULT_STATUS_TABLE, StatusTable

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "GoneError",
    "InsufficientCreditsError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
]

# At most this much of a body is read or parsed: an error page is small, and a
# misbehaving server must not make us buffer megabytes.
MAX_BODY = 64 * 1024
# Longest server message kept, so a pathological body cannot flood logs.
_MAX_MESSAGE = 1000


class APIError(Exception):
    """An HTTP error response from the API, parsed from its error envelope.

    ``status`` is the HTTP status (an int, e.g. 429); ``code`` is the envelope's
    string code (e.g. ``"rate_limit_exceeded"``) and ``type`` its error type; they
    are not the same thing. ``retry_after`` is the wait the server asked for, in
    seconds (from ``Retry-After`` or the rate-limit headers), or None. ``hint`` is
    the error model's "How to Fix" text for the status, ``retryable`` whether the status
    table retries it.

    The message is the server's; request headers, API keys and request bodies are
    never part of ``str()`` or ``repr()``.
    """

    status: int
    type: str | None
    code: str | None
    message: str
    retry_after: float | None
    retryable: bool
    hint: str

    def __init__(
        self,
        message: str,
        *,
        status: int,
        type: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        table: StatusTable = DEFAULT_STATUS_TABLE,
    ) -> None:
        super().__init__(message)
        rule = table.rule(status)
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.retryable = table.is_retryable(status)
        self.hint = rule.hint

    def __str__(self) -> str:
        label = f"HTTP {self.status}"
        if self.code:
            label += f" {self.code}"
        return f"{label}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # The instance dict goes along as state: PEP 678 notes, the give-up mark (so a process
        # pool's parent does not retry what a worker gave up on) and a custom table's verdict.
        state = {"type": self.type, "code": self.code, "retry_after": self.retry_after}
        return (_rebuild, (type(self), self.message, self.status, state), dict(self.__dict__))

    @classmethod
    def from_response(
        cls,
        status: int,
        body: bytes | bytearray | str | Mapping[str, object] | None = None,
        headers: object = None,
        *,
        now: float | None = None,
        table: StatusTable = DEFAULT_STATUS_TABLE,
    ) -> APIError:
        """The typed error for a response: the right subclass, whatever shape the body is in.

        ``body`` may be bytes, str, an already parsed mapping or None; a body that
        is not JSON, not the envelope, or over 64 KiB still gives the right class,
        with a fallback message. ``headers`` is any headers object (for Retry-After).
        """
        envelope = _parse_envelope(body)
        meaning = table.rule(status).meaning or "HTTP error"
        message = _text(envelope.get("message")) or f"{meaning} (HTTP {status})"
        wall = time.time() if now is None else now
        klass = error_class(status) if cls is APIError else cls
        return klass(
            message[:_MAX_MESSAGE],
            status=status,
            type=_text(envelope.get("type")),
            code=_text(envelope.get("code")),
            retry_after=retry_delay_from_headers(headers, status, wall),
            table=table,
        )


def _rebuild(cls: type[APIError], message: str, status: int, state: dict[str, object]) -> APIError:
    return cls(message, status=status, **state)  # type: ignore[arg-type]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _parse_envelope(body: object) -> Mapping[str, object]:
    """The ``error`` object of a body, or {} if there is none. Never raises."""
    if isinstance(body, (bytes, bytearray)):
        if len(body) > MAX_BODY:
            return {}
        body = bytes(body).decode("utf-8", "replace")
    if isinstance(body, str):
        if len(body) > MAX_BODY:
            return {}
        import json

        try:
            body = json.loads(body)
        except (ValueError, RecursionError):
            return {}
    if not hasattr(body, "get"):
        return {}
    try:
        error = body.get("error")
    except Exception:
        return {}
    if isinstance(error, str):  # some APIs send {"error": "message"}
        return {"message": error}
    return error if hasattr(error, "get") else {}


class BadRequestError(APIError):
    """400: check request body format and required fields."""


class AuthenticationError(APIError):
    """401: check that your API key is valid and sent in the Authorization header."""


class InsufficientCreditsError(APIError):
    """402: top up credits in the Dashboard."""


class NotFoundError(APIError):
    """404: check the endpoint URL and any resource IDs."""


class GoneError(APIError):
    """410: the resource has expired and is permanently gone."""


class RateLimitError(APIError):
    """429: slow down; ``retry_after`` says for how long when the server said so."""


class ServerError(APIError):
    """Any 5xx: retry after a moment; contact support if it persists."""


# One row per row of the error model's table; a new status is a new row here.
ERROR_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    404: NotFoundError,
    410: GoneError,
    429: RateLimitError,
}


def error_class(status: int) -> type[APIError]:
    """The exception class for an HTTP status: the error model's row, ServerError for 5xx, else APIError."""
    klass = ERROR_CLASSES.get(status)
    if klass is not None:
        return klass
    return ServerError if 500 <= status <= 599 else APIError
