"""What a response says of the quota left (requests remaining, seconds until it resets): a pace to learn."""

from __future__ import annotations

import math

from ._headers import _parse_reset, _parse_seconds, get_header, ratelimit_policies

# (remaining, reset) header pairs, the first present pair wins: OpenAI-style per-request quotas,
# then the IETF draft's older separate fields, then the common unprefixed pair.
QUOTA_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"),
    ("ratelimit-remaining", "ratelimit-reset"),
    ("x-ratelimit-remaining", "x-ratelimit-reset"),
)


def _ietf(text: str) -> float | None:
    """The slowest pace the IETF ``RateLimit`` field allows: ``"default";r=50;t=30`` is 50 requests in 30 s."""
    rates: list[float] = []
    for params in ratelimit_policies(text):
        remaining, reset = _parse_seconds(params.get("r", "")), _parse_seconds(params.get("t", ""))
        if remaining is not None and reset:
            rates.append(max(remaining, 1.0) / reset)
    return min(rates) if rates else None


def learned_rate(headers: object, wall: float) -> float | None:
    """Requests per second that spend the quota left evenly until it resets, or None if the headers do not say.

    ``wall`` is the epoch time now (a reset may be an epoch instant). At least one
    request per reset period is allowed, so an exhausted quota slows a fleet down
    to a crawl rather than to a stop (the server's 429s and their waits do the rest).
    Garbage never raises: it is simply not a quota.
    """
    if headers is None:
        return None
    try:
        text = get_header(headers, "ratelimit")
        if text is not None and len(text) <= 1024:
            rate = _ietf(text)
            if rate is not None:
                return rate if math.isfinite(rate) else None
        for remaining_name, reset_name in QUOTA_HEADERS:
            remaining_text = get_header(headers, remaining_name)
            reset_text = get_header(headers, reset_name)
            if remaining_text is None or reset_text is None or len(reset_text) > 64:
                continue
            remaining = _parse_seconds(remaining_text)
            reset = _parse_reset(reset_text, wall)
            if remaining is None or not reset:
                continue
            rate = max(remaining, 1.0) / reset
            return rate if math.isfinite(rate) else None
    except (ValueError, OverflowError):
        return None
    return None
