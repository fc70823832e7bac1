"""A fleet that learns its pace from responses' quota headers (learn=True), and the header parsing behind it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit import Backoff, Fleet, RetryPolicy
from retrykit._quota import learned_rate
from retrykit.testing import FlakyServer, Reply, instant

from .clients import CLIENTS

FAST = RetryPolicy(backoff=Backoff(jitter=0), retry_after_jitter=0)
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "rate"),
    [
        ({"RateLimit": '"default";r=50;t=25'}, 2.0),
        ({"RateLimit": '"minute";r=600;t=60, "day";r=100;t=1000'}, 0.1),  # the slowest policy wins
        ({"x-ratelimit-remaining-requests": "30", "x-ratelimit-reset-requests": "1m0s"}, 0.5),  # OpenAI's form
        ({"RateLimit-Remaining": "10", "RateLimit-Reset": "5"}, 2.0),
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(NOW + 4)}, 0.25),  # epoch reset; one request at least
    ],
)
def test_the_quota_left_is_spread_until_it_resets(headers: dict[str, str], rate: float) -> None:
    assert learned_rate(headers, NOW) == pytest.approx(rate)


@pytest.mark.parametrize(
    "headers",
    [None, {}, {"RateLimit": "garbage"}, {"x-ratelimit-remaining-requests": "ten", "x-ratelimit-reset-requests": "1s"},
     {"X-RateLimit-Remaining": "5"}, {"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "0"}],
)
def test_headers_that_say_nothing_of_a_quota_teach_nothing(headers: dict[str, str] | None) -> None:
    assert learned_rate(headers, NOW) is None


@given(st.dictionaries(st.sampled_from(["RateLimit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "ratelimit-reset"]), st.text(max_size=40)))
def test_any_header_values_give_a_finite_positive_rate_or_none(headers: dict[str, str]) -> None:
    rate = learned_rate(headers, NOW)
    assert rate is None or 0.0 < rate < float("inf")


def test_a_learned_rate_paces_the_hosts_next_requests_and_a_configured_one_stays_a_ceiling() -> None:
    learned = Fleet(learn=True).scope("h")
    learned.learn({"RateLimit": '"default";r=10;t=1'})
    assert learned.rate == 10.0
    capped = Fleet(learn=True, rate=4).scope("h")
    capped.learn({"RateLimit": '"default";r=10;t=1'})
    assert capped.rate == 4.0
    deaf = Fleet().scope("h")
    assert not deaf.learns


def test_an_adapter_on_a_learning_fleet_slows_down_before_the_quota_runs_out() -> None:
    send = CLIENTS["requests"]
    quota = Reply(200, {"ok": True}, headers={"x-ratelimit-remaining-requests": "2", "x-ratelimit-reset-requests": "10s"})
    fleet = Fleet(learn=True)
    with FlakyServer([quota] * 4) as server, instant() as clock:
        for _ in range(4):
            assert send(FAST, "GET", server.url + "/v1/x", fleet=fleet).status == 200
    # 2 left in 10 s: one request every 5 s once the first response said so (the first paced slot is free).
    assert clock.delays == [pytest.approx(5.0), pytest.approx(5.0)]


def test_without_learn_the_quota_headers_change_nothing() -> None:
    send = CLIENTS["requests"]
    quota = Reply(200, {"ok": True}, headers={"x-ratelimit-remaining-requests": "2", "x-ratelimit-reset-requests": "10s"})
    with FlakyServer([quota, quota, quota]) as server, instant() as clock:
        for _ in range(3):
            send(FAST, "GET", server.url + "/v1/x", fleet=Fleet())
    assert clock.delays == []
