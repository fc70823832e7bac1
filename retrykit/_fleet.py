"""Fleet: where state shared by every caller of a key (a host, a named API) lives, in-process or in Redis."""

# No ``from __future__ import annotations`` here: FleetOptions' annotations as strings would be
# compiled one by one when the TypedDict is made, which cost most of ``import retrykit`` (0.8 ms).
import _thread
from collections import OrderedDict
from typing import Self, TypedDict, Unpack

from ._backoff import DEFAULT_RNG, Rng
from ._budget import RetryBudget
from ._config import number
from ._scope import Scope, Shared


class FleetOptions(TypedDict, total=False):
    """:class:`Fleet`'s settings, which :meth:`Fleet.redis` takes too."""

    max_tokens: float | None
    token_ratio: float
    rate: float | None
    burst: int
    jitter: float
    max_keys: int
    rng: Rng | None
    learn: bool


class Fleet:
    """Where state shared across callers lives: one :class:`Scope` per key, for every thread and event loop.

    ``Fleet()`` keeps it in this process; ``Fleet.redis(url)`` shares it with every
    process and machine pointed at the same Redis (and falls back to this process's
    state while Redis does not answer). Per key: a cooldown closed by a server's
    ``Retry-After`` until that instant for every member, an optional pace (``rate``
    requests per second, ``burst`` at once; with ``learn=True`` the adapters also set
    it from each response's quota headers, spreading the quota left until its reset),
    and a gRFC A6 retry budget of ``max_tokens`` (None: no budget). Keys are bounded:
    past ``max_keys`` the least recently used is forgotten (it starts afresh if it comes back).
    """

    __slots__ = ("max_tokens", "token_ratio", "rate", "burst", "jitter", "max_keys", "learn", "_shared", "_scopes", "_lock", "_rng")

    def __init__(
        self,
        *,
        max_tokens: float | None = 20,
        token_ratio: float = 0.1,
        rate: float | None = None,
        burst: int = 1,
        jitter: float = 1.0,
        max_keys: int = 1024,
        rng: Rng | None = None,
        learn: bool = False,
    ) -> None:
        if max_tokens is not None:
            RetryBudget(max_tokens, token_ratio)  # validates both, naming the bad one
        self.max_tokens: float | None = None if max_tokens is None else float(max_tokens)
        self.token_ratio: float = number("token_ratio", token_ratio)
        pace = _pace(rate, burst)
        self.rate: float | None = pace[0]
        self.burst: int = pace[1]
        self.jitter: float = number("jitter", jitter)
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ValueError(f"max_keys must be an int >= 1, got {max_keys!r}")
        self.max_keys: int = max_keys
        self._shared: Shared | None = None
        self._scopes: OrderedDict[str, Scope] = OrderedDict()
        self._lock = _thread.allocate_lock()  # threading's lock, without importing threading
        self._rng = rng if rng is not None else DEFAULT_RNG
        if not isinstance(learn, bool):
            raise TypeError(f"learn must be a bool, got {type(learn).__name__}")
        self.learn: bool = learn

    @classmethod
    def redis(
        cls,
        url_or_client: object,
        *,
        namespace: str = "retrykit",
        timeout: float = 0.05,
        retry_interval: float = 1.0,
        budget_ttl: int = 600,
        **options: Unpack[FleetOptions],
    ) -> Self:
        """A fleet whose state lives in Redis (``redis://``, ``rediss://``, ``unix://`` URL, or a redis-py client).

        A URL gets clients whose every operation times out after ``timeout`` seconds
        and is never retried by redis-py (a client you pass keeps its own settings).
        While Redis fails, the fleet runs on this process's state, logs one WARNING,
        and tries Redis again every ``retry_interval`` seconds. Keys live under
        ``namespace``, expire, and name hashes of the scopes, never the names.
        ``options`` are :class:`Fleet`'s.

        From async code, a URL fleet's round trips (a failure, a paced send) use its sync
        client, bounded by ``timeout``; a ``redis.asyncio`` client serves the policies'
        async faces without blocking (the HTTP adapters' failure step and the cooldown
        listener need a sync client: with an asyncio one alone they use this process's
        state, and members learn of cooldowns on paced sends).
        """
        from ._fleet_redis import RedisShared  # Redis (and redis-py) only for a Redis fleet

        fleet = cls(**options)
        fleet._shared = RedisShared(
            url_or_client, namespace=namespace, timeout=timeout, retry_interval=retry_interval, budget_ttl=budget_ttl
        )
        return fleet

    @property
    def shared(self) -> bool:
        """Whether the state is shared beyond this process (a Redis fleet)."""
        return self._shared is not None

    def close(self) -> None:
        """Stop listening for other members' cooldowns (a Redis fleet's one thread); the fleet goes on working."""
        if self._shared is not None:
            self._shared.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def scope(self, name: str, *, rate: float | None = None, burst: int | None = None) -> Scope:
        """The scope named ``name`` (created on first use); ``rate``/``burst`` override the fleet's pace for it."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        scopes = self._scopes
        with self._lock:
            scope = scopes.get(name)
            if scope is not None:
                scopes.move_to_end(name)
        if scope is not None and rate is None and burst is None:
            return scope
        pace = _pace(self.rate if rate is None else rate, self.burst if burst is None else burst)
        if scope is not None and (scope.rate, scope.burst) == pace:
            return scope
        with self._lock:
            scope = scopes.get(name)
            if scope is None or ((rate is not None or burst is not None) and (scope.rate, scope.burst) != pace):
                scope = scopes[name] = self._new_scope(name, *pace)
                while len(scopes) > self.max_keys:
                    scopes.popitem(last=False)
        return scope

    def _new_scope(self, name: str, rate: float | None, burst: int) -> Scope:
        budget = None if self.max_tokens is None else RetryBudget(self.max_tokens, self.token_ratio)
        return Scope(name, rate, burst, budget=budget, jitter=self.jitter, rng=self._rng, shared=self._shared, learns=self.learn)

    def host(self, url: object) -> Scope:
        """The scope of a URL's host and port (``https://api.example.com/v1`` -> ``api.example.com:443``)."""
        return self.scope(host_key(url))

    def __repr__(self) -> str:
        where = "in-process" if self._shared is None else repr(self._shared)
        return f"Fleet({where}, max_tokens={self.max_tokens}, rate={self.rate}, burst={self.burst}, keys={len(self._scopes)})"


