"""Command line: ``python -m retrykit demo`` (retries against a local flaky API) and ``schedule``."""

from __future__ import annotations

import argparse
import sys

from ._backoff import Backoff
from ._policy import RetryPolicy


def schedule(args: argparse.Namespace) -> int:
    """Print the delays a policy would use, as a table."""
    backoff = Backoff(base=args.base, multiplier=args.multiplier, cap=args.cap, jitter=args.jitter)
    policy = RetryPolicy(max_retries=args.retries, backoff=backoff)
    delays = policy.schedule(seed=args.seed)
    print(f"retrykit schedule: {policy.max_attempts} attempts, {backoff!r}")
    print(f"delay after failure n = min({backoff.base:g} * {backoff.multiplier:g}**n, {backoff.cap:g}) + uniform[0, {backoff.jitter:g})")
    print()
    print(f"{'retry':>5}  {'after failure n':>15}  {'backoff (s)':>11}  {'jitter (s)':>10}  {'delay (s)':>9}  {'waited (s)':>10}")
    waited = 0.0
    for n, delay in enumerate(delays):
        base = backoff.exponential(n)
        waited += delay
        print(f"{n + 1:>5}  {n:>15}  {base:>11.3f}  {delay - base:>10.3f}  {delay:>9.3f}  {waited:>10.3f}")
    print()
    seed = "random" if args.seed is None else f"seed {args.seed}"
    print(f"worst case waiting: {sum(backoff.exponential(n) + backoff.jitter for n in range(len(delays))):.1f} s ({seed} jitter shown)")
    return 0


# The demo runs the spec's schedule at this fraction of real time, so it ends in seconds.
DEMO_SCALE = 0.1


def demo(args: argparse.Namespace) -> int:
    """Call a local server that fails like the spec's API, with the standard library only."""
    import time
    import urllib.request

    from ._report import RetryEvent
    from .errors import APIError
    from .testing import FlakyServer, Reply
    from .urllib import urlopen

    scale = args.scale
    backoff = Backoff(base=1.0 * scale, cap=30.0 * scale, jitter=1.0 * scale)

    def show(event: RetryEvent) -> None:
        print(f"    attempt {event.attempt}/{event.max_attempts} failed: {event.reason}; waiting {event.delay:.2f} s")

    policy = RetryPolicy(backoff=backoff, retry_after_jitter=1.0 * scale, on_retry=show, log=False)
    script = [
        Reply.error(429, "Rate limit exceeded. Please slow down.", type="rate_limit_error", code="rate_limit_exceeded", retry_after=1),
        Reply.error(500, "Internal error", type="server_error", code="internal_error"),
        Reply.dropped(),
        Reply.error(503, "Overloaded", type="server_error", code="overloaded"),
        Reply(200, {"id": "task-1", "status": "done"}),
        Reply.error(401, "Invalid API key", type="authentication_error", code="invalid_api_key"),
        Reply.error(402, "Insufficient credits", type="billing_error", code="insufficient_credits"),
        Reply.error(503, "Overloaded", type="server_error", code="overloaded"),
        Reply(200, {"id": "img-7", "status": "queued"}),
    ]
    print(f"retrykit demo: a local API on 127.0.0.1 that fails like the spec says; backoff scaled to {scale:g}x real time")
    print(f"policy: {policy.max_attempts} attempts, delay = min({backoff.base:g} * 2**n, {backoff.cap:g}) + uniform[0, {backoff.jitter:g}) s; Retry-After honoured as sent\n")
    outcomes: list[str] = []
    started = time.monotonic()
    with FlakyServer(script) as server:
        calls = [
            ("GET /v1/tasks/task-1 (429, 500, dropped connection, 503, then 200)", "GET", "/v1/tasks/task-1", None),
            ("GET /v1/tasks/task-2 with a bad API key (401)", "GET", "/v1/tasks/task-2", None),
            ("POST /v1/images (402: out of credits)", "POST", "/v1/images", b'{"prompt": "a cat"}'),
            ("POST /v1/images with an idempotency key (503, then 200)", "POST", "/v1/images", b'{"prompt": "a cat"}'),
        ]
        for title, method, path, body in calls:
            print(f"-> {title}")
            request = urllib.request.Request(
                server.url + path, data=body, method=method, headers={"Authorization": "Bearer sk-demo-not-shown"}
            )
            t0 = time.monotonic()
            try:
                with urlopen(request, timeout=5, policy=policy, raise_for_status=True, idempotency_keys=True) as response:
                    text = response.read().decode()
                print(f"    OK {response.status} after {time.monotonic() - t0:.2f} s: {text}")
                outcomes.append("ok")
            except APIError as error:
                print(f"    gave up: {type(error).__name__}: {error}")
                print(f"    how to fix: {error.hint}")
                outcomes.append(type(error).__name__)
            print()
        keys = {r.header("Idempotency-Key") for r in server.requests[-2:]}
        total = len(server.requests)
    print(f"summary: {len(calls)} calls, {total} HTTP requests, {time.monotonic() - started:.1f} s in all")
    print(f"  outcomes: {', '.join(outcomes)}")
    print(f"  the retried POST sent one Idempotency-Key on both attempts: {len(keys) == 1}")
    print("  fatal statuses (401, 402) made exactly one request each; no header value was ever printed or logged")
    return 0


def simulate(args: argparse.Namespace) -> int:
    """Print the retry-storm tables and write the load chart."""
    from ._simulate import report

    print(report(seed=args.seed, out=args.out, occ_runs=args.runs))
    if args.out:
        print(f"\ncharts written to {args.out}/storm-outage.svg (and .png when matplotlib is installed)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrykit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    dem = commands.add_parser("demo", help="retry calls to a local server that fails like the spec's API")
    dem.add_argument("--scale", type=float, default=DEMO_SCALE, help=f"backoff time scale (default {DEMO_SCALE:g})")
    dem.set_defaults(run=demo)
    sim = commands.add_parser("simulate", help="retry-storm simulation: strategies and budgets compared")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--runs", type=int, default=20, help="races averaged per cell of the OCC table")
    sim.add_argument("--out", default=None, help="folder for the load chart (SVG, PNG with matplotlib)")
    sim.set_defaults(run=simulate)
    sched = commands.add_parser("schedule", help="print the default backoff schedule as a table")
    sched.add_argument("--retries", type=int, default=5, help="max_retries (default 5)")
    sched.add_argument("--base", type=float, default=1.0)
    sched.add_argument("--multiplier", type=float, default=2.0)
    sched.add_argument("--cap", type=float, default=30.0)
    sched.add_argument("--jitter", type=float, default=1.0)
    sched.add_argument("--seed", type=int, default=None, help="seed the jitter for a reproducible table")
    sched.set_defaults(run=schedule)
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    return result


if __name__ == "__main__":
    sys.exit(main())
