"""retrykit: retries that are correct by default, cheap when nothing fails, and honest about what they did."""

from ._backoff import Backoff, DecorrelatedJitter, EqualJitter, FullJitter
from ._budget import HostBudgets, RetryBudget
from ._classify import is_transient
from ._engine import RetryEvent
from ._headers import parse_retry_after
from ._policy import Attempt, Attempts, RetryPolicy, retry
from ._status import DEFAULT_STATUS_TABLE, StatusRule, StatusTable, is_retryable_status

__all__ = [
    "DEFAULT_STATUS_TABLE",
    "Attempt",
    "Attempts",
    "Backoff",
    "DecorrelatedJitter",
    "EqualJitter",
    "FullJitter",
    "HostBudgets",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "StatusRule",
    "StatusTable",
    "is_retryable_status",
    "is_transient",
    "parse_retry_after",
    "retry",
]
__version__ = "0.1.0"
