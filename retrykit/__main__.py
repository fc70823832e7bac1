"""Command line: python -m retrykit demo | schedule | simulate, each option checked and named when wrong."""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable

from ._backoff import Backoff
from ._policy import RetryPolicy

DESCRIPTION = """\
retrykit retries flaky calls (HTTP APIs above all) the way docs/error-model.md describes:
429 and 5xx are retried with exponential backoff and jitter, Retry-After is honoured,
other 4xx fail at once with a hint saying how to fix them."""

EPILOG = 'Run "python -m retrykit COMMAND --help" for the options of a command.'

# The demo runs the error model's waits at this fraction of real time, so it ends in seconds.
DEMO_SCALE = 0.1


def number(kind: Callable[[str], float], minimum: float, *, strict: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number >= ``minimum`` (> with ``strict``); argparse names the option."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {minimum:g}, got {text}")
        return value

    return parse


def demo(args: argparse.Namespace) -> int:
    """Run the demo's parts; exit 1 if any claim it makes does not hold."""
    from ._demo import demo as run

    if args.metrics:
        return with_metrics(lambda: run(args.scale))
    return run(args.scale)


def with_metrics(run: Callable[[], int]) -> int:
    """Run with a Prometheus instrument added to the global ones, then print its metrics."""
    try:
        from .prometheus import PrometheusInstrument  # first: its ImportError names the extra to install
    except ImportError as exc:
        print(f"--metrics: {exc}", file=sys.stderr)
        return 2
    from prometheus_client import CollectorRegistry, generate_latest

    from ._instruments import get_instruments, set_instruments

    registry = CollectorRegistry()
    before = get_instruments()
    set_instruments([*before, PrometheusInstrument(registry)])
    try:
        result = run()
    finally:
        set_instruments(before)
    print("metrics, as Prometheus would scrape them:\n")
    for line in generate_latest(registry).decode().splitlines():
        if "_created" not in line.partition("{")[0]:  # creation timestamps: noise here
            print(line)
    return result


def schedule(args: argparse.Namespace) -> int:
    """Print the delays a policy would use, as a table."""
    backoff = Backoff(base=args.base, multiplier=args.multiplier, cap=args.cap, jitter=args.jitter)
    policy = RetryPolicy(max_retries=args.retries, backoff=backoff)
    delays = policy.schedule(seed=args.seed)
    print(f"retrykit schedule: {policy.max_attempts} attempts, {backoff!r}")
    print(
        f"delay after failure n = min({backoff.base:g} * {backoff.multiplier:g}**n, {backoff.cap:g})"
        f" + uniform[0, {backoff.jitter:g})"
    )
    print()
    print(
        f"{'retry':>5}  {'after failure n':>15}  {'backoff (s)':>11}  {'jitter (s)':>10}  {'delay (s)':>9}  {'waited (s)':>10}"
    )
    waited = 0.0
    for n, delay in enumerate(delays):
        base = backoff.exponential(n)
        waited += delay
        print(f"{n + 1:>5}  {n:>15}  {base:>11.3f}  {delay - base:>10.3f}  {delay:>9.3f}  {waited:>10.3f}")
    print()
    seed = "random" if args.seed is None else f"seed {args.seed}"
    worst = sum(backoff.exponential(n) + backoff.jitter for n in range(len(delays)))
    print(f"worst case waiting: {worst:.1f} s ({seed} jitter shown)")
    return 0


def simulate(args: argparse.Namespace) -> int:
    """Print the retry-storm tables and write the load chart."""
    from ._sim_report import report

    print(report(seed=args.seed, out=args.out, occ_runs=args.runs))
    if args.out:
        print(f"\ncharts written to {args.out}/storm-outage.svg (and .png when matplotlib is installed)")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line: three subcommands, every option with a help text."""
    top = argparse.ArgumentParser(
        prog="python -m retrykit",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")

    dem = commands.add_parser(
        "demo",
        help="retry calls to a local API that fails as the error model says",
        description="Call a local API on 127.0.0.1 that answers 429, 5xx, 401, 402 and dropped connections, "
        "retried by retrykit. Each part shows its code, the API's answers, the log line, the give-up note, "
        "and checks what it claims; the exit status is 1 if a claim does not hold.",
    )
    dem.add_argument(
        "--scale",
        type=number(float, 0, strict=True),
        default=DEMO_SCALE,
        metavar="FACTOR",
        help=f"run the backoff waits at this fraction of real time (default {DEMO_SCALE:g}; 1 waits for real)",
    )
    dem.add_argument(
        "--metrics",
        action="store_true",
        help='print the retries as Prometheus metrics at the end (needs pip install "retrykit[prometheus]")',
    )
    dem.set_defaults(run=demo, options={}, parser=dem)

    sched = commands.add_parser(
        "schedule",
        help="print the waits of a policy between attempts, as a table",
        description="Print the waits of a policy with exponential backoff and jitter: "
        "delay after failure n = min(base * multiplier**n, cap) + uniform[0, jitter).",
    )
    sched.add_argument(
        "--retries", type=number(int, 0), default=5, metavar="N", help="retries after the first attempt (default 5)"
    )
    sched.add_argument(
        "--base", type=number(float, 0), default=1.0, metavar="S", help="first wait in seconds (default 1)"
    )
    sched.add_argument(
        "--multiplier", type=number(float, 1), default=2.0, metavar="X", help="growth per failure (default 2)"
    )
    sched.add_argument(
        "--cap", type=number(float, 0), default=30.0, metavar="S", help="longest wait before jitter (default 30)"
    )
    sched.add_argument(
        "--jitter", type=number(float, 0), default=1.0, metavar="S", help="random seconds added, up to (default 1)"
    )
    sched.add_argument("--seed", type=int, default=None, metavar="N", help="seed the jitter for a reproducible table")
    # Library errors name parameters; the user typed options.
    sched.set_defaults(
        parser=sched,
        run=schedule,
        options={"max_retries": "--retries", **{o: f"--{o}" for o in ("base", "multiplier", "cap", "jitter")}},
    )

    sim = commands.add_parser(
        "simulate",
        help="retry storms simulated: backoff strategies and budgets compared",
        description="A seeded simulation in virtual time that drives retrykit's real strategies, budgets and "
        "engine: a fleet of clients in outages and overloads, and the optimistic-concurrency race of AWS's "
        "2015 backoff study. Prints Markdown tables.",
    )
    sim.add_argument(
        "--seed", type=int, default=1, metavar="N", help="random seed; the same seed gives the same tables (default 1)"
    )
    sim.add_argument(
        "--runs",
        type=number(int, 1),
        default=20,
        metavar="N",
        help="races averaged per cell of the race table (default 20)",
    )
    sim.add_argument(
        "--out", default=None, metavar="DIR", help="also write the outage's load chart there (SVG; PNG with matplotlib)"
    )
    sim.set_defaults(run=simulate, options={}, parser=sim)
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    try:
        result: int = args.run(args)
    except (TypeError, ValueError) as exc:
        options: dict[str, str] = args.options
        message = re.sub(r"\b\w+\b", lambda m: options.get(m.group(), m.group()), str(exc)) if options else str(exc)
        command: argparse.ArgumentParser = args.parser
        command.error(message)
    return result


if __name__ == "__main__":
    sys.exit(main())
