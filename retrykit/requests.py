"""requests adapter: a ``Session`` whose every request is retried by a policy (requests is imported here only)."""

from __future__ import annotations

import threading
from typing import Any, Unpack

from ._extras import missing_extra

try:
    import requests
    import requests.adapters
    import urllib3
    from urllib3 import BaseHTTPResponse
    from urllib3.exceptions import MaxRetryError
except ImportError as _missing:  # the client is an extra: say which one
    raise missing_extra("requests") from _missing

from ._drain import DRAIN_LIMIT
from ._http import RequestRetry, mark_gave_up
from ._http_loops import drive
from ._options import HTTPKWs, HTTPOptions, check_policy
from ._policy import RetryPolicy
from ._rules import IDEMPOTENCY_HEADER

__all__ = ["AdapterKWs", "RetryAdapter", "session"]


class AdapterKWs(HTTPKWs, total=False):
    """retrykit's keywords, and those passed on to ``requests.adapters.HTTPAdapter``."""

    pool_connections: int
    pool_maxsize: int
    pool_block: bool


class RetryAdapter(requests.adapters.HTTPAdapter):
    """An ``HTTPAdapter`` that retries by a retrykit policy (urllib3 never retries by rules of its own).

    Extra keyword arguments go to ``HTTPAdapter`` (``pool_connections``, ``pool_maxsize``,
    ``pool_block``); ``max_retries`` is refused: retries are the policy's.
    """

    # What pickling keeps (requests pickles adapters with their sessions): the policy and options too.
    __attrs__: list[str] = [*requests.adapters.HTTPAdapter.__attrs__, "policy", "options"]  # noqa: RUF012 - as requests declares it

    def __init__(self, policy: RetryPolicy | None = None, **options: Unpack[AdapterKWs]) -> None:
        self.policy: RetryPolicy = check_policy(policy)
        adapter_kwargs: dict[str, Any] = dict(options)
        if "max_retries" in adapter_kwargs:
            # urllib3's retries would run under ours: 4 of its tries per attempt of ours.
            raise TypeError(
                f"max_retries={adapter_kwargs['max_retries']!r} would turn on urllib3's retries under retrykit's; "
                f"pass a policy instead: RetryPolicy(max_retries={adapter_kwargs['max_retries']!r})"
            )
        self.options: HTTPOptions = HTTPOptions.take(adapter_kwargs)
        self._calls = threading.local()  # the request each thread is sending (see max_retries)
        super().__init__(max_retries=0, **adapter_kwargs)  # urllib3's retries off: every retry is the policy's

    @property
    def max_retries(self) -> urllib3.Retry:
        """What urllib3 is told about retries: off, except for the responses of a request
        being sent, which urllib3 retries inside its pool as that request's policy decides."""
        hook = getattr(self.__dict__.get("_calls"), "hook", None)
        return hook if hook is not None else self.__dict__["_max_retries"]  # type: ignore[no-any-return]

    @max_retries.setter
    def max_retries(self, value: urllib3.Retry) -> None:
        self.__dict__["_max_retries"] = value

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        body: Any = request.body
        # A file-like body can be replayed from where it started; a generator or a pipe cannot.
        rewind = _start_of(body)
        replayable = body is None or isinstance(body, (bytes, str)) or rewind is not None
        method = request.method or "GET"
        call = RequestRetry(
            self.policy,
            self.options,
            method,
            request.url,
            request.headers,
            client="requests",
            replayable=replayable,
        )
        prepared = request
        if call.key is not None:
            prepared = request.copy()  # never modify the caller's request
            prepared.headers[IDEMPOTENCY_HEADER] = call.key
        calls = self.__dict__.get("_calls")
        if calls is None:  # an unpickled adapter
            calls = self._calls = threading.local()
        send_once, hook = super().send, _PolicyRetry(call)

        def send() -> BaseHTTPResponse:
            if rewind is not None:
                body.seek(rewind)  # replay a file-like body from where it started
            calls.hook = hook
            try:
                return send_once(prepared, *args, **kwargs)  # type: ignore[return-value]  # see build_response
            finally:
                calls.hook = None

        try:
            raw = drive(call, send, _status, _headers, _drain)
        finally:
            # A hook's error, kept to pass it through, holds frames that hold the call: no cycle.
            call.escaping = None
        response = super().build_response(prepared, raw)
        if call.final is not None and call.exhausted:
            mark_gave_up(response)  # so a policy around raise_for_status() does not retry it again
        return response

    def build_response(self, req: requests.PreparedRequest, resp: BaseHTTPResponse) -> requests.Response:
        """Hand back urllib3's response as it is: :meth:`send` decides on it, and builds one
        ``requests.Response``, for the response it returns (not one per retried attempt)."""
        return resp  # type: ignore[return-value]


