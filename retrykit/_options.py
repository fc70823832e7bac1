"""The HTTP adapters' keywords, written once: the TypedDict their signatures unpack, and the options built from it."""

# No ``from __future__ import annotations`` here: HTTPKWs' annotations as strings would be
# compiled one by one when the TypedDict is made (0.7 ms of every adapter's import).
from typing import Any, TypedDict

from ._config import Frozen
from ._fleet import Fleet, HostBudgets
from ._policy import RetryPolicy, retry


class HTTPKWs(TypedDict, total=False):
    """The keywords every adapter takes, written once: each adapter's signature unpacks them."""

    idempotency_keys: bool
    """Send one ``Idempotency-Key`` per call (the same on every attempt), so a POST may be retried."""
    retry_non_idempotent: bool
    """Retry non-idempotent methods without a key (the request may be applied twice)."""
    raise_for_status: bool
    """Raise the typed :class:`~retrykit.errors.APIError` for a final error response instead of returning it."""
    budgets: HostBudgets | None
    """One retry budget per host (``HostBudgets()``), instead of the policy's own."""
    fleet: Fleet | None
    """Share each host's cooldown, pace and retry budget with every caller on this :class:`~retrykit.Fleet`."""


class HTTPOptions(Frozen):
    """How an adapter treats non-idempotent requests, final error responses and per-host budgets.

    Built once per adapter from its :class:`HTTPKWs` (``HTTPOptions(**options)``).
    """

    __slots__ = tuple(HTTPKWs.__annotations__)
    idempotency_keys: bool
    retry_non_idempotent: bool
    raise_for_status: bool
    budgets: HostBudgets | None
    fleet: Fleet | None

    def __init__(
        self,
        *,
        idempotency_keys: bool = False,
        retry_non_idempotent: bool = False,
        raise_for_status: bool = False,
        budgets: HostBudgets | None = None,
        fleet: Fleet | None = None,
    ) -> None:
        if budgets is not None and not isinstance(budgets, HostBudgets):
            raise TypeError(f"budgets must be a HostBudgets or None, got {type(budgets).__name__}")
        if fleet is not None and not isinstance(fleet, Fleet):
            raise TypeError(f"fleet must be a Fleet or None, got {type(fleet).__name__}")
        flags = {
            "idempotency_keys": idempotency_keys,
            "retry_non_idempotent": retry_non_idempotent,
            "raise_for_status": raise_for_status,
        }
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
        self._init_fields(HTTPOptions, locals())

    @classmethod
    def of(cls, options: HTTPKWs) -> "HTTPOptions":
        """The options for an adapter's keywords; the defaults are one shared object (no validation per call)."""
        return cls(**options) if options else _DEFAULT_OPTIONS

    @classmethod
    def take(cls, kwargs: dict[str, Any]) -> "HTTPOptions":
        """The options among an adapter's keywords, removed from ``kwargs`` (the rest go to the client)."""
        return cls(**{name: kwargs.pop(name) for name in cls._fields if name in kwargs})


_DEFAULT_OPTIONS = HTTPOptions()


def check_policy(policy: object) -> RetryPolicy:
    """The adapter's policy: the default one for None, else a RetryPolicy or a TypeError naming ``policy``."""
    if policy is None:
        return retry
    if not isinstance(policy, RetryPolicy):
        raise TypeError(f"policy must be a RetryPolicy or None, got {type(policy).__name__}")
    return policy
