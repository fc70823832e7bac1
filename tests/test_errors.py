from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit import is_transient
from retrykit.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    GoneError,
    InsufficientCreditsError,
    NotFoundError,
    RateLimitError,
    ServerError,
)

ENVELOPE = {"error": {"message": "Rate limit exceeded. Please slow down.", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, InsufficientCreditsError),
        (404, NotFoundError),
        (410, GoneError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (599, ServerError),
        (418, APIError),
        (409, APIError),
    ],
)
def test_one_class_per_spec_row(status: int, cls: type[APIError]) -> None:
    error = APIError.from_response(status, None)
    assert type(error) is cls
    assert error.status == status


@pytest.mark.parametrize("body", [json.dumps(ENVELOPE).encode(), json.dumps(ENVELOPE), ENVELOPE])
def test_the_envelope_is_parsed_from_bytes_str_or_mapping(body: object) -> None:
    error = APIError.from_response(429, body, {"Retry-After": "20"})  # type: ignore[arg-type]
    assert isinstance(error, RateLimitError)
    assert error.message == "Rate limit exceeded. Please slow down."
    assert error.type == "rate_limit_error"
    assert error.code == "rate_limit_exceeded"
    assert error.status == 429
    assert error.retry_after == 20.0
    assert error.retryable
    assert error.hint == "Slow down requests and implement backoff. See Rate Limits."
    assert str(error) == "HTTP 429 rate_limit_exceeded: Rate limit exceeded. Please slow down."


@pytest.mark.parametrize(
    "body",
    [None, b"", b"<html>502 Bad Gateway</html>", b"\xff\xfe", b"[1, 2]", b'{"error": 3}', b"null", b'{"error": {"message": 5}}', b"x" * 70_000],
)
def test_malformed_bodies_still_give_the_right_class(body: bytes | None) -> None:
    error = APIError.from_response(502, body)
    assert isinstance(error, ServerError)
    assert error.message == "Bad Gateway (HTTP 502)"
    assert error.hint == "Retry after a moment. Contact support if the issue persists."


def test_oversized_envelope_is_not_parsed() -> None:
    big = json.dumps({"error": {"message": "m" * 70_000}})
    assert APIError.from_response(500, big).message == "Server Error (HTTP 500)"


def test_a_string_error_field_is_the_message() -> None:
    assert APIError.from_response(400, b'{"error": "missing field"}').message == "missing field"


def test_every_5xx_takes_the_500_hint_and_fatal_rows_their_own() -> None:
    assert APIError.from_response(504, None).hint == APIError.from_response(500, None).hint
    assert APIError.from_response(402, None).hint == "Top up credits in the Dashboard."
    assert not APIError.from_response(402, None).retryable


def test_api_errors_are_classified_by_status() -> None:
    assert is_transient(APIError.from_response(503, None))
    assert not is_transient(APIError.from_response(401, None))


def test_rate_limit_headers_give_retry_after() -> None:
    assert APIError.from_response(429, None, {"retry-after-ms": "1500"}).retry_after == 1.5
    assert APIError.from_response(500, None, {"retry-after-ms": "1500"}).retry_after is None


def test_repr_and_pickle() -> None:
    error = APIError.from_response(404, b'{"error": {"message": "no such task", "code": "not_found"}}')
    assert repr(error) == "NotFoundError(status=404, code='not_found', message='no such task')"
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is NotFoundError
    assert clone.code == "not_found"


@given(st.integers(100, 599), st.one_of(st.none(), st.binary(max_size=300), st.text(max_size=300)))
def test_from_response_never_raises(status: int, body: bytes | str | None) -> None:
    error = APIError.from_response(status, body, {"Retry-After": "x"})
    assert error.status == status
    assert isinstance(error.message, str)
    assert error.message
