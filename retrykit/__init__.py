"""retrykit: retries that are correct by default, cheap when nothing fails, and honest about what they did."""

from ._attempts import Attempt, Attempts
from ._backoff import Backoff, BackoffStrategy, DecorrelatedJitter, EqualJitter, FullJitter, Rng
from ._budget import RetryBudget
from ._classify import is_transient
from ._engine import Stop
from ._fleet import Fleet, HostBudgets
from ._httpdate import parse_retry_after
from ._instruments import AttemptSpan, Instrument, LoggingInstrument, get_instruments, set_instruments
from ._policy import RetryPolicy, retry
from ._report import Recovery, RetryEvent, Target
from ._results import RetriesExhausted
from ._scope import Scope
from ._status import DEFAULT_STATUS_TABLE, StatusRule, StatusTable, is_retryable_status

__all__ = [
    "DEFAULT_STATUS_TABLE",
    "Attempt",
    "AttemptSpan",
    "Attempts",
    "Backoff",
    "BackoffStrategy",
    "DecorrelatedJitter",
    "EqualJitter",
    "Fleet",
    "FullJitter",
    "HostBudgets",
    "Instrument",
    "LoggingInstrument",
    "Recovery",
    "RetriesExhausted",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "Rng",
    "Scope",
    "StatusRule",
    "StatusTable",
    "Stop",
    "Target",
    "get_instruments",
    "is_retryable_status",
    "is_transient",
    "parse_retry_after",
    "retry",
    "set_instruments",
]
__version__ = "0.1.0"
