"""The retry-storm simulation (the same code as `python -m retrykit simulate`), tables to stdout, chart to benchmarks/out/.

Run: python benchmarks/bench_storm.py
"""

from __future__ import annotations

from retrykit._sim_report import report

if __name__ == "__main__":
    print(report(seed=1, out="benchmarks/out", occ_runs=50))
