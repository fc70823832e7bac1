"""typing.get_type_hints works on every public function, class and method, so beartype, pydantic and doc tools can read them."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import types
import typing
from collections.abc import Callable, Iterator

import pytest

import retrykit


def public_modules() -> list[str]:
    """retrykit and each of its modules whose dotted name has no part starting with an underscore."""
    found = ["retrykit"]
    for info in pkgutil.walk_packages(retrykit.__path__, "retrykit."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return found


def public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__
        ]
    return list(names)


# Dunders whose hints users and tools read (the rest come from object or are generated).
DUNDERS = {
    "__init__",
    "__call__",
    "__enter__",
    "__exit__",
    "__aenter__",
    "__aexit__",
    "__iter__",
    "__aiter__",
    "__next__",
    "__anext__",
}


def own_hints(cls: type) -> dict[str, object]:
    """The hints of the annotations ``cls`` itself declares (a client's base class is not ours to check)."""
    own = inspect.get_annotations(cls)
    proxy = type(cls.__name__, (), {"__annotations__": own, "__module__": cls.__module__})
    return typing.get_type_hints(proxy, localns=dict(vars(cls)))


def hints_of(name: str, obj: object) -> Iterator[tuple[str, Callable[[], object]]]:
    """(qualified name, a call reading its hints) for ``obj`` and, for a class, each of its own methods and properties."""
    if isinstance(obj, type):
        yield name, functools.partial(own_hints, obj)
        for attr, value in vars(obj).items():
            if attr.startswith("_") and attr not in DUNDERS:
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            elif isinstance(value, property):
                value = value.fget
            if inspect.isfunction(value):
                yield f"{name}.{attr}", functools.partial(typing.get_type_hints, value)
    elif inspect.isfunction(obj):
        yield name, functools.partial(typing.get_type_hints, obj)
    elif callable(obj):  # an instance used like a function, e.g. `retry`: its class carries the hints
        yield from hints_of(f"type({name})", type(obj))


@pytest.mark.parametrize("module_name", public_modules())
def test_get_type_hints_works_on_every_public_symbol(module_name: str) -> None:
    module = importlib.import_module(module_name)
    failures = []
    checked = 0
    for name in public_names(module):
        for qualified, read_hints in hints_of(f"{module_name}.{name}", getattr(module, name)):
            checked += 1
            try:
                read_hints()
            except Exception as error:
                failures.append(f"{qualified}: {type(error).__name__}: {error}")
    assert checked
    assert failures == []


def test_the_public_modules_include_every_adapter() -> None:
    assert {
        "retrykit.errors",
        "retrykit.testing",
        "retrykit.requests",
        "retrykit.httpx",
        "retrykit.aiohttp",
        "retrykit.urllib",
    } <= set(public_modules())


def test_the_backoff_strategy_protocol_is_public() -> None:
    from retrykit import Backoff, BackoffStrategy, DecorrelatedJitter, EqualJitter, FullJitter

    assert "BackoffStrategy" in retrykit.__all__
    assert getattr(BackoffStrategy, "_is_protocol", False)
    members = {n for n in vars(BackoffStrategy) if not n.startswith("_")}
    assert members
    for strategy in (Backoff, FullJitter, EqualJitter, DecorrelatedJitter):
        assert members <= set(dir(strategy)), strategy


def test_a_decorated_function_keeps_its_hints() -> None:
    @retrykit.retry
    def fetch(user_id: int, *, fields: str = "id") -> dict[str, str]:
        return {}

    @retrykit.retry(max_retries=2)
    async def afetch(user_id: int) -> bytes:
        return b""

    assert typing.get_type_hints(fetch) == {"user_id": int, "fields": str, "return": dict[str, str]}
    assert typing.get_type_hints(afetch) == {"user_id": int, "return": bytes}
