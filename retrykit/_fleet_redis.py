"""A fleet's state in Redis: one atomic Lua step per call, short timeouts, and failing open to in-process state.

redis-py is imported here only when ``Fleet.redis`` is called (``pip install "retrykit[redis]"``).
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

_getpid = os.getpid  # a module name, so a test can play a forked worker

# Scope names may hold anything (hosts, tenants); Redis sees only a hash of them.
KEY_HASH_CHARS = 24


def _redis() -> Any:
    try:
        import redis
        import redis.asyncio
    except ImportError as error:
        raise ImportError('Fleet.redis needs redis-py: pip install "retrykit[redis]"') from error
    return redis


def _script_text() -> str:
    from importlib.resources import files

    return files("retrykit").joinpath("_fleet.lua").read_text(encoding="utf-8")


def _seconds(value: object) -> float:
    """A duration from the script's answer; anything else is nonsense, and fails open like an outage."""
    number = float(value.decode() if isinstance(value, bytes) else value)  # type: ignore[arg-type]
    if not math.isfinite(number) or number < 0.0:
        raise ValueError(f"Redis answered a duration of {number!r}")
    return number


def parse_answer(raw: object) -> tuple[float, float, bool]:
    """(pace wait, cooldown remaining, budget allows) from the script's reply."""
    if not isinstance(raw, (list, tuple)) or len(raw) != 4:
        raise ValueError("Redis answered something other than the fleet script's reply")
    return _seconds(raw[0]), _seconds(raw[1]), int(raw[2]) == 1


