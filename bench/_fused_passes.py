"""Pass c of ``bench_gpu_knn.py``: the fused Triton k-NN kernel (``synthos.backends.fused``).

Rows are ``(pass, queries, base, dtype, seconds, extra)``; pair-distances = queries * base.
``TRITON_INTERPRET=1`` must be set before this module is imported when there is no CUDA.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from synthos.backends.exact import pair_distances
from synthos.backends.fused.bound import error_factor
from synthos.backends.fused.search import (
    FusedConfig,
    fused_candidates,
    fused_inputs,
    fused_knn_report,
    k_slots,
    resolve_device,
)
from synthos.backends.torch_backend import TorchBackend
from synthos.knn import knn

Row = tuple[str, int, int, str, float, dict[str, Any]]

# dense tensor-core peaks, TFLOP/s (NVIDIA data sheets; H200 has the H100 SXM's compute)
PEAKS = {"H100 PCIe": (378.0, 756.0), "H100 NVL": (417.5, 835.0), "H100": (494.7, 989.4),
         "H200": (494.7, 989.4), "A100": (156.0, 312.0)}
SWEEP = [FusedConfig(128, 64, 8, 3), FusedConfig(128, 128, 8, 3), FusedConfig(64, 128, 4, 3),
         FusedConfig(256, 64, 8, 3), FusedConfig(64, 64, 4, 4)]
PRECISIONS = {"tf32": "float32 (TF32 dot)", "bf16": "bfloat16"}


def peak_tflops(device_name: str) -> tuple[float, float] | None:
    """(TF32, BF16) dense TFLOP/s for a known GPU name, else None."""
    for key in PEAKS:  # the more specific names come first
        if key in device_name:
            return PEAKS[key]
    return None


def compute_bound(device_name: str, d: int) -> dict[str, float] | None:
    """Pair-distances/s if the tensor cores did nothing but the 2 d flops of each pair."""
    peak = peak_tflops(device_name)
    if peak is None:
        return None
    return {"tf32": peak[0] * 1e12 / (2 * d), "bf16": peak[1] * 1e12 / (2 * d)}


@dataclass(frozen=True)
class Setup:
    """What every timed call of pass c shares."""

    k: int
    margin: int
    precision: str
    dev: Any
    cfg: FusedConfig

    @property
    def slots(self) -> int:
        return k_slots(self.k, self.margin)

    @property
    def label(self) -> str:
        return f"{self.cfg.as_tuple()}, K={self.slots}"


def kernel_seconds(inputs: Any, setup: Setup) -> float:
    if inputs.q_dev.is_cuda:  # the input copies are queued, not done: not the kernel's time
        torch.cuda.synchronize(inputs.q_dev.device)
    start = time.perf_counter()
    fused_candidates(inputs, setup.slots, exclude_self=True, precision=setup.precision,
                     config=setup.cfg)
    return time.perf_counter() - start


def sweep(x: np.ndarray, queries: int, setups: list[Setup]) -> tuple[Setup, list[Row]]:
    """Time each launch shape on ``queries`` rows against all of x (after one warm-up run
    that compiles it); the fastest setup and one row per setup."""
    sub = fused_inputs(x[:queries], x, same=False, precision=setups[0].precision,
                       device=setups[0].dev)
    rows: list[Row] = []
    for setup in setups:
        kernel_seconds(sub, setup)  # compile + warm-up
        secs = min(kernel_seconds(sub, setup) for _ in range(2))
        rows.append((f"c. fused kernel, sweep {setup.label}", queries, x.shape[0],
                     PRECISIONS[setup.precision], secs, {"config": setup.cfg.as_tuple()}))
    best = min(range(len(setups)), key=lambda i: rows[i][4])
    return setups[best], rows


def full_kernel(x: np.ndarray, setup: Setup) -> Row:
    """The kernel alone on all of x against itself (inputs already on the device)."""
    inputs = fused_inputs(x, x, same=True, precision=setup.precision, device=setup.dev)
    secs = kernel_seconds(inputs, setup)
    n = x.shape[0]
    return (f"c. fused kernel {setup.label}", n, n, PRECISIONS[setup.precision], secs,
            {"config": setup.cfg.as_tuple(), "k_slots": setup.slots})


def _report(x: np.ndarray, setup: Setup, fallback: Any) -> Any:
    return fused_knn_report(x, x, setup.k, exclude_self=True, margin=setup.margin,
                            precision=setup.precision, device=str(setup.dev), config=setup.cfg,
                            fallback=fallback)


def end_to_end(x: np.ndarray, setup: Setup) -> Row:
    """``fused_knn_report`` on x against itself: kernel, float64 recompute, certificate, and
    the fallback (torch float64 on the same device) for uncertified rows."""
    start = time.perf_counter()
    rep = _report(x, setup, TorchBackend(device=str(setup.dev), dtype=torch.float64))
    secs = time.perf_counter() - start
    n = x.shape[0]
    extra = {"kernel_seconds": rep.kernel_seconds, "fallback_rows": int(rep.fallback_rows.size),
             "fallback_fraction": rep.fallback_rows.size / max(n, 1),
             "config": setup.cfg.as_tuple(), "k_slots": setup.slots}
    return (f"c. fused end to end (certified exact) {setup.label}", n, n,
            PRECISIONS[setup.precision], secs, extra)


def parity(x: np.ndarray, setup: Setup) -> dict[str, Any]:
    """Fused vs the numpy backend (exact float64 brute force) on x against itself."""
    want = knn(x, x, setup.k, exclude_self=True, backend="numpy")
    got = _report(x, setup, "numpy")
    return {"precision": setup.precision, "n": x.shape[0], "k_slots": setup.slots,
            "indices_equal": bool(np.array_equal(want.indices, got.result.indices)),
            "distances_equal": bool(np.array_equal(want.distances, got.result.distances)),
            "fallback_rows": int(got.fallback_rows.size),
            "rows_differing": int(np.count_nonzero((want.indices != got.result.indices)
                                                   .any(axis=1))),
            "max_error_over_bound": error_over_bound(x, setup)}


def error_over_bound(x: np.ndarray, setup: Setup) -> float:
    """max |kernel value - exact| / bound over every candidate pair the kernel returned, on
    this hardware (must be <= 1: above 1 the error bound of ``bound`` is wrong here)."""
    inputs = fused_inputs(x, x, same=True, precision=setup.precision, device=setup.dev)
    vals, idx = fused_candidates(inputs, setup.slots, exclude_self=True,
                                 precision=setup.precision, config=setup.cfg)
    cand = idx.cpu().numpy().astype(np.int64)
    ok = cand >= 0
    safe = np.where(ok, cand, 0)
    approx = vals.cpu().numpy().astype(np.float64) + inputs.qn[:, None]
    exact = pair_distances(inputs.q[:, None, :], inputs.b[safe]) ** 2
    delta, tiny = error_factor(setup.precision, int(inputs.q_dev.shape[1]))
    slack = delta * (inputs.qn[:, None] + inputs.bn[safe]) + tiny
    return float((np.abs(approx - exact) / slack)[ok].max(initial=0.0))


def fused_pass(x: np.ndarray, args: Any, rows: list[Row], checks: list[dict[str, Any]],
               save: Callable[[], None]) -> None:
    """All of pass c, appended to ``rows`` and ``checks``: per precision a sweep, the full
    kernel with the best shape, the end to end run, and a parity check on the first
    ``args.parity_n`` points; ``save()`` after each step, so a run stopped by its time limit
    keeps what it measured."""
    dev = resolve_device(None)
    configs = SWEEP if dev.type == "cuda" else [FusedConfig(64, 64, 4, 1)]
    for precision in args.precisions:
        setups = [Setup(args.k, args.margin, precision, dev, cfg) for cfg in configs]
        best, n = setups[0], args.fused_n
        if len(setups) > 1:
            best, timed = sweep(x[:n], min(args.sweep_queries, n), setups)
            rows += timed
            save()
            n = _affordable(n, max(r[1] * r[2] / r[4] for r in timed), args.max_kernel_s)
        rows.append(full_kernel(x[:n], best))
        save()
        e2e_n = n if precision == "tf32" else min(n, args.e2e_max)
        rows.append(end_to_end(x[:e2e_n], best))
        save()
        checks.append(parity(x[: args.parity_n], best))
        save()


def _affordable(n: int, rate: float, seconds: float) -> int:
    """n, or less when n * n pairs at the best sweep rate would take over ``seconds`` (keeps
    the whole script within its GPU time if the kernel is slower than planned)."""
    fit = max(1000, int(np.sqrt(rate * seconds)) // 1000 * 1000)
    if fit >= n:
        return n
    print(f"note: N x N at {rate / 1e9:.1f} G/s would take over {seconds:.0f} s; "
          f"pass c runs N = {fit:,} instead of {n:,}")
    return fit
