"""Error -> verdict: is it transient, which HTTP status it carries, how long the server asked us to wait.

Everything here is duck-typed: no HTTP library is imported. Exceptions are
recognised by the qualified names of the classes along their MRO.
"""

from __future__ import annotations

import math

from ._headers import retry_delay_from_headers
from ._mro import CACHE_LIMIT, ClassCache, ClassTable
from ._status import DEFAULT_STATUS_TABLE, StatusTable

# Connection and timeout failures worth retrying, by "module.QualName".
# The first class along an exception's MRO that appears in either table decides,
# so a specific "never" (a TLS certificate failure) beats a general "transient"
# (the connection error it subclasses). A new client library is a few rows here.
TRANSIENT_ERRORS: frozenset[str] = frozenset(
    (
        "builtins.ConnectionError",  # refused, reset, aborted, broken pipe
        "builtins.TimeoutError",  # also socket.timeout and asyncio.TimeoutError
        # DNS lookup failures: requests, httpx and aiohttp already report them as
        # connection errors; this row gives urllib (URLError(gaierror)) and raw sockets the same verdict.
        "socket.gaierror",
        "http.client.IncompleteRead",
        "requests.exceptions.ConnectionError",
        "requests.exceptions.Timeout",
        "requests.exceptions.ChunkedEncodingError",
        "urllib3.exceptions.ProtocolError",
        "urllib3.exceptions.TimeoutError",
        "urllib3.exceptions.NewConnectionError",
        "httpx.TimeoutException",
        "httpx.NetworkError",
        "httpx.RemoteProtocolError",
        "aiohttp.client_exceptions.ClientConnectionError",
        "aiohttp.client_exceptions.ClientPayloadError",
    )
)
NEVER_RETRIED_ERRORS: frozenset[str] = frozenset(
    (
        "ssl.SSLError",  # a bad certificate does not get better by asking again
        "requests.exceptions.SSLError",
        "requests.exceptions.InvalidURL",
        "requests.exceptions.InvalidSchema",
        "requests.exceptions.MissingSchema",
        "urllib3.exceptions.SSLError",
        "aiohttp.client_exceptions.ClientSSLError",
        "aiohttp.client_exceptions.InvalidURL",
    )
)
# Failures that doom whatever wraps them: httpx reports a certificate it cannot verify
# (or one for another host name: the same class) as a ConnectError, transient by
# class, with the ssl error as its __context__. Looked for along the causes of a
# transient error only.
FATAL_CAUSES: frozenset[str] = frozenset(("ssl.SSLCertVerificationError",))
_CAUSE_DEPTH = 8  # chains are short; a cycle or a pathological chain stops here

_fatal_causes: ClassTable[bool] = ClassTable(dict.fromkeys(FATAL_CAUSES, True))

# Wrappers whose verdict is their cause's: urllib's URLError carries the socket error in .reason.
WRAPPER_ERRORS: dict[str, str] = {"urllib.error.URLError": "reason"}

# Attribute names that may hold an HTTP status, in the order they are tried.
STATUS_ATTRIBUTES = ("status_code", "status", "code")

TYPE_CACHE_LIMIT = CACHE_LIMIT

# One table for the walk: the first class on the MRO named in any of them decides.
_type_verdicts: ClassTable[bool | str] = ClassTable(
    {
        **dict.fromkeys(TRANSIENT_ERRORS, True),
        **dict.fromkeys(NEVER_RETRIED_ERRORS, False),
        **WRAPPER_ERRORS,
    }
)


