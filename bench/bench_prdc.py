"""Tiled ``synthos.metrics.prdc`` against clovaai ``prdc.compute_prdc`` (0.2), side by side.

    python bench/bench_prdc.py                    # 10k real x 10k fake, d=64, k=5
    python bench/bench_prdc.py --n 2000 --m 2000  # a smoke run

Seeded Gaussian data (float64): real ~ N(0, I), fake ~ N(0.1, I). Timing: the two tools run
alternately ``--repeat`` times (so both see the same machine load) and the median counts.
Memory, in one more run of each: peak bytes traced by ``tracemalloc`` (numpy reports its array
allocations) and peak RSS above the starting RSS, sampled every millisecond with psutil.
Asserts that the four numbers agree within 1e-6 and reports whether ours is >= 5x faster.

Prints a markdown table and writes ``bench/out/prdc.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import prdc as prdc_pkg
import psutil
from prdc import compute_prdc

from synthos.metrics.prdc import prdc

OUT = Path(__file__).resolve().parent / "out" / "prdc.json"
SPEEDUP_BAR = 5.0
AGREEMENT = 1e-6
MB = 2**20
Metric = Callable[[np.ndarray, np.ndarray, int], dict[str, float]]


def clovaai(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    with contextlib.redirect_stdout(io.StringIO()):  # it prints the sample sizes
        return {key: float(v) for key, v in compute_prdc(real, fake, k).items()}


def synthos(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    return prdc(real, fake, k)


def timed(fn: Metric, real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, dict]:
    start = time.perf_counter()
    out = fn(real, fake, k)
    return time.perf_counter() - start, out


def peak_memory(fn: Metric, real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    """(peak traced MB, peak RSS delta MB) of one call."""
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    tracemalloc.start()
    sampler.start()
    try:
        fn(real, fake, k)
    finally:
        done.set()
        sampler.join()
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    peak = max(peak, proc.memory_info().rss)
    return traced / MB, (peak - base) / MB


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="real points")
    ap.add_argument("--m", type=int, default=10_000, help="fake points")
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--blas-threads", type=int, default=None, help="cap BLAS threads for both (threadpoolctl)"
    )
    args = ap.parse_args()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads)

    rng = np.random.default_rng(args.seed)
    real = rng.standard_normal((args.n, args.d))
    fake = rng.standard_normal((args.m, args.d)) + 0.1
    tools: dict[str, Metric] = {"prdc.compute_prdc": clovaai, "synthos.metrics.prdc": synthos}
    for fn in tools.values():  # warm up imports, BLAS threads, caches
        fn(real[:500], fake[:500], args.k)

    load_before = os.getloadavg()
    seconds: dict[str, list[float]] = {name: [] for name in tools}
    results: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for name, fn in tools.items():
            elapsed, results[name] = timed(fn, real, fake, args.k)
            seconds[name].append(elapsed)
    memory = {name: peak_memory(fn, real, fake, args.k) for name, fn in tools.items()}
    load_after = os.getloadavg()

    ref, ours = results["prdc.compute_prdc"], results["synthos.metrics.prdc"]
    max_diff = max(abs(ref[key] - ours[key]) for key in ref)
    median = {name: statistics.median(s) for name, s in seconds.items()}
    speedup = median["prdc.compute_prdc"] / median["synthos.metrics.prdc"]
    rows = [
        {
            "tool": name,
            "seconds_median": median[name],
            "seconds_all": seconds[name],
            "peak_traced_mb": memory[name][0],
            "peak_rss_delta_mb": memory[name][1],
            "speedup": median["prdc.compute_prdc"] / median[name],
            "result": results[name],
        }
        for name in tools
    ]
    print(
        f"\nPRDC, {args.n} real x {args.m} fake, d={args.d}, k={args.k}, float64, median of "
        f"{args.repeat}; {os.cpu_count()} CPUs, BLAS threads {args.blas_threads or 'default'}, "
        f"load avg {load_before[0]:.2f} -> {load_after[0]:.2f}\n"
    )
    print("| tool | seconds | peak MB (tracemalloc) | peak RSS delta MB | speedup |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['tool']} | {row['seconds_median']:.2f} | {row['peak_traced_mb']:.0f} "
            f"| {row['peak_rss_delta_mb']:.0f} | {row['speedup']:.1f}x |"
        )
    print(
        f"\nresults agree: max |difference| = {max_diff:.2e} (bar {AGREEMENT:g}); "
        f"speedup {speedup:.1f}x (bar {SPEEDUP_BAR:g}x): "
        f"{'met' if speedup >= SPEEDUP_BAR else 'NOT met'}"
    )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "config": vars(args) | {"out": str(args.out)},
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "load_avg_before": load_before,
            "load_avg_after": load_after,
            "numpy": np.__version__,
            "prdc": getattr(prdc_pkg, "__version__", "0.2"),
        },
        "rows": rows,
        "max_abs_difference": max_diff,
        "speedup": speedup,
        "speedup_bar": SPEEDUP_BAR,
        "meets_speedup_bar": speedup >= SPEEDUP_BAR,
    }
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    assert max_diff <= AGREEMENT, f"prdc results differ by {max_diff:g}"
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
