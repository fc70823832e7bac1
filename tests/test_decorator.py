from __future__ import annotations

import asyncio
import functools
import inspect

import pytest

from retrykit import Backoff, RetryPolicy, retry
from retrykit.testing import instant

from .helpers import Flaky


def test_decorator_keeps_name_doc_signature_and_wrapped() -> None:
    def fetch(user_id: int, *, verbose: bool = False) -> str:
        """Fetch a user."""
        return str(user_id)

    wrapped = retry(fetch)
    assert wrapped.__name__ == "fetch" and wrapped.__doc__ == "Fetch a user."
    assert wrapped.__wrapped__ is fetch  # type: ignore[attr-defined]
    assert inspect.signature(wrapped) == inspect.signature(fetch)
    assert wrapped(3, verbose=True) == "3"


def test_bare_and_keyword_forms() -> None:
    fn = Flaky(KeyError())

    @retry(max_retries=3, on=KeyError, backoff=Backoff(jitter=0))
    def get() -> object:
        return fn()

    with instant() as clock:
        assert get() == "ok"
    assert clock.delays == [1.0]
    assert retry() is retry
    assert isinstance(retry(max_retries=1), RetryPolicy)


def test_an_exception_class_in_place_of_a_function_suggests_on() -> None:
    with pytest.raises(TypeError, match=r"retry\(on=ValueError\)"):
        retry(ValueError)


def test_non_callables_are_rejected() -> None:
    with pytest.raises(TypeError, match="callable"):
        retry(42)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="not both"):
        retry(len, max_retries=2)  # type: ignore[call-overload]


def test_generator_functions_are_rejected_at_decoration_time() -> None:
    def gen() -> object:
        yield 1

    async def agen() -> object:
        yield 1

    with pytest.raises(TypeError, match="generator"):
        retry(gen)
    with pytest.raises(TypeError, match="generator"):
        retry(agen)


def test_a_callable_object_with_async_call_is_async() -> None:
    class Client:
        def __init__(self) -> None:
            self.calls = 0

        async def __call__(self) -> int:
            self.calls += 1
            if self.calls == 1:
                raise ConnectionResetError
            return self.calls

    wrapped = retry(Client())
    assert inspect.iscoroutinefunction(wrapped)
    with instant():
        assert asyncio.run(wrapped()) == 2


def test_partial_of_async_function_is_async() -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    wrapped = retry(functools.partial(add, 1))
    assert inspect.iscoroutinefunction(wrapped)
    assert asyncio.run(wrapped(2)) == 3


def test_methods_can_be_decorated() -> None:
    class Api:
        def __init__(self) -> None:
            self.fn = Flaky(TimeoutError())

        @retry
        def get(self) -> object:
            return self.fn()

    with instant():
        assert Api().get() == "ok"


def test_deadline_policy_decorator_measures_from_the_start() -> None:
    ticks = iter([0.0, 9.5])
    policy = RetryPolicy(backoff=Backoff(jitter=0), deadline=10, clock=lambda: next(ticks), sleep=lambda d: None)
    fn = Flaky(TimeoutError())
    with pytest.raises(TimeoutError):
        policy(fn)()
    assert fn.calls == 1