class RedisShared:
    """The Redis side of a :class:`Fleet`: runs the script, and fails open while Redis does not answer."""

    def __init__(self, target: object, *, namespace: str, timeout: float, retry_interval: float, budget_ttl: int) -> None:
        redis = _redis()
        if not isinstance(namespace, str) or not namespace:
            raise ValueError(f"namespace must be a non-empty str, got {namespace!r}")
        for name, value in (("timeout", timeout), ("retry_interval", retry_interval)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if isinstance(budget_ttl, bool) or not isinstance(budget_ttl, int) or budget_ttl < 1:
            raise ValueError(f"budget_ttl must be an int >= 1 (seconds), got {budget_ttl!r}")
        self.namespace = namespace
        self.retry_interval = float(retry_interval)
        self.budget_ttl = budget_ttl
        text = _script_text()
        self._sync: Any = None
        self._async: Any = None
        if isinstance(target, str):
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            # Short timeouts and no retries inside redis-py: the fleet's own fallback is the answer to a slow Redis.
            self._sync = redis.Redis.from_url(
                target, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
            )
            self._where = "url"
        elif isinstance(target, redis.asyncio.Redis):
            self._async = target
            self._where = "asyncio client"
        elif isinstance(target, redis.Redis):
            self._sync = target
            self._where = "client"
        else:
            raise TypeError(f"url_or_client must be a Redis URL or a redis-py client, got {type(target).__name__}")
        self._script = None if self._sync is None else self._sync.register_script(text)
        self._ascript = None if self._async is None else self._async.register_script(text)
        self._lock = threading.Lock()
        self._down = False
        self._retry_at = 0.0
        self.channel = f"{namespace}:cooldowns"
        # Cooldown key -> what to tell when another member closes it (filled by watch()).
        self._watchers: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
        self._listener_pid = 0  # the process whose listener thread runs (a fork copies the fleet, not the thread)
        self.listening = threading.Event()  # set once the listener is subscribed (tests wait for it)
        self.closed = False

    def keys(self, name: str) -> list[str]:
        """The scope's three keys: namespaced, hashed, and in one Redis Cluster slot (the braces)."""
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_HASH_CHARS]
        prefix = f"{self.namespace}:{{{digest}}}"
        return [f"{prefix}:cooldown", f"{prefix}:pace", f"{prefix}:budget"]

    def watch(self, key: str, scope: Any) -> None:
        """Have ``scope.heard(seconds)`` called when any member closes ``key`` (a cooldown key).

        One daemon thread per fleet listens (on the sync client's pool, started on the
        first watch): members learn of a cooldown the moment it is closed, with no round
        trip of their own. Without a sync client there is no listener, and a member
        learns a cooldown with its next failure's round trip instead.
        """
        self._watchers[key] = scope
        self._listen()

    def _listen(self) -> None:
        """Start the listener, unless it runs in this process (a forked worker starts its own)."""
        pid = _getpid()
        if self._listener_pid != pid and self._sync is not None and not self.closed:
            with self._lock:
                if self._listener_pid != pid:
                    self._listener_pid = pid
                    self.listening.clear()
                    thread = threading.Thread(target=_listen, args=(weakref.ref(self),), name="retrykit-fleet", daemon=True)
                    thread.start()

    def heard(self, data: object) -> None:
        """A published cooldown: ``"<cooldown key> <seconds>"``; anything else is ignored."""
        try:
            key, _, seconds = (data.decode() if isinstance(data, bytes) else str(data)).partition(" ")
            wait = _seconds(seconds)
        except (ValueError, UnicodeDecodeError):
            return
        scope = self._watchers.get(key)
        if scope is not None:
            scope.heard(wait)

    def close(self) -> None:
        """Stop listening (the thread ends within a second); the fleet still works, learning on failure."""
        self.closed = True

    def _args(self, args: tuple[object, ...]) -> list[object]:
        return [*(repr(float(a)) if isinstance(a, float) else a for a in args), self.budget_ttl, self.channel]

    def run(self, keys: list[str] | None, args: tuple[object, ...]) -> tuple[float, float, bool] | None:
        """One step in Redis; None when Redis is away (the caller uses its own state)."""
        if self._script is None or self._resting():
            return None
        if self._listener_pid != _getpid() and self._watchers:
            self._listen()  # a worker forked after the fleet was made: listen here too
        try:
            answer = parse_answer(self._script(keys=keys, args=self._args(args), client=self._sync))
        except Exception as error:  # any failure of Redis or of its answer: fail open, never into the call
            self._went_down(error)
            return None
        self._came_back()
        return answer

    async def arun(self, keys: list[str] | None, args: tuple[object, ...]) -> tuple[float, float, bool] | None:
        """:meth:`run` with the asyncio client; without one, the sync client (bounded by its timeout)."""
        if self._ascript is None:
            return self.run(keys, args)
        if self._resting():
            return None
        try:
            answer = parse_answer(await self._ascript(keys=keys, args=self._args(args), client=self._async))
        except Exception as error:  # as in run(): fail open
            self._went_down(error)
            return None
        self._came_back()
        return answer

    def _resting(self) -> bool:
        return self._down and time.monotonic() < self._retry_at

    def _went_down(self, error: Exception) -> None:
        with self._lock:
            first = not self._down
            self._down = True
            self._retry_at = time.monotonic() + self.retry_interval
        if first:  # one WARNING per outage, not one per call; the type only (a message may hold the URL)
            _log().warning(
                "retrykit: the fleet's Redis failed (%s); using this process's own state, trying Redis again every %g s",
                type(error).__name__,
                self.retry_interval,
            )

    def _came_back(self) -> None:
        if self._down:
            with self._lock:
                was_down, self._down = self._down, False
            if was_down:
                _log().info("retrykit: the fleet's Redis answers again; state is shared again")

    def __repr__(self) -> str:
        return f"redis {self._where}, namespace={self.namespace!r}"


def _log() -> Any:
    import logging

    return logging.getLogger("retrykit")


def _listen(ref: Callable[[], RedisShared | None]) -> None:
    """The listener thread: holds the fleet only weakly, so a fleet nobody uses any more ends it."""
    while True:
        shared = ref()
        if shared is None or shared.closed:
            return
        interval = shared.retry_interval
        try:
            pubsub = shared._sync.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(shared.channel)
            pubsub.get_message(timeout=1.0)  # the subscription's confirmation: from here on, nothing is missed
            shared.listening.set()
        except Exception:  # Redis away: listen again later, as the fleet's other steps do
            del shared
            time.sleep(interval)
            continue
        del shared
        try:
            while True:
                message = pubsub.get_message(timeout=1.0)
                shared = ref()
                if shared is None or shared.closed:
                    return
                if message is not None and message.get("type") == "message":
                    shared.heard(message.get("data"))
                del shared
        except Exception:
            time.sleep(interval)
        finally:
            shared = ref()
            if shared is not None:
                shared.listening.clear()
            del shared
            try:
                pubsub.close()
            except Exception:
                pass
