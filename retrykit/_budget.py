"""RetryBudget: the token-bucket retry throttle of gRPC's retry design (gRFC A6), shared across calls."""

from __future__ import annotations

import _thread

from ._config import number


class RetryBudget:
    """Caps retries across every call that shares it, so a fleet cannot multiply an outage.

    The bucket starts full at ``max_tokens``. Each retryable failure takes one
    token, each success puts back ``token_ratio`` (up to ``max_tokens``), and a
    retry is allowed only while more than half the tokens are left. With the
    defaults (20 tokens, 0.1 back per success), the first failing call keeps all
    of its five retries, retries stop after nine failures in a row, and come
    back once successes outnumber failures ten to one. (gRPC's example bucket of
    10 cuts that first call to four retries and refuses about 1 % of retries at a
    5 % failure rate; 20 refuses none there and still holds a full outage to
    1.16x the load per client, by ``python -m retrykit simulate``.) Fatal errors (a 401, a bug)
    count as neither.

    Its scope is whatever shares it: one budget per upstream host is the usual
    choice (gRPC keeps one per channel). It is lock-protected, so any number of
    policies, threads and event loops may share one.
    """

    __slots__ = ("max_tokens", "token_ratio", "_tokens", "_threshold", "_lock")

    def __init__(self, max_tokens: float = 20, token_ratio: float = 0.1) -> None:
        self.max_tokens: float = number("max_tokens", max_tokens)
        if self.max_tokens <= 0:
            raise ValueError(f"max_tokens must be > 0, got {max_tokens!r}")
        self.token_ratio: float = number("token_ratio", token_ratio)
        if self.token_ratio <= 0:
            raise ValueError(f"token_ratio must be > 0, got {token_ratio!r}")
        self._tokens = self.max_tokens
        self._threshold = self.max_tokens / 2
        # _thread rather than threading: the same C lock, without threading's import cost.
        self._lock = _thread.allocate_lock()

    @property
    def tokens(self) -> float:
        """Tokens left now (a snapshot: other threads may change it at once)."""
        return self._tokens

    def record_failure(self) -> bool:
        """Take a token for a retryable failure; True if a retry is still allowed.

        Taking the token and deciding are one atomic step, so concurrent failures
        cannot all see the same last token.
        """
        with self._lock:
            tokens = self._tokens - 1.0
            if tokens < 0.0:
                tokens = 0.0
            self._tokens = tokens
            return tokens > self._threshold

    def record_success(self) -> None:
        """Give back ``token_ratio`` of a token for a successful call."""
        # Speed only (every successful call comes here): a full bucket stays full, so the lock is
        # skipped. Still exact: a failure that takes a token right after this read is ordered
        # after this success, which changed nothing.
        if self._tokens >= self.max_tokens:
            return
        with self._lock:
            tokens = self._tokens + self.token_ratio
            self._tokens = tokens if tokens < self.max_tokens else self.max_tokens

    # A lock cannot be pickled: the state travels without it and gets a new one,
    # so a policy holding a budget can go to a ProcessPoolExecutor worker (as a copy).
    def __getstate__(self) -> tuple[float, float, float]:
        return (self.max_tokens, self.token_ratio, self._tokens)

    def __setstate__(self, state: tuple[float, float, float]) -> None:
        self.max_tokens, self.token_ratio, self._tokens = state
        self._threshold = self.max_tokens / 2
        self._lock = _thread.allocate_lock()

    def __repr__(self) -> str:
        return f"RetryBudget(max_tokens={self.max_tokens:g}, token_ratio={self.token_ratio:g}, tokens={self._tokens:g})"
