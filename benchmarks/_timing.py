"""Timing helpers shared by the benchmarks: interleaved repeats, medians, and per-round ratios."""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable

REPEATS = 11


def measure(stmt: Callable[[], object], number: int) -> list[float]:
    """ns per call for each of REPEATS runs of `number` calls."""
    timer = timeit.Timer(stmt)
    return [t / number * 1e9 for t in timer.repeat(repeat=REPEATS, number=number)]


def measure_together(stmts: dict[str, tuple[Callable[[], object], int]]) -> dict[str, list[float]]:
    """Like :func:`measure` for several statements, taking their repeats in turn.

    These machines speed up and slow down over seconds; interleaving the repeats
    exposes every contender to the same drift, so the ratios within a run hold.
    """
    timers = {name: (timeit.Timer(stmt), number) for name, (stmt, number) in stmts.items()}
    samples: dict[str, list[float]] = {name: [] for name in stmts}
    for _ in range(REPEATS):
        for name, (timer, number) in timers.items():
            samples[name].append(timer.timeit(number) / number * 1e9)
    return samples


def report(title: str, samples: dict[str, list[float]], ref_names: dict[str, str], unit: str = "ns") -> dict[str, float]:
    """Print one row per contender with ratios to the named references; return the medians."""
    medians = {name: statistics.median(values) for name, values in samples.items()}
    refs = {label: samples[name] for label, name in ref_names.items()}
    if title:
        print(title)
    bare = ref_names.get("bare")
    for name, values in samples.items():
        print(row(name, values, {} if name == bare else refs, unit))
    return medians


def row(name: str, samples: list[float], refs: dict[str, list[float]], unit: str = "ns") -> str:
    """Median, min and max ns, and each ratio as the median of the per-round ratios.

    A round times every contender back to back, so a ratio within a round is
    immune to the machine slowing down between rounds; a ratio of the medians
    is not (one slow spell can land on more of one contender's repeats).
    """
    med = statistics.median(samples)
    ratios = "  ".join(
        f"{statistics.median(a / b for a, b in zip(samples, ref, strict=True)):6.2f}x {k}" for k, ref in refs.items()
    )
    return f"  {name:<18} median {med:>10.0f} {unit:<2}   min {min(samples):>10.0f}   max {max(samples):>10.0f}   {ratios}"
