"""get_header: one header from whatever headers object a client hands back, by any case, never raising."""

from __future__ import annotations

import email.message
import http.client
import io
from collections.abc import Callable

import httpx
import multidict
import pytest
import requests.structures
from hypothesis import given
from hypothesis import strategies as st

from retrykit._headers import _ignores_case, get_header


def as_message(pairs: dict[str, str]) -> email.message.Message:
    message = email.message.Message()
    for key, value in pairs.items():
        message[key] = value
    return message


def as_http_message(pairs: dict[str, str]) -> http.client.HTTPMessage:
    raw = "".join(f"{k}: {v}\r\n" for k, v in pairs.items()) + "\r\n"
    return http.client.parse_headers(io.BytesIO(raw.encode("latin-1")))


CONTAINERS: dict[str, Callable[[dict[str, str]], object]] = {
    "dict": dict,
    "pairs": lambda d: list(d.items()),
    "byte pairs": lambda d: [(k.encode(), v.encode()) for k, v in d.items()],
    "requests": requests.structures.CaseInsensitiveDict,
    "httpx": httpx.Headers,
    "aiohttp": lambda d: multidict.CIMultiDictProxy(multidict.CIMultiDict(d)),
    "email": as_message,
    "http.client": as_http_message,
}

names = st.sampled_from(["Retry-After", "retry-after-ms", "RateLimit-Reset", "Idempotency-Key", "X-RateLimit-Reset"])
values = st.text(alphabet="0123456789abc:, ", min_size=1, max_size=12).map(str.strip).filter(bool)


@pytest.mark.parametrize("kind", CONTAINERS)
@given(name=names, value=values, data=st.data())
def test_found_whatever_the_case_of_the_name_or_the_container(
    kind: str, name: str, value: str, data: st.DataObject
) -> None:
    stored = data.draw(st.sampled_from([name, name.lower(), name.upper()]))
    asked = data.draw(st.sampled_from([name, name.lower(), name.upper()]))
    headers = CONTAINERS[kind]({"Content-Type": "application/json", stored: value})
    assert get_header(headers, asked) == value


@pytest.mark.parametrize("kind", CONTAINERS)
def test_a_missing_header_is_none(kind: str) -> None:
    assert get_header(CONTAINERS[kind]({"Content-Type": "application/json"}), "Retry-After") is None


def test_the_clients_case_insensitive_containers_skip_the_scan() -> None:
    for kind in ("requests", "httpx", "aiohttp", "email", "http.client"):
        assert _ignores_case(type(CONTAINERS[kind]({})))
    assert not _ignores_case(dict)


class Broken:
    def get(self, name: str) -> str:
        raise RuntimeError("broken headers")

    def items(self) -> list[tuple[str, str]]:
        raise RuntimeError("broken headers")


@pytest.mark.parametrize("headers", [None, 42, "Retry-After: 3", [("Retry-After",)], {3: "x"}, object(), Broken()])
def test_garbage_gives_none_and_never_raises(headers: object) -> None:
    assert get_header(headers, "Retry-After") is None
