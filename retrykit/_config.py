"""Immutable configuration objects: the frozen base class and parameter validation."""

from __future__ import annotations

import math
from typing import Any, Protocol, Self


class SupportsTotalSeconds(Protocol):
    """A duration object: ``datetime.timedelta``, or anything else with ``total_seconds()``."""

    def total_seconds(self) -> float:
        """The duration in seconds."""
        ...


# A duration parameter: seconds, or a timedelta. Duck-typed, so retrykit never imports
# datetime (it costs more than all of retrykit at start-up) and the hint resolves at run time.
Duration = float | SupportsTotalSeconds


_CO_VARKEYWORDS = 0x08  # inspect.CO_VARKEYWORDS, without importing inspect


class Frozen:
    """A slotted value object whose fields cannot change after ``__init__``.

    Hand-written rather than ``dataclasses`` because importing ``dataclasses`` pulls
    in ``inspect`` and costs more than all of retrykit at start-up.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    """The constructor's parameters, in order: what ``replace``, ``repr``, ``==`` and pickling use."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:  # the field list is the signature, written once
            code = init.__code__
            fields = code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount]
            if code.co_flags & _CO_VARKEYWORDS:  # a subclass passing **keywords on: the base's fields are its own too
                fields += tuple(name for name in cls._fields if name not in fields)
            cls._fields = fields

    def _init(self, **values: Any) -> None:
        """Set these slots: a constructor's last step, where its values have names of their own."""
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _init_fields(self, owner: type[Frozen], params: dict[str, Any], /, **derived: Any) -> None:
        """Set every field of ``owner`` from ``params``, then the ``derived`` slots (those no parameter names).

        ``owner`` is the class whose constructor is running: its fields are that constructor's
        parameters, where ``self``'s own class may be a subclass with a constructor (and fields)
        of its own. ``params`` is the constructor's ``locals()``, taken once each parameter
        holds its validated value: the field list stays the signature, written once.
        """
        for name in owner._fields:
            object.__setattr__(self, name, params[name])
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name!r}; use .replace({name}=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    def _asdict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fields}

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed, validated like a new object."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__}.replace() got unknown parameter(s): {', '.join(sorted(unknown))}")
        return type(self)(**{**self._asdict(), **changes})

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._fields)

    def __hash__(self) -> int:
        return hash((type(self), *(getattr(self, n) for n in self._fields)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._asdict()))


def _rebuild(cls: type[Frozen], values: dict[str, Any]) -> Frozen:
    return cls(**values)


def number(name: str, value: object, *, minimum: float = 0.0) -> float:
    """``value`` as a finite float >= ``minimum``, or a clear error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if result < minimum:
        raise ValueError(f"{name} must be >= {minimum:g}, got {value!r}")
    return result


def duration(name: str, value: object, *, minimum: float = 0.0) -> float:
    """A duration given as seconds or as a ``datetime.timedelta``, as finite float seconds >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        total_seconds = getattr(value, "total_seconds", None)
        if not callable(total_seconds):
            raise TypeError(f"{name} must be a number of seconds or a datetime.timedelta, got {type(value).__name__}")
        value = total_seconds()
    return number(name, value, minimum=minimum)


def optional_duration(name: str, value: object, *, minimum: float = 0.0) -> float | None:
    """Like :func:`duration`, but None stays None (meaning "no limit")."""
    return None if value is None else duration(name, value, minimum=minimum)


def optional_number(name: str, value: object, *, minimum: float = 0.0) -> float | None:
    """Like :func:`number`, but None stays None (meaning "no limit")."""
    return None if value is None else number(name, value, minimum=minimum)


def count(name: str, value: object) -> int:
    """``value`` as a non-negative int, or a clear error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return int(value)


def callable_or_none(name: str, value: object) -> Any:
    """``value`` if it is callable or None, else a ``TypeError`` naming ``name``."""
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {type(value).__name__}")
    return value