def _pace(rate: object, burst: object) -> tuple[float | None, int]:
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(f"burst must be an int >= 1, got {burst!r}")
    if rate is None:
        return None, burst
    value = number("rate", rate)
    if value <= 0.0:
        raise ValueError(f"rate must be > 0 requests per second, got {rate!r}")
    return value, burst


def host_key(url: object) -> str:
    """``host:port`` of a URL, lower-cased, the scheme's default port filled in; a bare ``host:port`` as is."""
    from urllib.parse import urlsplit

    text = str(url)
    if "://" not in text:
        return text.lower()
    try:
        parts = urlsplit(text)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
        return f"{parts.hostname or ''}:{port}"
    except ValueError:
        return ""


class HostBudgets:
    """One :class:`RetryBudget` per host, created on first use: a :class:`Fleet`'s budgets, nothing else.

    gRPC keeps one budget per channel; for HTTP the closest thing is the host
    (with its port). Pass one ``HostBudgets`` to an adapter (``budgets=``) and
    every request to the same host draws on the same bucket, whichever thread or
    event loop sends it, while a failing host cannot use up another's retries.
    Past ``max_hosts`` hosts, the least recently used one is forgotten.
    """

    __slots__ = ("max_tokens", "token_ratio", "fleet")

    def __init__(self, max_tokens: float = 20, token_ratio: float = 0.1, max_hosts: int = 1024) -> None:
        self.fleet: Fleet = Fleet(max_tokens=max_tokens, token_ratio=token_ratio, jitter=0.0, max_keys=max_hosts)
        self.max_tokens: float = max_tokens
        self.token_ratio: float = token_ratio

    def for_host(self, host: str) -> RetryBudget:
        """The budget of ``host`` (``"api.example.com:443"``), created full on first use."""
        budget = self.fleet.scope(host.lower()).budget
        assert budget is not None  # the fleet always has a budget here
        return budget

    def __repr__(self) -> str:
        hosts = sorted(self.fleet._scopes)
        return f"HostBudgets(max_tokens={self.max_tokens:g}, token_ratio={self.token_ratio:g}, hosts={hosts})"
