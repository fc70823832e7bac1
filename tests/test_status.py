from __future__ import annotations

import http

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrykit import DEFAULT_STATUS_TABLE, RetryPolicy, StatusRule, StatusTable, is_retryable_status


@pytest.mark.parametrize("status", [400, 401, 402, 404, 410])
def test_spec_fatal_statuses_are_never_retried(status: int) -> None:
    assert not is_retryable_status(status)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 599])
def test_429_and_every_5xx_are_retried(status: int) -> None:
    assert is_retryable_status(status)


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_table_matches_the_specs_rule(status: int) -> None:
    # The spec's code: retry only 429 and >= 500 (and a status is 100-599).
    assert is_retryable_status(status) == (status == 429 or 500 <= status <= 599)


@given(st.one_of(st.floats(), st.text(), st.booleans(), st.none(), st.binary()))
def test_anything_that_is_not_an_int_status_is_fatal(value: object) -> None:
    assert not is_retryable_status(value)


def test_int_enums_count_as_statuses() -> None:
    assert is_retryable_status(http.HTTPStatus.SERVICE_UNAVAILABLE)
    assert not is_retryable_status(http.HTTPStatus.NOT_FOUND)


def test_hints_come_from_the_spec() -> None:
    assert DEFAULT_STATUS_TABLE[401].hint.startswith("Check that your API key is valid")
    assert DEFAULT_STATUS_TABLE[402].meaning == "Insufficient Credits"
    assert DEFAULT_STATUS_TABLE[503].hint == DEFAULT_STATUS_TABLE[500].hint
    assert DEFAULT_STATUS_TABLE.rule(418) == StatusRule(False)


def test_derived_table_leaves_the_default_alone() -> None:
    table = DEFAULT_STATUS_TABLE | {408: True, 500: False}
    assert table.is_retryable(408) and not table.is_retryable(500)
    assert table[500].hint == DEFAULT_STATUS_TABLE[500].hint  # a bool keeps the row's text
    assert not is_retryable_status(408) and is_retryable_status(500)
    assert is_retryable_status(408, table)
    assert RetryPolicy(status_table=table).status_table is table


def test_the_default_table_cannot_be_mutated() -> None:
    with pytest.raises(TypeError):
        DEFAULT_STATUS_TABLE[408] = StatusRule(True)  # type: ignore[index]
    assert not hasattr(DEFAULT_STATUS_TABLE, "__setitem__")


@pytest.mark.parametrize("rows", [{99: True}, {600: True}, {True: True}, {"500": True}])
def test_bad_table_keys_are_rejected(rows: dict[object, bool]) -> None:
    with pytest.raises(ValueError, match="100-599"):
        StatusTable(rows)  # type: ignore[arg-type]


def test_bad_table_values_are_rejected() -> None:
    with pytest.raises(TypeError, match="bool or StatusRule"):
        StatusTable({500: "yes"})  # type: ignore[dict-item]


def test_policy_rejects_a_plain_dict_as_table() -> None:
    with pytest.raises(TypeError, match="status_table"):
        RetryPolicy(status_table={408: True})  # type: ignore[arg-type]


def test_repr_is_short() -> None:
    assert repr(DEFAULT_STATUS_TABLE) == "<StatusTable: 106 rows, retries 429, 500-599>"
