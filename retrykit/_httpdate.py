"""HTTP-dates and ``Retry-After`` values: untrusted text in, seconds to wait (or None) out."""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

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
