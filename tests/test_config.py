from __future__ import annotations

import math
import pickle

import pytest

from retrykit import Backoff, RetryBudget, RetryPolicy, retry


@pytest.mark.parametrize(
    ("kwargs", "exc", "name"),
    [
        ({"max_retries": -1}, ValueError, "max_retries"),
        ({"max_retries": 2.5}, TypeError, "max_retries"),
        ({"max_retries": True}, TypeError, "max_retries"),
        ({"deadline": -1}, ValueError, "deadline"),
        ({"deadline": 0}, ValueError, "deadline"),
        ({"deadline": math.nan}, ValueError, "deadline"),
        ({"deadline": math.inf}, ValueError, "deadline"),
        ({"max_retry_after": -5}, ValueError, "max_retry_after"),
        ({"retry_after_jitter": -1}, ValueError, "retry_after_jitter"),
        ({"backoff": 1.0}, TypeError, "backoff"),
        ({"on": "ConnectionError"}, TypeError, "on"),
        ({"on": (KeyError, 3)}, TypeError, "on"),
        ({"on": int}, TypeError, "on"),
        ({"on_retry": "print"}, TypeError, "on_retry"),
        ({"on_giveup": 1}, TypeError, "on_giveup"),
        ({"sleep": None}, TypeError, "sleep"),
        ({"clock": 3}, TypeError, "clock"),
        ({"async_sleep": 3}, TypeError, "async_sleep"),
        ({"rng": 42}, TypeError, "rng"),
        ({"budget": 10}, TypeError, "budget"),
        ({"log": "yes"}, TypeError, "log"),
    ],
)
def test_bad_configuration_names_the_parameter(kwargs: dict[str, object], exc: type, name: str) -> None:
    with pytest.raises(exc, match=name):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        RetryPolicy(3)  # type: ignore[misc]


def test_replace_validates_and_leaves_the_original_alone() -> None:
    policy = retry.replace(max_retries=2)
    assert policy.max_retries == 2 and retry.max_retries == 5
    with pytest.raises(ValueError, match="max_retries"):
        retry.replace(max_retries=-1)
    with pytest.raises(TypeError, match="unknown parameter"):
        retry.replace(retries=3)


def test_policy_is_frozen() -> None:
    with pytest.raises(AttributeError, match="frozen"):
        retry.max_retries = 1  # type: ignore[misc]


def test_defaults_are_the_specs() -> None:
    assert retry.max_retries == 5 and retry.max_attempts == 6
    assert retry.backoff == Backoff(base=1.0, multiplier=2.0, cap=30.0, jitter=1.0)
    assert retry.deadline is None and retry.max_retry_after == 120.0


def test_policies_compare_and_pickle_by_value() -> None:
    assert RetryPolicy(max_retries=3) == RetryPolicy(max_retries=3)
    assert pickle.loads(pickle.dumps(Backoff(cap=9))) == Backoff(cap=9)
    assert pickle.loads(pickle.dumps(RetryPolicy(max_retries=2))).max_retries == 2


def test_repr_shows_the_configuration() -> None:
    text = repr(RetryPolicy(max_retries=2))
    assert text.startswith("RetryPolicy(max_retries=2, backoff=Backoff(")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"max_tokens": 0}, "max_tokens"), ({"token_ratio": -1}, "token_ratio"), ({"max_tokens": math.nan}, "max_tokens")],
)
def test_bad_budget_names_the_parameter(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        RetryBudget(**kwargs)


class _Preset(RetryPolicy):
    """A preset that passes every other keyword on (module level, so that it pickles)."""

    __slots__ = ()

    def __init__(self, **changes: object) -> None:
        super().__init__(**{"max_retries": 2, "log": False, **changes})  # type: ignore[arg-type]


class _Named(RetryPolicy):
    __slots__ = ("service",)

    def __init__(self, *, service: str = "api", **changes: object) -> None:
        super().__init__(**changes)  # type: ignore[arg-type]
        object.__setattr__(self, "service", service)


def test_a_subclass_that_passes_keywords_on_keeps_every_field_through_replace_pickling_and_equality() -> None:
    # Its fields are its own parameters, then those its **keywords pass on to the class it extends.
    preset = _Preset(deadline=5)
    assert pickle.loads(pickle.dumps(preset)) == preset
    assert pickle.loads(pickle.dumps(preset)).deadline == 5.0
    assert preset.replace(max_retries=4).max_retries == 4 and preset.replace(max_retries=4).deadline == 5.0
    assert preset != _Preset(deadline=6) and hash(preset) == hash(_Preset(deadline=5))
    assert "deadline=5.0" in repr(preset)
    named = _Named(service="billing", max_retries=1)
    assert _Named._fields[0] == "service"
    copy = pickle.loads(pickle.dumps(named))
    assert (copy.service, copy.max_retries) == ("billing", 1) and copy == named
    assert named.replace(service="search").service == "search" and named.replace(service="search").max_retries == 1


def test_a_subclass_with_a_constructor_of_its_own_is_still_built_by_the_class_it_extends() -> None:
    # A constructor stores its parameters by the names in its own signature, not in the subclass's.
    preset = _Preset(deadline=5)
    assert (preset.max_retries, preset.deadline, preset.log) == (2, 5.0, False)
    named = _Named(service="billing", max_retries=1)
    assert (named.service, named.max_retries, named.deadline) == ("billing", 1, None)
