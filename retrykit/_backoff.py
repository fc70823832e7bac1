"""Delay strategies: pure functions of (failures, rng, previous delay)."""

from __future__ import annotations

import math

# The C generator behind the random module, seeded from os.urandom: what it buys is
# start-up time (importing random, and the hashing it pulls in, costs ~2 ms).
from _random import Random as _Random
from typing import Protocol

from ._config import Duration, Frozen, duration, number


class Rng(Protocol):
    """A source of jitter: ``random.Random`` (seed one for reproducible delays) or anything with ``random()``."""

    def random(self) -> float:
        """A float in [0, 1)."""
        ...


class BackoffStrategy(Protocol):
    """What a policy needs from a delay strategy (any object with this method will do).

    ``failures`` is 0 before the first retry. ``previous`` is the delay this
    call used last time (None before the first retry): strategies that need
    it, like decorrelated jitter, get it from the caller instead of keeping
    mutable state, so one strategy object can serve many calls at once.
    """

    def delay(self, failures: int, rng: Rng | None = None, previous: float | None = None) -> float: ...


# The jitter source when no rng is given.
DEFAULT_RNG = _Random()

# How many delays each strategy precomputes: enough for any sane max_retries, so
# the usual delay is a tuple lookup; later ones are computed without overflow.
TABLE_SIZE = 64


def _capped_exponential(base: float, multiplier: float, cap: float, n: int) -> float:
    """``min(base * multiplier**n, cap)`` for any n >= 0, never overflowing."""
    if base == 0.0 or multiplier == 1.0:
        return base
    # Work in log space: ``2.0 ** 10**6`` alone raises OverflowError, and a tiny
    # base times a huge power can still be a small number.
    log_value = math.log(base) + n * math.log(multiplier)
    if log_value >= math.log(cap):
        return cap
    if n * math.log(multiplier) < 700.0:  # the power is a finite float: multiply exactly
        return min(base * multiplier**n, cap)
    return min(math.exp(log_value), cap)


class _Exponential(Frozen):
    """Shared validation and the capped exponential of the jittered strategies.

    ``table`` holds ``min(base * multiplier**n, cap)`` for the first 64 failure counts, computed once.
    """

    __slots__ = ("base", "multiplier", "cap", "table")
    base: float
    multiplier: float
    cap: float
    table: tuple[float, ...]

    def _init_exponential(self, base: object, multiplier: object, cap: object) -> None:
        b = duration("base", base)
        m = number("multiplier", multiplier, minimum=1.0)
        c = duration("cap", cap)
        if c < b:
            raise ValueError(f"cap must be >= base, got cap={cap!r} < base={base!r}")
        table = tuple(_capped_exponential(b, m, c, n) for n in range(TABLE_SIZE))
        self._init(base=b, multiplier=m, cap=c, table=table)

    def exponential(self, failures: int) -> float:
        """``min(base * multiplier**failures, cap)`` without overflow for any ``failures``."""
        if 0 <= failures < TABLE_SIZE:
            return self.table[failures]
        if failures < 0:
            raise ValueError(f"failures must be >= 0, got {failures!r}")
        return _capped_exponential(self.base, self.multiplier, self.cap, failures)


class Backoff(_Exponential):
    """The error model's backoff: ``min(base * multiplier**n, cap) + uniform[0, jitter)``.

    With the defaults this is exactly the error-code page's formula: 1 s, 2 s, 4 s,
    ... capped at 30 s, plus up to 1 s of random jitter so that clients that failed
    together do not retry together.
    """

    __slots__ = ("jitter",)
    jitter: float

    def __init__(self, base: Duration = 1.0, multiplier: float = 2.0, cap: Duration = 30.0, jitter: Duration = 1.0) -> None:
        self._init_exponential(base, multiplier, cap)
        self._init(jitter=duration("jitter", jitter))

    def delay(self, failures: int, rng: Rng | None = None, previous: float | None = None) -> float:
        """Seconds to wait after the ``failures``-th failure (0 before the first retry)."""
        # Inlined table lookup: this line is the whole cost of a delay on the common path.
        wait = self.table[failures] if 0 <= failures < TABLE_SIZE else self.exponential(failures)
        if self.jitter:
            wait += self.jitter * (rng or DEFAULT_RNG).random()
        return wait


class FullJitter(_Exponential):
    """AWS "full jitter": ``uniform[0, min(cap, base * multiplier**n))``.

    Spreads a fleet's retries the most and does the least total work; any single
    retry may come almost at once.
    """

    __slots__ = ()

    def __init__(self, base: Duration = 1.0, multiplier: float = 2.0, cap: Duration = 30.0) -> None:
        self._init_exponential(base, multiplier, cap)

    def delay(self, failures: int, rng: Rng | None = None, previous: float | None = None) -> float:
        """Seconds to wait after the ``failures``-th failure (0 before the first retry)."""
        return self.exponential(failures) * (rng or DEFAULT_RNG).random()


class EqualJitter(_Exponential):
    """AWS "equal jitter": half the capped exponential, plus up to the other half at random."""

    __slots__ = ()

    def __init__(self, base: Duration = 1.0, multiplier: float = 2.0, cap: Duration = 30.0) -> None:
        self._init_exponential(base, multiplier, cap)

    def delay(self, failures: int, rng: Rng | None = None, previous: float | None = None) -> float:
        """Seconds to wait after the ``failures``-th failure (0 before the first retry)."""
        half = self.exponential(failures) / 2.0
        return half + half * (rng or DEFAULT_RNG).random()


class DecorrelatedJitter(Frozen):
    """AWS "decorrelated jitter": ``min(cap, uniform[base, previous * multiplier))``.

    Each delay grows from the previous one rather than from the attempt number;
    the previous delay is passed in by the caller (None on the first retry means
    ``base``), so the strategy itself holds no state.
    """

    __slots__ = ("base", "multiplier", "cap")
    base: float
    multiplier: float
    cap: float

    def __init__(self, base: Duration = 1.0, multiplier: float = 3.0, cap: Duration = 30.0) -> None:
        b = duration("base", base)
        m = number("multiplier", multiplier, minimum=1.0)
        c = duration("cap", cap)
        if c < b:
            raise ValueError(f"cap must be >= base, got cap={cap!r} < base={base!r}")
        self._init(base=b, multiplier=m, cap=c)

    def delay(self, failures: int, rng: Rng | None = None, previous: float | None = None) -> float:
        """Seconds to wait, drawn between ``base`` and ``multiplier`` times the previous delay."""
        last = self.base if previous is None or not previous >= self.base else min(previous, self.cap)
        high = last * self.multiplier
        return min(self.cap, self.base + (high - self.base) * (rng or DEFAULT_RNG).random())
