"""What each spawned process of the fleet's multi-process tests runs (importable, as spawn requires)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

from retrykit import Fleet


def _until(start: float) -> None:
    """Start together: every process waits for the same wall-clock instant (real processes need this)."""
    delay = start - time.time()
    if delay > 0:
        time.sleep(delay)


def get(url: str) -> tuple[int, float | None]:
    """(status, the server's wait in seconds or None), with urllib and nothing else."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
            return response.status, None
    except urllib.error.HTTPError as error:
        error.read()
        wait = error.headers.get("retry-after-ms")
        ms = wait if wait is not None else str(float(error.headers.get("Retry-After", "0")) * 1000)
        return error.code, float(ms) / 1000


def see_cooldown(redis_url: str, namespace: str, start: float) -> float:
    """A paced member's wait before sending, after another process's 429 closed the key."""
    fleet = Fleet.redis(redis_url, namespace=namespace, rate=1000, burst=10, jitter=0.0)
    _until(start)
    return fleet.scope("api").before_send()


def spend_budget(redis_url: str, namespace: str, start: float, failures: int) -> list[bool]:
    """Charge the shared budget ``failures`` times; what each charge allowed."""
    scope = Fleet.redis(redis_url, namespace=namespace).scope("api")
    _until(start)
    return [scope.failed() for _ in range(failures)]


def paced_calls(redis_url: str, namespace: str, url: str, start: float, threads: int, calls: int, rate: float) -> str:
    """``threads`` threads each make ``calls`` GETs through a Redis-paced scope; JSON of statuses seen."""
    scope = Fleet.redis(redis_url, namespace=namespace, rate=rate, burst=1, jitter=0.0).scope("api")
    statuses: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(calls):
            while True:
                wait = scope.before_send()
                if wait:
                    time.sleep(wait)
                status, asked = get(url)
                with lock:
                    statuses.append(status)
                if status == 200:
                    scope.succeeded()
                    break
                scope.failed(asked)
                time.sleep(asked or 0.01)

    _until(start)
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return json.dumps(statuses)
