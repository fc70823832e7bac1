"""Retrying on results: ``RetriesExhausted``, what a call raises when its policy gives up on a rejected result."""

from __future__ import annotations

from typing import Any

from ._classify import _status_on

# The reason a rejected result gives in log lines, events and notes (never the result itself).
REJECTED = "result rejected"


def looks_like_response(result: object) -> bool:
    """Whether ``result`` is an HTTP response (a status and headers), whose ``Retry-After`` is honoured."""
    if _status_on(result)[1] is None:
        return False
    try:
        return getattr(result, "headers", None) is not None
    except Exception:  # a result whose attributes raise is not a response we can read
        return False


class RetriesExhausted(Exception):  # noqa: N818 - the name says what happened, as the issue asked
    """A policy gave up while ``on_result`` still rejected the call's result.

    ``result`` is the last result, as the call returned it; ``attempts`` how many
    attempts were made. The PEP 678 note says why the policy stopped (no retries
    left, the deadline, the retry budget). ``response`` is the result when it is an
    HTTP response (its status and ``Retry-After`` are read like an error's), else None.

    While the policy still retries, hooks see this same object as the event's
    ``error``: the error the call would end with if the policy gave up there.
    ``str()`` and ``repr()`` never show the result (it may hold secrets).
    """

    result: Any
    attempts: int
    response: Any

    def __init__(self, result: Any, attempts: int) -> None:
        super().__init__(result, attempts)  # args, so that pickling rebuilds it
        self.result = result
        self.attempts = attempts
        self.response = result if looks_like_response(result) else None

    def __str__(self) -> str:
        return f"gave up after {_attempts(self.attempts)}: on_result rejected the last result"

    def __repr__(self) -> str:
        return f"RetriesExhausted(attempts={self.attempts}, result=<{type(self.result).__qualname__}>)"


def _attempts(n: int) -> str:
    return "1 attempt" if n == 1 else f"{n} attempts"
