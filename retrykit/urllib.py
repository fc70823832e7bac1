"""urllib adapter: ``urlopen`` with the standard library's signature, retried by a policy."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from http.client import HTTPResponse
from typing import Unpack

from ._drain import DRAIN_LIMIT
from ._http import RequestRetry
from ._http_loops import drive
from ._options import HTTPKWs, HTTPOptions, check_policy
from ._policy import RetryPolicy

__all__ = ["urlopen"]

_NO_TIMEOUT = object()


def _replayable(data: object) -> bool:
    return data is None or isinstance(data, (bytes, bytearray, memoryview))


def urlopen(
    url: str | urllib.request.Request,
    data: bytes | None = None,
    timeout: float | object = _NO_TIMEOUT,
    *,
    context: ssl.SSLContext | None = None,
    policy: RetryPolicy | None = None,
    **options: Unpack[HTTPKWs],
) -> HTTPResponse:
    """``urllib.request.urlopen``, retried by ``policy`` (default: the error model's).

    Returns the response like the standard library. An error status left after
    the retries raises ``urllib.error.HTTPError`` as urllib does (with retrykit's
    note), or the typed :class:`retrykit.errors.APIError` with
    ``raise_for_status=True``. The caller's ``Request`` is never modified.
    """
    retry_policy = check_policy(policy)
    http_options = HTTPOptions.of(options)
    if isinstance(url, urllib.request.Request):
        original = url
        body = data if data is not None else original.data
        headers = {**original.headers, **original.unredirected_hdrs}
        method = getattr(original, "method", None) or ("POST" if body is not None else "GET")
        target = original.full_url
    else:  # a URL string: the one Request is ours from the start
        original, body, headers = None, data, {}
        method = "POST" if data is not None else "GET"
        target = url
    call = RequestRetry(
        retry_policy,
        http_options,
        method,
        target,
        headers,
        client="urlopen",
        replayable=_replayable(body),
    )
    if original is None:
        request = urllib.request.Request(target, body, dict(call.extra_headers()), method=method)
    else:  # a copy: the caller's Request is never modified (urllib's handlers add headers to it)
        request = urllib.request.Request(
            target,
            data=body,
            headers={**headers, **call.extra_headers()},
            origin_req_host=original.origin_req_host,
            unverifiable=original.unverifiable,
            method=method,
        )
    # Like urllib.request.urlopen: the installed opener (install_opener), or with a
    # context one opener of our own for this call (an opener and its handlers form a
    # reference cycle, so not one per attempt).
    open_ = (
        urllib.request.build_opener(urllib.request.HTTPSHandler(context=context)).open
        if context is not None
        else urllib.request.urlopen
    )

    def send() -> HTTPResponse | urllib.error.HTTPError:
        try:
            if timeout is _NO_TIMEOUT:
                response: HTTPResponse = open_(request)
            else:
                response = open_(request, timeout=timeout)  # type: ignore[arg-type]
        except urllib.error.HTTPError as error:
            # urllib raises error statuses; here they are responses like any other. Its
            # traceback would only tie this frame (and its callers) to it in a cycle.
            return error.with_traceback(None)
        return response

    result = drive(call, send, _status, _headers, _drain)
    if isinstance(result, urllib.error.HTTPError):
        call.annotate(result)
        try:
            raise result  # urllib's bare behaviour for an error status
        finally:
            del result  # its traceback holds this frame: no reference cycle through this local
    return result


def _status(response: HTTPResponse | urllib.error.HTTPError) -> int:
    return response.code if isinstance(response, urllib.error.HTTPError) else response.status


def _headers(response: HTTPResponse | urllib.error.HTTPError) -> object:
    return response.headers


def _drain(response: HTTPResponse | urllib.error.HTTPError) -> bytes:
    """Read up to 64 KiB so the connection can be reused, then close the response."""
    try:
        return response.read(DRAIN_LIMIT + 1) if getattr(response, "fp", True) is not None else b""
    except Exception:  # a broken body must not stop the retry
        return b""
    finally:
        response.close()
