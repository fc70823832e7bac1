"""Classes recognised by name: the first ``module.QualName`` along a class's MRO found in a table, cached."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

# Each cache holds its classes strongly. Past this many, the oldest entry is dropped for
# each new one, so classes made on the fly (one per client object, say) can neither grow a
# cache without bound nor empty it for everyone else (a program with more classes than the
# limit pays one MRO walk per new class, not a cold cache on every failure).
CACHE_LIMIT = 1024


class ClassCache(Generic[V]):
    """A per-class memo of ``compute(cls)``, bounded to ``limit`` entries, oldest evicted first."""

    __slots__ = ("_compute", "_limit", "values")

    def __init__(self, compute: Callable[[type], V], limit: int = CACHE_LIMIT) -> None:
        self._compute = compute
        self._limit = limit
        self.values: dict[type, V] = {}
        """The memo itself: ``values.get(cls)`` is the cheapest hit, for callers on a hot path."""

    def __call__(self, cls: type) -> V:
        try:
            return self.values[cls]
        except KeyError:
            pass
        value = self._compute(cls)
        values = self.values
        if len(values) >= self._limit:
            try:  # dicts keep insertion order: the first key is the oldest
                del values[next(iter(values))]
            except (StopIteration, KeyError, RuntimeError):  # another thread got there first
                pass
        values[cls] = value
        return value

    def __len__(self) -> int:
        return len(self.values)

    def clear(self) -> None:
        self.values.clear()


class ClassTable(ClassCache[V | None]):
    """The value of the first class on ``cls.__mro__`` whose ``module.QualName`` is a key of ``table``.

    The table is data (a new client library is a few rows); the walk happens once per class.
    """

    __slots__ = ("table",)

    def __init__(self, table: dict[str, V], limit: int = CACHE_LIMIT) -> None:
        self.table = table
        super().__init__(self._lookup, limit)

    def _lookup(self, cls: type) -> V | None:
        table = self.table
        for klass in cls.__mro__:
            value = table.get(f"{klass.__module__}.{klass.__qualname__}")
            if value is not None:
                return value
        return None

