"""The retry-storm simulation's output: Markdown tables of the models' runs, and the load chart (SVG/PNG)."""

from __future__ import annotations

from ._backoff import Backoff
from ._simulate import SCENARIOS, FleetResult, FleetScenario, budget_refusals, occ_table, run_fleet, strategies
from ._simulate_fleet import CONFIGS, run_coordination


def fleet_table(scenario: FleetScenario, seed: int = 1) -> list[tuple[str, FleetResult]]:
    """Every strategy without a budget, with one per client, and with one shared; the no-retry baseline first."""
    rows = [("no retries (baseline)", run_fleet(scenario, Backoff(), budget=None, retries=False, seed=seed))]
    for name, backoff in strategies(1.0, 30.0).items():
        rows.append((name, run_fleet(scenario, backoff, budget=None, seed=seed)))
        rows.append((f"{name} + budget per client", run_fleet(scenario, backoff, budget="client", seed=seed)))
        rows.append((f"{name} + shared budget", run_fleet(scenario, backoff, budget="shared", seed=seed)))
    return rows


def format_fleet(scenario: FleetScenario, rows: list[tuple[str, FleetResult]]) -> str:
    base = rows[0][1]
    lines = [
        f"fleet: {scenario.name}: {scenario.clients} clients x {scenario.calls} calls, capacity {scenario.capacity}/s",
        "| strategy | requests (work) | x baseline | finished at (s) | failed for good | retries refused by budget | peak load (x baseline) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r.attempts} | {r.attempts / base.attempts:.2f} | {r.finish:.0f} | {r.failures} | {r.budget_refusals} | "
            f"{r.peak} ({r.peak / max(base.peak, 1):.2f}) |"
        )
    return "\n".join(lines)


def format_occ(table: dict[str, dict[int, tuple[float, float]]]) -> str:
    counts = sorted(next(iter(table.values())))
    head = " | ".join(f"{n} clients" for n in counts)
    lines = [
        "occ (AWS 2015 study's model): mean writes / mean ms to finish",
        f"| strategy | {head} |",
        "|---|" + "---:|" * len(counts),
    ]
    for name, row in table.items():
        cells = " | ".join(f"{row[n][0]:.0f} / {row[n][1]:.0f} ms" for n in counts)
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def write_svg(path: str, title: str, series: list[tuple[str, dict[int, int]]]) -> None:
    """A line chart of requests per second per strategy, as plain SVG."""
    width, height, pad = 900, 420, 50
    end = max((max(load, default=0) for _, load in series), default=1) + 1
    top = max((max(load.values(), default=0) for _, load in series), default=1)
    colors = ["#222", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]

    def xy(t: int, v: int) -> str:
        return f"{pad + (width - 2 * pad) * t / end:.1f},{height - pad - (height - 2 * pad) * v / top:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{pad}" y="25" font-size="15">{title}</text>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 12}">virtual seconds (0-{end})</text>',
        f'<text x="8" y="{pad - 8}">requests/s (max {top})</text>',
    ]
    for i, (name, load) in enumerate(series):
        color = colors[i % len(colors)]
        points = " ".join(xy(t, load.get(t, 0)) for t in range(end))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/>')
        parts.append(f'<text x="{width - pad - 230}" y="{pad + 16 * i}" fill="{color}">{name}</text>')
    parts.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))


def format_refusals(rates: list[float], attempts: int = 200_000, seed: int = 1) -> str:
    """Refused share per failure rate, for the default bucket (20 tokens) and gRPC's example (10)."""
    lines = [
        f"budget: share of retries a RetryBudget refuses, {attempts:,} attempts with independent failures",
        "| failure rate | " + " | ".join(f"{r:.0%}" for r in rates) + " |",
        "|---|" + "---:|" * len(rates),
    ]
    for name, tokens in (("RetryBudget() (20 tokens)", 20), ("RetryBudget(max_tokens=10)", 10)):
        cells = " | ".join(f"{budget_refusals(r, attempts, seed, max_tokens=tokens):.2%}" for r in rates)
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def format_coordination(clients: int = 1000, seed: int = 1) -> str:
    """The coordination model's table: each fleet configuration against one rate limit."""
    lines = [
        f"coordination: {clients:,} clients (8 per process) x 20 calls back to back, capacity 1,000/s, burst 100, "
        "429 + Retry-After in whole seconds",
        "| configuration | requests | 429s | capacity used | finished at (s) | p50 call (s) | p99 call (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for config in CONFIGS:
        r = run_coordination(config, clients=clients, seed=seed)
        lines.append(
            f"| {config} | {r.requests:,} | {r.limited:,} ({r.limited / r.requests:.1%}) | {r.capacity_used:.0%} | "
            f"{r.finish:.1f} | {r.percentile(50):.3f} | {r.percentile(99):.3f} |"
        )
    return "\n".join(lines)


def report(seed: int = 1, out: str | None = None, occ_runs: int = 20) -> str:
    """Every table, as Markdown; with ``out``, also the load charts (SVG, and PNG if matplotlib is there)."""
    sections = []
    for scenario in SCENARIOS.values():
        rows = fleet_table(scenario, seed)
        sections.append(format_fleet(scenario, rows))
        if out is not None and scenario.name == "outage":
            import os

            os.makedirs(out, exist_ok=True)
            chosen = [(n, r.load) for n, r in rows if "budget" not in n or n.startswith("spec")]
            write_svg(os.path.join(out, "storm-outage.svg"), "requests/s during a 30 s outage (100 clients)", chosen)
            _maybe_png(os.path.join(out, "storm-outage.png"), chosen)
    sections.append(format_occ(occ_table([10, 50, 100, 150, 190], runs=occ_runs, seed=seed)))
    sections.append(format_refusals([0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10, 0.15], seed=seed))
    sections.append(format_coordination(seed=seed))
    return "\n\n".join(sections)


def _maybe_png(path: str, series: list[tuple[str, dict[int, int]]]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for name, load in series:
        end = max(load, default=0) + 1
        ax.plot(range(end), [load.get(t, 0) for t in range(end)], label=name, linewidth=1)
    ax.set_xlabel("virtual seconds")
    ax.set_ylabel("requests/s")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
