"""The error model's status table (docs/error-model.md), as data: which HTTP statuses are retried, what they mean, how to fix them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ._config import Frozen


class StatusRule(Frozen):
    """One row of a status table: is it retried, what it means, and the error model's "How to Fix"."""

    __slots__ = ("retryable", "meaning", "hint")
    retryable: bool
    meaning: str
    hint: str

    def __init__(self, retryable: bool, meaning: str = "", hint: str = "") -> None:
        if not isinstance(retryable, bool):
            raise TypeError(f"retryable must be a bool, got {type(retryable).__name__}")
        if not isinstance(meaning, str) or not isinstance(hint, str):
            raise TypeError("meaning and hint must be str")
        self._init_fields(StatusRule, locals())


# A status that no row names is fatal: the error model's sample code retries only 429 and >= 500.
_UNLISTED = StatusRule(False)

# (status, retryable, meaning, how to fix), from ../shared/spec/error-codes.txt.
_SPEC_ROWS: tuple[tuple[int, bool, str, str], ...] = (
    (400, False, "Bad Request", "Check request body format and required fields."),
    (401, False, "Unauthorized", "Check that your API key is valid and included in the Authorization header."),
    (402, False, "Insufficient Credits", "Top up credits in the Dashboard."),
    (404, False, "Not Found", "Check the endpoint URL and any resource IDs."),
    (410, False, "Gone", "Resource has expired (e.g., an image generation task older than 30 days)."),
    (429, True, "Rate Limited", "Slow down requests and implement backoff. See Rate Limits."),
    (500, True, "Server Error", "Retry after a moment. Contact support if the issue persists."),
)

# Every other 5xx shares the 500 row's advice; these are only their usual names.
_5XX_NAMES = {
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    507: "Insufficient Storage",
    508: "Loop Detected",
    511: "Network Authentication Required",
}


def _is_status(status: object) -> bool:
    return isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599


class StatusTable(Mapping[int, StatusRule]):
    """A read-only map from HTTP status to :class:`StatusRule`.

    Statuses without a row are fatal. Derive a variant instead of mutating one::

        table = DEFAULT_STATUS_TABLE | {408: True}           # also retry 408
        policy = RetryPolicy(status_table=table)

    Values may be a bool (retryable or not, keeping any meaning and hint) or a
    full :class:`StatusRule`.
    """

    __slots__ = ("_rules", "_retryable")

    def __init__(self, rows: Mapping[int, StatusRule | bool] | None = None) -> None:
        rules: dict[int, StatusRule] = {}
        for status, value in (rows or {}).items():
            if not _is_status(status):
                raise ValueError(f"status table keys must be ints in 100-599, got {status!r}")
            if isinstance(value, bool):
                value = StatusRule(value)
            elif not isinstance(value, StatusRule):
                raise TypeError(f"status table values must be bool or StatusRule, got {type(value).__name__}")
            rules[int(status)] = value
        self._rules = rules
        self._retryable = frozenset(s for s, rule in rules.items() if rule.retryable)

    def derive(self, rows: Mapping[int, StatusRule | bool]) -> StatusTable:
        """A new table: this one with ``rows`` added or replaced (a bool keeps the old meaning and hint)."""
        merged: dict[int, StatusRule | bool] = dict(self._rules)
        for status, value in rows.items():
            old = self._rules.get(status) if _is_status(status) else None
            if isinstance(value, bool) and old is not None:
                value = old.replace(retryable=value)
            merged[status] = value
        return StatusTable(merged)

    def __or__(self, rows: object) -> StatusTable:
        if not isinstance(rows, Mapping):
            return NotImplemented
        return self.derive(rows)

    def is_retryable(self, status: object) -> bool:
        """True if ``status`` is an int in 100-599 whose row says retry."""
        if type(status) is int:  # the common case, checked first only for speed
            return status in self._retryable
        # An IntEnum such as http.HTTPStatus counts; a bool, a float or a string does not.
        return _is_status(status) and int(status) in self._retryable  # type: ignore[call-overload]

    def rule(self, status: object) -> StatusRule:
        """The row for ``status``, or a fatal rule with no hint if no row names it."""
        return self._rules.get(status, _UNLISTED) if _is_status(status) else _UNLISTED  # type: ignore[call-overload]

    def __getitem__(self, status: int) -> StatusRule:
        return self._rules[status]

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    def __hash__(self) -> int:
        return hash(frozenset(self._rules.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StatusTable):
            return self._rules == other._rules
        return super().__eq__(other)

    def __repr__(self) -> str:
        retried = sorted(self._retryable)
        return f"<StatusTable: {len(self._rules)} rows, retries {_ranges(retried)}>"

    def __reduce__(self) -> tuple[object, ...]:
        return (StatusTable, (self._rules,))


def _ranges(statuses: list[int]) -> str:
    """``[429, 500, 501, 502]`` -> ``"429, 500-502"``, for a short repr."""
    spans: list[tuple[int, int]] = []
    for s in statuses:
        if spans and spans[-1][1] == s - 1:
            spans[-1] = (spans[-1][0], s)
        else:
            spans.append((s, s))
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans) or "nothing"


def _default_rows() -> dict[int, StatusRule]:
    rows = {status: StatusRule(retry, meaning, hint) for status, retry, meaning, hint in _SPEC_ROWS}
    server = rows[500]
    for status in range(501, 600):
        rows[status] = StatusRule(True, _5XX_NAMES.get(status, "Server Error"), server.hint)
    return rows


DEFAULT_STATUS_TABLE = StatusTable(_default_rows())
"""The error model's table: 400, 401, 402, 404, 410 fatal; 429 and 500-599 retried; any other status fatal."""


def is_retryable_status(status: object, table: StatusTable | None = None) -> bool:
    """Whether ``status`` is retried under ``table`` (default: the error model's table)."""
    return (DEFAULT_STATUS_TABLE if table is None else table).is_retryable(status)