class _PolicyRetry(urllib3.Retry):
    """urllib3's retry hook, answered by one request's :class:`RequestRetry`.

    An error response is retried inside urllib3's pool, as urllib3's own ``Retry`` would
    be (not through ``HTTPAdapter.send`` again: its connection lookup and set-up cost
    ~14 us per attempt): urllib3 asks, the engine decides, the body is drained (bounded)
    and the wait slept here. Errors go on as with urllib3's retries off, to the adapter's
    loop, so requests reports them exactly as before.
    """

    _OFF = urllib3.Retry(0, read=False)

    def __init__(self, call: RequestRetry) -> None:
        # Speed only: no Retry.__init__ per request; its settings are class attributes (below).
        self.call = call
        self.delay = 0.0

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # Every error status is the engine's to judge (x-should-retry can make any of them retryable).
        return status_code >= 400 or self.call.policy.status_table.is_retryable(status_code)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> _PolicyRetry:
        if response is None:  # an error: retries off, so this raises (MaxRetryError, or the error itself)
            return self._OFF.increment(method, url, response, error, _pool, _stacktrace)  # type: ignore[return-value]
        call = self.call
        try:  # urllib3 retries statuses itself: each attempt's span ends here, with the check
            delay = call.check_response(response.status, response.headers, response)
        except BaseException as hook_error:  # a hook raised: release the connection, pass the error on as it is
            _drain(response)
            call.escaping = hook_error
            raise
        if delay is None:  # urllib3 returns this response: the adapter's loop takes it as settled
            call.decided = response
            raise MaxRetryError(_pool, url or "")
        remaining = getattr(response, "length_remaining", None)
        if not (isinstance(remaining, int) and remaining <= DRAIN_LIMIT):
            _drain(response)  # bounded: urllib3's own drain (unbounded) then finds nothing left
        self.delay = delay
        return self

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        call = self.call
        call.sleep(self.delay)
        if call.tracing:  # ... and the next begins as urllib3 sends it again
            call.began()


# What urllib3 reads of a Retry besides the three methods above (raise_on_status above all:
# False, so a response given up on is returned), from one configured the ordinary way.
for _name, _value in vars(urllib3.Retry(total=None, raise_on_status=False, respect_retry_after_header=False)).items():
    setattr(_PolicyRetry, _name, _value)
del _name, _value


def _start_of(body: Any) -> int | None:
    """Where a seekable file-like body starts, or None (not a file, or one-shot such as a pipe)."""
    if not hasattr(body, "seek") or not hasattr(body, "tell"):
        return None
    try:
        seekable = getattr(body, "seekable", None)
        if seekable is not None and not seekable():
            return None
        return int(body.tell())
    except (OSError, ValueError):  # "Illegal seek", or a closed file
        return None


def _status(response: BaseHTTPResponse) -> int:
    return response.status


def _headers(response: BaseHTTPResponse) -> object:
    return response.headers


def _drain(response: BaseHTTPResponse) -> bytes:
    """Read up to 64 KiB so the pooled connection can be reused, then release it (as ``Response.close``)."""
    try:
        # A body whose announced length fits is read in one call; reading by amount makes
        # urllib3 look for more after it (a second read per retried response).
        remaining = getattr(response, "length_remaining", None)
        if isinstance(remaining, int) and remaining <= DRAIN_LIMIT:
            return response.read(decode_content=True)
        return response.read(DRAIN_LIMIT + 1, decode_content=True)
    except Exception:  # a broken body must not stop the retry
        return b""
    finally:
        response.close()  # a body left unread closes its connection rather than poison the pool
        response.release_conn()


def session(
    policy: RetryPolicy | None = None, *, session: requests.Session | None = None, **options: Unpack[AdapterKWs]
) -> requests.Session:
    """A ``requests.Session`` (a new one, or ``session``) that retries every request by ``policy``."""
    target = session if session is not None else requests.Session()
    adapter = RetryAdapter(policy, **options)
    target.mount("http://", adapter)
    target.mount("https://", adapter)
    return target
