"""Reading headers from any client's container, and the server's wait from ``Retry-After`` and rate-limit fields."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._httpdate import _OWS, parse_retry_after
from ._mro import ClassTable

# Header containers whose .get() already ignores case, by "module.QualName" along the MRO:
# for these a miss is a miss, and the case-insensitive scan of every header is skipped.
CASE_INSENSITIVE_HEADERS: frozenset[str] = frozenset(
    (
        "requests.structures.CaseInsensitiveDict",
        "urllib3._collections.HTTPHeaderDict",  # what requests' adapter decides on
        "httpx.Headers",
        "multidict._multidict.CIMultiDict",  # aiohttp
        "multidict._multidict.CIMultiDictProxy",
        "multidict._multidict_py.CIMultiDict",  # multidict without its C extension
        "multidict._multidict_py.CIMultiDictProxy",
        "email.message.Message",  # urllib's and http.client's HTTPMessage
    )
)
_ignores_case: ClassTable[bool] = ClassTable(dict.fromkeys(CASE_INSENSITIVE_HEADERS, True))


def get_header(headers: object, name: str) -> str | None:
    """The value of header ``name`` from any headers object, or None.

    Duck-typed over what HTTP clients hand back: case-insensitive mappings
    (requests, httpx, aiohttp, ``email.message.Message`` from urllib), plain dicts
    with any key case, and sequences of ``(name, value)`` pairs. Never raises.
    """
    if headers is None:
        return None
    try:
        value: object = None
        getter = getattr(headers, "get", None)
        if getter is not None:
            value = getter(name)
        if value is None and not _ignores_case(type(headers)):
            items: Any = headers.items() if hasattr(headers, "items") else headers
            wanted = name.lower()
            for key, item in items:
                if isinstance(key, bytes):
                    key = key.decode("latin-1")
                if isinstance(key, str) and key.lower() == wanted:
                    value = item
                    break
        if isinstance(value, (list, tuple)) and value:
            value = value[0]
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return value if isinstance(value, str) else None
    except Exception:  # garbage headers must never break the retry loop
        return None


# The server's own verdict on retrying a response (several AI APIs send it): it beats the
# status table both ways. Anything but these two values leaves the table in charge.
SHOULD_RETRY_HEADER = "x-should-retry"
_VERDICTS = {"true": True, "false": False}


def server_verdict(headers: object) -> bool | None:
    """``x-should-retry: true|false`` as a bool, or None when absent or neither. Never raises."""
    value = get_header(headers, SHOULD_RETRY_HEADER)
    return None if value is None else _VERDICTS.get(value.strip(_OWS).lower())


def _parse_seconds(text: str) -> float | None:
    """A non-negative finite decimal number of seconds, or None."""
    text = text.strip(_OWS)
    if not text or not text.isascii() or text.count(".") > 1 or not text.replace(".", "").isdigit():
        return None
    return float(text)


def _parse_ms(text: str, wall: float) -> float | None:
    seconds = _parse_seconds(text)
    return None if seconds is None else seconds / 1000.0


# Reset values above this are absolute epoch times, not deltas: no server asks
# for a 30-year wait, and 1e9 s since the epoch is 2001.
_EPOCH_THRESHOLD = 1e9


def _parse_reset(text: str, wall: float) -> float | None:
    """``RateLimit-Reset`` / ``X-RateLimit-Reset``: delta seconds, epoch seconds, or a ``1m30s`` duration."""
    seconds = _parse_seconds(text)
    if seconds is None:
        return _parse_duration(text.strip(_OWS))
    if seconds > _EPOCH_THRESHOLD * 1000:  # epoch milliseconds
        seconds /= 1000.0
    if seconds > _EPOCH_THRESHOLD:
        return max(0.0, seconds - wall)
    return seconds


_DURATION_UNITS = (("ms", 0.001), ("h", 3600.0), ("m", 60.0), ("s", 1.0))


def _parse_duration(text: str) -> float | None:
    """Go-style durations some APIs send (``6m0s``, ``1.5s``, ``20ms``), or None."""
    total = 0.0
    rest = text
    if not rest or not rest.isascii():
        return None
    while rest:
        i = 0
        while i < len(rest) and (rest[i].isdigit() or rest[i] == "."):
            i += 1
        number = _parse_seconds(rest[:i]) if i else None
        if number is None:
            return None
        rest = rest[i:]
        for unit, scale in _DURATION_UNITS:
            if rest.startswith(unit):
                total += number * scale
                rest = rest[len(unit) :]
                break
        else:
            return None
    return total


def ratelimit_policies(text: str) -> list[dict[str, str]]:
    """The IETF ``RateLimit`` field's policies, each as its parameters (``{"r": "0", "t": "30"}``), names lowercased."""
    policies: list[dict[str, str]] = []
    for item in text.split(","):
        params: dict[str, str] = {}
        for part in item.split(";"):
            key, sep, val = part.strip(_OWS).partition("=")
            if sep:
                params[key.strip(_OWS).lower()] = val.strip(_OWS)
        policies.append(params)
    return policies


def _parse_ratelimit(text: str, wall: float) -> float | None:
    """The IETF draft ``RateLimit`` field: ``"default";r=0;t=30`` (or the older ``reset=30``).

    Takes the longest ``t`` among the policies that are exhausted (``r=0``) or do not
    say; a policy with quota left is no reason to wait.
    """
    waits: list[float] = []
    for params in ratelimit_policies(text):
        if "reset" in params:  # draft-ietf-httpapi-ratelimit-headers up to -06
            params.setdefault("t", params["reset"])
            params.setdefault("r", params.get("remaining", "0"))
        remaining = params.get("r", "0")
        wait = _parse_seconds(params.get("t", ""))
        if wait is not None and _parse_seconds(remaining) == 0.0:
            waits.append(wait)
    return max(waits) if waits else None


# Rate-limit signals other than Retry-After, in order of precedence: (header, parser).
# They are honoured only on the statuses below, and only when Retry-After does not parse.
RATE_LIMIT_HEADERS: tuple[tuple[str, Callable[[str, float], float | None]], ...] = (
    ("retry-after-ms", _parse_ms),
    ("ratelimit", _parse_ratelimit),
    ("ratelimit-reset", _parse_reset),
    ("x-ratelimit-reset", _parse_reset),
)
RATE_LIMIT_STATUSES = frozenset((429, 503))


def retry_delay_from_headers(headers: object, status: int | None, wall: float) -> float | None:
    """Seconds the server asked us to wait, from ``Retry-After`` or (on 429/503) rate-limit fields.

    ``wall`` is the current epoch time. Malformed fields are skipped; None means the
    server did not say, so the caller's backoff applies. Never raises.
    """
    if headers is None:
        return None
    delay = parse_retry_after(get_header(headers, "Retry-After"), wall)
    if delay is not None or status not in RATE_LIMIT_STATUSES:
        return delay
    for name, parse in RATE_LIMIT_HEADERS:
        text = get_header(headers, name)
        if text is not None and len(text) <= 1024:
            try:
                delay = parse(text, wall)
            except (ValueError, OverflowError):
                delay = None
            if delay is not None and not math.isnan(delay):
                return delay  # inf included: a wait too long to honour makes the engine give up
    return None
