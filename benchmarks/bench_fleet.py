"""Many workers, one API quota: no fleet, an in-process fleet per process, a Redis fleet (cooldown), Redis + pacing.

P processes x T threads each make C calls (requests sessions through retrykit's adapter) to one
local server whose capacity is a real token bucket (R requests/s, burst B), answering 429 with
Retry-After when over. Prints requests sent, 429s, the share of the server's capacity used, the
time to finish and p50/p99 call latency, per configuration, as a Markdown table.

    python benchmarks/bench_fleet.py                       # 8 x 8 x 200 calls, 200 requests/s, burst 20
    python benchmarks/bench_fleet.py --calls 25            # shorter
    REDIS_URL=redis://... python benchmarks/bench_fleet.py # an existing Redis (else a redis-server is started)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import retrykit.requests
from retrykit import Fleet, RetryPolicy
from retrykit._limited_server import RateLimitedServer

CONFIGS = ("no fleet", "in-process fleet per process", "Redis fleet: cooldown", "Redis fleet: cooldown + pacing")


def worker(config: str, url: str, redis_url: str, namespace: str, threads: int, calls: int, rate: float, start: float) -> list[float]:
    """One process: ``threads`` threads x ``calls`` calls; the latency of each call."""
    policy = RetryPolicy(max_retries=20, log=False)
    # No budget in any configuration: the comparison is of cooldown and pacing, and every call must finish.
    fleet: Fleet | None = None
    if config == CONFIGS[1]:
        fleet = Fleet(max_tokens=None)
    elif config == CONFIGS[2]:
        fleet = Fleet.redis(redis_url, namespace=namespace, max_tokens=None)
    elif config == CONFIGS[3]:
        fleet = Fleet.redis(redis_url, namespace=namespace, max_tokens=None, rate=rate * 0.97, burst=1)
    latencies: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        session = retrykit.requests.session(policy, fleet=fleet, pool_maxsize=1)
        mine = []
        for _ in range(calls):
            t0 = time.monotonic()
            response = session.get(url + "/v1/work", timeout=30)
            response.raise_for_status()
            mine.append(time.monotonic() - t0)
        with lock:
            latencies.extend(mine)

    delay = start - time.time()
    if delay > 0:
        time.sleep(delay)
    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies


def start_redis() -> tuple[str, subprocess.Popen[bytes] | None, str | None]:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], None, None
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("redis-server is not installed (apt-get install redis-server), and REDIS_URL is not set")
    folder = tempfile.mkdtemp()
    sock = os.path.join(folder, "redis.sock")
    proc = subprocess.Popen(
        [exe, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
    )
    while not os.path.exists(sock):
        time.sleep(0.01)
    return f"unix://{sock}", proc, folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()
    redis_url, proc, folder = start_redis()
    ctx = multiprocessing.get_context("spawn")
    total = args.procs * args.threads * args.calls
    print(
        f"{args.procs} processes x {args.threads} threads x {args.calls} calls = {total} calls; "
        f"server capacity {args.rate:g} requests/s, burst {args.burst}, 429 + Retry-After when over\n"
    )
    print("| configuration | requests sent | 429s | 429 share | capacity used | time to finish | p50 call | p99 call |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    try:
        for n, config in enumerate(CONFIGS):
            with RateLimitedServer(args.rate, args.burst) as server, ctx.Pool(args.procs) as pool:
                start = time.time() + 2.0  # every process imported and waiting
                jobs = [
                    pool.apply_async(worker, (config, server.url, redis_url, f"bench{n}-{start}", args.threads, args.calls, args.rate, start))
                    for _ in range(args.procs)
                ]
                latencies = [x for job in jobs for x in job.get()]
                elapsed = time.time() - start
                sent = server.served + server.limited
                capacity = args.burst + args.rate * elapsed
            p50 = statistics.median(latencies)
            p99 = statistics.quantiles(latencies, n=100)[98]
            print(
                f"| {config} | {sent:,} | {server.limited:,} | {server.limited / sent:.1%} | {server.served / capacity:.0%} | "
                f"{elapsed:.1f} s | {p50 * 1000:.0f} ms | {p99 * 1000:.0f} ms |",
                flush=True,
            )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
