"""Command line: ``python -m retrykit schedule`` (and, with the HTTP adapters, ``demo``)."""

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrykit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
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