def _valid_status(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return int(value)
    return None


def _status_on(obj: object) -> tuple[bool, int | None]:
    """(found, status): the first status-like attribute present on ``obj``.

    Stopping at the first attribute that is present (even if it is not a valid
    status) means a later, deprecated alias is never read: aiohttp's
    ``ClientResponseError.code`` warns, and its ``.status`` comes first.
    """
    for attr in STATUS_ATTRIBUTES:
        try:
            value = getattr(obj, attr, None)
        except Exception:
            continue
        if value is not None:
            return True, _valid_status(value)
    return False, None


def response_of(error: BaseException) -> object:
    try:
        return getattr(error, "response", None)
    except Exception:
        return None


_UNKNOWN: object = object()

# Everything the classifier may read off an exception.
_READ_ATTRIBUTES = (*STATUS_ATTRIBUTES, "response", "headers", "retry_after", "__retrykit_gave_up__")


def _bare_class(cls: type) -> bool:
    return not any(hasattr(cls, name) for name in _READ_ATTRIBUTES) and not hasattr(cls, "__getattr__")


bare_type: ClassCache[bool] = ClassCache(_bare_class)
"""Whether instances of a class can carry classifier attributes only in their ``__dict__`` (cached per class).

Exists only for speed on the retry path: for a plain ``ConnectionResetError`` one
cache lookup and one dict test replace seven failing ``getattr`` calls.
"""


def is_plain(error: BaseException) -> bool:
    """Whether ``error`` carries nothing the classifier reads: no status, response, headers or mark."""
    return bare_type(type(error)) and not error.__dict__


def status_of(error: BaseException, response: object = _UNKNOWN) -> int | None:
    """The HTTP status an exception carries (on itself or its ``.response``), or None.

    ``response`` may be passed when the caller already looked it up.
    """
    found, status = _status_on(error)
    if found:
        return status
    if response is _UNKNOWN:
        response = response_of(error)
    if response is not None:
        return _status_on(response)[1]
    return None


def is_transient(error: BaseException, table: StatusTable | None = None) -> bool:
    """The default ``on``: retry transient failures only.

    An exception carrying an HTTP status is retried if ``table`` (default: the
    spec's) says so. Otherwise connection and timeout errors (builtin, and those
    of requests, urllib3, httpx, aiohttp and urllib) are retried, and everything
    else is a bug to be fixed, not retried.
    """
    if not isinstance(error, Exception):
        return False
    return transient_with_status(error, status_of(error), DEFAULT_STATUS_TABLE if table is None else table)


def transient_with_status(error: BaseException, status: int | None, table: StatusTable) -> bool:
    """:func:`is_transient` for a caller (the engine) that already knows the error's status."""
    if status is not None:
        return table.is_retryable(status)
    verdict = _type_verdicts(type(error))
    if type(verdict) is str:
        try:
            cause = getattr(error, verdict, None)
        except Exception:
            return False
        return isinstance(cause, BaseException) and cause is not error and is_transient(cause, table)
    return verdict is True and not _has_fatal_cause(error)


def _has_fatal_cause(error: BaseException) -> bool:
    """Whether a certificate failure sits among ``error``'s ``__cause__``/``__context__`` chain."""
    cause = error.__cause__ or error.__context__
    if cause is None:  # the usual case, without setting up the walk
        return False
    for _ in range(_CAUSE_DEPTH):
        if cause is None:
            return False
        if _fatal_causes(type(cause)):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def server_delay(error: BaseException, status: int | None, wall: float, response: object = _UNKNOWN) -> float | None:
    """Seconds the server asked us to wait before retrying ``error``, or None.

    From a numeric ``.retry_after`` attribute (retrykit's own errors carry one), else
    from the headers on the error or its ``.response``. Never raises.
    """
    try:
        value = getattr(error, "retry_after", None)
    except Exception:
        value = None
    # inf is kept (a Retry-After of 400 digits): a wait too long to take, so the engine gives up.
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:  # NaN fails >=
        return float(value) if value < 1e308 else math.inf  # float() of a huge int overflows
    for obj in (error, response_of(error) if response is _UNKNOWN else response):
        if obj is None:
            continue
        try:
            headers = getattr(obj, "headers", None)
        except Exception:
            continue
        delay = retry_delay_from_headers(headers, status, wall)
        if delay is not None:
            return delay
    return None


def describe(error: BaseException, status: int | None, table: StatusTable) -> str:
    """A short, secret-free reason: ``HTTP 503 Service Unavailable`` or ``ConnectionRefusedError``.

    Never ``str(error)``: exception messages routinely embed URLs with API keys.
    """
    if status is not None:
        meaning = table.rule(status).meaning
        return f"HTTP {status} {meaning}" if meaning else f"HTTP {status}"
    cls = type(error)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
