"""Which HTTP requests may be sent again: by method, by status, and by whether a failed one ever left."""

from __future__ import annotations

from ._mro import ClassTable

# RFC 9110 9.2.2: these may be repeated without changing the outcome.
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"))
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Statuses at which the server provably did not apply the request, whatever the method.
NOT_APPLIED_STATUSES = frozenset((429,))
# Failures that happen before a single byte of the request is sent ("module.QualName"
# along the MRO, and along the causes the clients wrap them in).
NOT_SENT_ERRORS = frozenset(
    (
        "builtins.ConnectionRefusedError",
        "socket.gaierror",
        "urllib3.exceptions.NewConnectionError",
        "urllib3.exceptions.ConnectTimeoutError",
        "requests.exceptions.ConnectTimeout",
        "httpx.ConnectError",
        "httpx.ConnectTimeout",
        "httpx.PoolTimeout",
        "aiohttp.client_exceptions.ClientConnectorError",
        "aiohttp.client_exceptions.ConnectionTimeoutError",
    )
)


def _causes(error: BaseException) -> list[BaseException]:
    """The error and what it wraps (``__cause__``, ``__context__``, ``.reason``, ``args[0]``), a few levels deep."""
    seen: list[BaseException] = []
    todo = [error]
    while todo and len(seen) < 12:
        current = todo.pop()
        if any(current is s for s in seen):
            continue
        seen.append(current)
        for nxt in (
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            current.args[0] if current.args else None,
        ):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
    return seen


_not_sent_type: ClassTable[bool] = ClassTable(dict.fromkeys(NOT_SENT_ERRORS, True))


def was_not_sent(error: BaseException) -> bool:
    """True if the request provably never left: the connection itself failed."""
    return any(_not_sent_type(type(cause)) for cause in _causes(error))
