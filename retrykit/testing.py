"""Test helpers for retrykit users: ``instant()`` virtual time (and, with the HTTP adapters, ``FlakyServer``)."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING

from . import _runtime
from ._config import count

if TYPE_CHECKING:
    from ._server import FlakyServer, Received, Reply, unused_port

# The server (http.server, json, socketserver) is loaded on first use, so a test that
# only needs instant() does not pay for it.
_SERVER_NAMES = frozenset(("FlakyServer", "Received", "Reply", "unused_port"))


def __getattr__(name: str) -> object:
    if name in _SERVER_NAMES:
        from . import _server

        return getattr(_server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FlakyServer", "Received", "Reply", "instant", "unused_port"]


class instant:  # noqa: N801 - used like a function: `with instant() as t:`
    """Make every retrykit policy wait in virtual time: no real sleeping, deadlines still exact.

    Inside the ``with`` block, process-wide (threads the test starts are covered
    too), every policy's sleep returns at once and records the delay it was asked
    for in ``.delays``; the policies' clock is virtual and advances by each delay,
    so a ``deadline`` is hit after exactly the same waits as in real time. Async
    waits still yield to the event loop (asyncio or trio) once, so other tasks
    run and cancellation is delivered::

        with retrykit.testing.instant() as clock:
            fetch()
        assert clock.delays == [...]

    ``attempts=N`` also caps every policy to N attempts in the block (1: no
    retries at all), so a test of code that retries can make failures fail fast.
    """

    def __init__(self, *, attempts: int | None = None) -> None:
        if attempts is not None and count("attempts", attempts) < 1:
            raise ValueError(f"attempts must be >= 1 (or None to leave the policies alone), got {attempts!r}")
        self.attempts = attempts
        """The most attempts any policy makes inside the block (None: each policy's own ``max_attempts``)."""
        self.delays: list[float] = []
        self._lock = threading.Lock()
        self._elapsed = 0.0
        self._mono0 = 0.0
        self._wall0 = 0.0
        self._previous: _runtime.TimeSource | None = None

    @property
    def total(self) -> float:
        """The sum of every delay requested so far: how long it would really have taken."""
        return self._elapsed

    def clock(self) -> float:
        """The virtual monotonic clock: real time at entry plus every delay slept since."""
        return self._mono0 + self._elapsed

    def wall(self) -> float:
        """The virtual epoch time, for HTTP-date Retry-After values."""
        return self._wall0 + self._elapsed

    def sleep(self, delay: float) -> None:
        """Record ``delay`` and advance the virtual clock by it, without waiting."""
        with self._lock:
            self.delays.append(delay)
            self._elapsed += delay

    async def async_sleep(self, delay: float) -> None:
        """Record ``delay`` like :meth:`sleep`, then yield to the event loop once."""
        self.sleep(delay)
        await _runtime.framework_sleep(0)

    def __enter__(self) -> instant:
        self._mono0 = time.monotonic()
        self._wall0 = time.time()
        self._previous = _runtime.override
        _runtime.override = self
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _runtime.override = self._previous
