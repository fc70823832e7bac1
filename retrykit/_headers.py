"""Retry-After and rate-limit header parsing: untrusted text in, seconds to wait (or None) out."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Protocol

from ._mro import ClassTable

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_WEEKDAYS = frozenset(
    ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)
# RFC 9110 dates are in GMT; "UTC" is accepted too, as section 5.6.7 encourages robustness.
_ZONES = frozenset(("gmt", "utc"))
_OWS = " \t\r\n"


def _digits(text: str, min_len: int, max_len: int) -> int | None:
    """``text`` as an int if it is min_len..max_len ASCII digits, else None."""
    if min_len <= len(text) <= max_len and text.isascii() and text.isdigit():
        return int(text)
    return None


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (avoids importing calendar/datetime)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _month_length(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


class AwareTime(Protocol):
    """What ``now`` may be besides epoch seconds: a ``datetime`` (aware; a naive one is taken as UTC)."""

    def timestamp(self) -> float: ...
    def utcoffset(self) -> object: ...


def _epoch(now: object) -> float | None:
    """``now`` as finite epoch seconds, or None if it is none (NaN, inf, not a time at all). Never raises."""
    try:
        if isinstance(now, (int, float)) and not isinstance(now, bool):
            value = float(now)
        elif callable(getattr(now, "timestamp", None)) and callable(getattr(now, "utcoffset", None)):
            moment: Any = now
            if moment.utcoffset() is None:
                import datetime  # already imported by whoever made the datetime

                moment = moment.replace(tzinfo=datetime.UTC)
            value = float(moment.timestamp())
        else:
            return None
    except Exception:  # an int too large for a float, a datetime subclass that misbehaves
        return None
    return value if math.isfinite(value) else None


def parse_http_date(value: str, now: float | AwareTime | None = None) -> float | None:
    """Seconds since the epoch of an RFC 9110 HTTP-date, or None if it is not one.

    Accepts IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``), the obsolete RFC 850
    (``Sunday, 06-Nov-94 08:49:37 GMT``) and asctime (``Sun Nov  6 08:49:37 1994``)
    forms, with one-digit days, a ``UTC`` zone, or no zone at all (read as GMT).
    ``now`` resolves RFC 850's two-digit years: one more than 50 years ahead is
    taken to be in the past.
    """
    tokens = value.split()
    if len(tokens) < 3 or tokens[0].rstrip(",").lower() not in _WEEKDAYS:
        return None
    rest = tokens[1:]
    if rest[-1].lower() in _ZONES:
        rest.pop()
    # Without the zone (which RFC 9110 asks recipients to read as GMT when missing):
    if len(rest) == 4 and rest[0][:1].isdigit():  # IMF-fixdate: 06 Nov 1994 08:49:37
        day_s, month_s, year_s, clock = rest
        year = _digits(year_s, 4, 4)
    elif len(rest) == 2:  # RFC 850: 06-Nov-94 08:49:37
        parts = rest[0].split("-")
        if len(parts) != 3:
            return None
        day_s, month_s, year_s = parts
        clock = rest[1]
        year = _digits(year_s, 2, 2)
        if year is not None:
            epoch = _epoch(now)
            this_year = _year_of(time.time() if epoch is None else epoch)
            year += this_year - this_year % 100
            if year > this_year + 50:
                year -= 100
        else:
            year = _digits(year_s, 4, 4)
    elif len(rest) == 4:  # asctime: Nov  6 08:49:37 1994
        month_s, day_s, clock, year_s = rest
        year = _digits(year_s, 4, 4)
    else:
        return None
    month = _MONTHS.get(month_s.lower())
    day = _digits(day_s, 1, 2)
    hms = clock.split(":")
    if year is None or month is None or day is None or len(hms) != 3:
        return None
    hour, minute, second = (_digits(part, 2, 2) for part in hms)
    if hour is None or minute is None or second is None:
        return None
    if not (1 <= day <= _month_length(year, month) and hour <= 23 and minute <= 59 and second <= 60):
        return None
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + min(second, 59)
    return float(seconds) if seconds < 1e308 else None  # a two-digit year near the end of the floats


def _year_of(epoch: float) -> int:
    """The UTC year of a finite epoch time, without importing datetime; a few steps whatever its size."""
    days = int(epoch // 86400)
    year = 1970 + days * 400 // 146097  # 146,097 days in every 400 years: off by one at most
    while _days_from_civil(year, 1, 1) > days:
        year -= 1
    while _days_from_civil(year + 1, 1, 1) <= days:
        year += 1
    return year


def parse_retry_after(value: object, now: float | AwareTime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, or None if it is not a valid one.

    ``value`` is delay-seconds (ASCII digits, surrounding whitespace allowed) or an
    HTTP-date; ``now`` is the current time in epoch seconds or as an aware ``datetime``
    (default: ``time.time()``); a date cannot be measured from a ``now`` that is not a
    finite time (NaN, inf), so it gives None.
    A date in the past gives 0.0. A valid but huge delay is returned as is, so the
    caller can give up instead of retrying sooner than it was told. Anything else
    (negative, non-ASCII digits, NaN, inf, garbage, a non-string) gives None. Never raises.
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str):
        return None
    text = value.strip(_OWS)
    if text.isascii() and text.isdigit():
        # float() of a digit string never fails; beyond 1e308 it is inf, still "too long".
        return float(text)
    if len(text) > _MAX_RETRY_AFTER:  # no sane field is this long; don't bother splitting garbage
        return None
    epoch = time.time() if now is None else _epoch(now)
    when = None if epoch is None else parse_http_date(text, epoch)
    if when is None and "," in text:
        # Two fields, joined by the client ("2, 3"; requests and httpx do): the first
        # valid value counts, as aiohttp and urllib (which keep only the first) would
        # have it. An HTTP-date has a comma of its own, after its weekday.
        for item in _list_items(text):
            if item.isascii() and item.isdigit():
                return float(item)
            when = None if epoch is None else parse_http_date(item, epoch)
            if when is not None:
                break
    if when is None or epoch is None:
        return None
    return max(0.0, when - epoch)


_MAX_RETRY_AFTER = 256


def _list_items(text: str) -> list[str]:
    """The members of a comma-joined field, keeping each HTTP-date's ``Sun, 06 Nov ...`` whole."""
    items: list[str] = []
    for part in text.split(","):
        part = part.strip(_OWS)
        if items and items[-1].lower() in _WEEKDAYS:
            items[-1] = f"{items[-1]}, {part}"
        else:
            items.append(part)
    return items


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


def _parse_ratelimit(text: str, wall: float) -> float | None:
    """The IETF draft ``RateLimit`` field: ``"default";r=0;t=30`` (or the older ``reset=30``).

    Takes the longest ``t`` among the policies that are exhausted (``r=0``) or do not
    say; a policy with quota left is no reason to wait.
    """
    waits: list[float] = []
    for item in text.split(","):
        params: dict[str, str] = {}
        for part in item.split(";"):
            key, sep, val = part.strip(_OWS).partition("=")
            if sep:
                params[key.strip(_OWS).lower()] = val.strip(_OWS)
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
