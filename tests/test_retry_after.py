from __future__ import annotations

import email.utils
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit import parse_retry_after

NOW = 1_750_000_000.0  # 2025-06-15


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


@pytest.mark.parametrize(("value", "expected"), [("120", 120.0), (" 7\t", 7.0), ("0", 0.0), (b"3", 3.0)])
def test_delay_seconds(value: str, expected: float) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize("value", ["-1", "1.5", "+3", "١٢", "nan", "inf", "", "  ", "soon", "1e3", "0x10", None, 5, []])
def test_invalid_values_give_none(value: object) -> None:
    assert parse_retry_after(value, NOW) is None


def test_a_huge_delay_is_returned_so_the_policy_can_give_up() -> None:
    assert parse_retry_after("9" * 30, NOW) == float("9" * 30)
    assert parse_retry_after("9" * 5000, NOW) == math.inf


def test_imf_fixdate_in_the_future() -> None:
    assert parse_retry_after(http_date(NOW + 90), NOW) == 90.0


def test_a_date_in_the_past_is_zero() -> None:
    assert parse_retry_after(http_date(NOW - 90), NOW) == 0.0
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", NOW) == 0.0


def test_obsolete_date_forms() -> None:
    ts = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT
    assert parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", ts - 10) == 10.0
    assert parse_retry_after("Sun Nov  6 08:49:37 1994", ts - 10) == 10.0


def test_robust_forms_one_digit_day_and_utc() -> None:
    ts = 784111777.0
    assert parse_retry_after("Sun, 6 Nov 1994 08:49:37 UTC", ts - 5) == 5.0
    assert parse_retry_after("sun, 06 nov 1994 08:49:37 gmt", ts - 5) == 5.0


def test_rfc850_two_digit_years_more_than_50_years_ahead_are_in_the_past() -> None:
    now = 1_750_000_000.0  # 2025
    # "30" -> 2030 (5 years ahead); "99" -> 1999, not 2099.
    assert parse_retry_after("Monday, 01-Jan-30 00:00:00 GMT", now) > 0  # type: ignore[operator]
    assert parse_retry_after("Friday, 01-Jan-99 00:00:00 GMT", now) == 0.0


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 31 Feb 2030 00:00:00 GMT",
        "Sun, 06 Nov 1994 25:00:00 GMT",
        "Sun, 06 Nov 1994 08:61:00 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 PST",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, ٠٦ Nov 1994 08:49:37 GMT",
    ],
)
def test_malformed_dates_give_none(value: str) -> None:
    assert parse_retry_after(value, NOW) is None


@given(st.one_of(st.text(), st.binary(), st.integers(), st.floats(), st.none()))
def test_never_raises_and_never_negative(value: object) -> None:
    result = parse_retry_after(value, NOW)
    assert result is None or (result >= 0.0 and not math.isnan(result))


@given(st.integers(min_value=0, max_value=10**12))
def test_any_digit_string_round_trips(n: int) -> None:
    assert parse_retry_after(f" {n} ", NOW) == float(n)


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_any_http_date_gives_its_distance_from_now(offset: int) -> None:
    ts = 1_000_000_000 + 10**9 + offset  # 1970..2065: four-digit years that formatdate supports
    assert parse_retry_after(http_date(ts), NOW) == max(0.0, ts - NOW)


@given(st.text(alphabet="SunMoTeWdhFrisaJbpyAgOcNvD, -:0123456789GTUC", max_size=40))
def test_date_like_garbage_never_raises(value: str) -> None:
    result = parse_retry_after(value, NOW)
    assert result is None or result >= 0.0


def test_a_date_without_a_zone_is_read_as_gmt() -> None:
    ts = 1559561412.0  # Mon, 03 Jun 2019 11:30:12 GMT
    assert parse_retry_after("Mon, 03 Jun 2019 11:30:12", ts - 30) == 30.0
    assert parse_retry_after("Monday, 03-Jun-19 11:30:12", ts - 30) == 30.0
    assert parse_retry_after("Mon, 03 Jun 2019 11:30:12 PST", ts - 30) is None  # a zone other than GMT: not a guess


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2, 3", 2.0),  # two fields as requests and httpx join them
        ("2,3", 2.0),
        ("soon, 3", 3.0),  # the first *valid* value
        ("Mon, 03 Jun 2019 11:30:42 GMT, 5", 30.0),  # an HTTP-date keeps its own comma
        ("Mon, 03 Jun 2019 11:30:42 GMT, Mon, 03 Jun 2019 11:31:12 GMT", 30.0),
        ("x, Mon, 03 Jun 2019 11:30:42", 30.0),
        ("-1, nan", None),
        (",", None),
    ],
)
def test_two_retry_after_fields_take_the_first_valid_value(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, 1559561412.0) == expected
