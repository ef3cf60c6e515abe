"""Exact k-NN (k=5, d=64, N x N) on the GPU: pair-distances per second, three ways.

    python bench/bench_gpu_knn.py                 # CUDA: N = 1,000,000 (about 2-4 minutes)
    python bench/bench_gpu_knn.py --quick         # CPU smoke test: small N, triton interpreter
    python bench/bench_gpu_knn.py --n 50000 --dtype float64

a. kernel: the tile loop alone on the device (matmul of augmented rows + ``torch.topk`` +
   running top-k merge), as plain torch does it; N * N / seconds (the issue's baseline,
   40-45 G/s on an H100).
b. end to end: ``synthos.knn.knn(x, x, k, exclude_self=True, backend=TorchBackend(...))``, which
   adds the exact recomputation of the k distances (numpy) and the tie handling; and the numpy
   backend on the same points when N is at most ``--numpy-max`` (CPU comparison).
c. fused: the Triton kernel of ``synthos.backends.fused`` (distance tiles + running top-16 in
   registers, nothing n x m in memory), in TF32 and bf16: a sweep of launch shapes on
   ``--sweep-queries`` rows against all N, the kernel alone at N x N with the fastest shape, the
   certified-exact end to end (``fused_knn_report``: kernel + float64 recompute + certificate +
   torch float64 fallback), and a parity check against the numpy backend (exact float64 brute
   force) on the first ``--parity-n`` points. Without CUDA it runs in triton's interpreter on
   small N (a correctness smoke test; its timings mean nothing).

Prints a markdown table (device name, and the tensor-core compute bound: dense TF32/BF16
FLOP/s / (2 d) flops per pair, and the fraction of it reached) and writes
``bench/out/gpu_knn.json`` (after passes a and b and after each step of pass c, so a failed or
stopped run keeps what it measured).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synthos.backends.fused import DEFAULT_MARGIN  # no triton until called
from synthos.backends.torch_backend import TorchBackend
from synthos.knn import knn

OUT = Path(__file__).resolve().parent / "out"
Row = tuple[str, int, int, str, float, dict[str, Any]]  # pass, queries, base, dtype, s, extra


def kernel_pass(x: torch.Tensor, k: int, tile_rows: int, tile_cols: int) -> float:
    """Seconds for the exact k-NN tile loop of x (n, d) against itself, on x's device."""
    n = x.shape[0]
    sq = (x * x).sum(1, keepdim=True)
    q = torch.cat([x * -2.0, sq, torch.ones_like(sq)], 1)
    b = torch.cat([x, torch.ones_like(sq), sq], 1)
    _sync(x)
    start = time.perf_counter()
    for r0 in range(0, n, tile_rows):
        best_v = best_i = None
        for c0 in range(0, n, tile_cols):
            d = q[r0 : r0 + tile_rows] @ b[c0 : c0 + tile_cols].T
            v, i = torch.topk(d, k, dim=1, largest=False)
            i = i + c0
            if best_v is not None:
                v, j = torch.topk(torch.cat([best_v, v], 1), k, dim=1, largest=False)
                i = torch.gather(torch.cat([best_i, i], 1), 1, j)
            best_v, best_i = v, i
    _sync(x)
    return time.perf_counter() - start


def _sync(x: torch.Tensor) -> None:
    if x.is_cuda:
        torch.cuda.synchronize(x.device)


def _args(cuda: bool) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N everywhere (smoke test)")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--tile-rows", type=int, default=8192 if cuda else 1024)
    parser.add_argument("--tile-cols", type=int, default=65536 if cuda else 8192)
    parser.add_argument("--e2e-max", type=int, default=None)
    parser.add_argument("--numpy-max", type=int, default=20_000)
    parser.add_argument("--fused-n", type=int, default=None, help="N of pass c")
    parser.add_argument("--sweep-queries", type=int, default=65_536)
    parser.add_argument("--parity-n", type=int, default=None)
    parser.add_argument("--precisions", nargs="+", default=["tf32", "bf16"],
                        choices=["tf32", "bf16"])
    parser.add_argument("--margin", type=int, default=DEFAULT_MARGIN,
                        help="pass c keeps K = next power of two of k + margin candidates")
    parser.add_argument("--skip-plain", action="store_true", help="pass c only")
    parser.add_argument("--max-kernel-s", type=float, default=40.0,
                        help="shrink pass c's N if one full kernel run would take longer")
    args = parser.parse_args()
    big = cuda and not args.quick
    args.n = args.n or (1_000_000 if big else 20_000 if cuda or not args.quick else 2_000)
    args.e2e_max = args.e2e_max or (200_000 if big else min(args.n, 2_000))
    args.fused_n = min(args.n, args.fused_n or (args.n if cuda else 600))
    args.parity_n = min(args.n, args.parity_n or (20_000 if cuda else 400))
    return args


def main() -> None:
    cuda = torch.cuda.is_available()
    args = _args(cuda)
    if not cuda:  # the fused kernel can only run in triton's interpreter here
        os.environ.setdefault("TRITON_INTERPRET", "1")
    device = "cuda" if cuda else "cpu"
    name = torch.cuda.get_device_name(0) if cuda else f"CPU ({platform.processor() or 'x86'}" \
        f", {torch.get_num_threads()} threads)"
    x_np = np.random.default_rng(0).normal(size=(args.n, args.d))
    rows: list[Row] = []
    if not args.skip_plain:
        rows += _plain_passes(x_np, args, device)
    from _fused_passes import compute_bound, fused_pass  # imports triton: after the env is set

    bound = compute_bound(name, args.d)
    checks: list[dict[str, Any]] = []

    def save() -> None:  # the JSON so far: kept if pass c fails or the run is stopped
        _report(name, args, rows, checks, bound, show=False)

    save()
    try:
        fused_pass(x_np, args, rows, checks, save)
    except Exception as exc:  # recorded in the JSON and re-raised: the run fails visibly
        checks.append({"error": f"pass c failed: {exc!r}"})
        _report(name, args, rows, checks, bound)
        raise
    _report(name, args, rows, checks, bound)


def _plain_passes(x_np: np.ndarray, args: argparse.Namespace, device: str
                  ) -> list[Row]:
    """Passes a and b (module docstring)."""
    dtype = getattr(torch, args.dtype)
    x = torch.from_numpy(x_np).to(device, dtype)
    kernel_pass(x[: min(args.n, 4096)], args.k, args.tile_rows, args.tile_cols)  # warm-up
    seconds = kernel_pass(x, args.k, args.tile_rows, args.tile_cols)
    rows = [("a. kernel (matmul + topk tiles)", args.n, args.n, args.dtype, seconds, {})]
    m = min(args.n, args.e2e_max)
    be = TorchBackend(device=device, dtype=dtype)
    start = time.perf_counter()
    knn(x_np[:m], x_np[:m], args.k, exclude_self=True, backend=be)
    rows.append(("b. synthos.knn, torch backend", m, m, args.dtype,
                 time.perf_counter() - start, {}))
    if m <= args.numpy_max:
        start = time.perf_counter()
        knn(x_np[:m], x_np[:m], args.k, exclude_self=True, backend="numpy")
        rows.append(("b. synthos.knn, numpy backend", m, m, "float64",
                     time.perf_counter() - start, {}))
    return rows


def _report(name: str, args: argparse.Namespace, rows: list[Row],
            checks: list[dict[str, Any]], bound: dict[str, float] | None, *,
            show: bool = True) -> None:
    """Write bench/out/gpu_knn.json; print the table when ``show``."""
    out = []
    for what, nq, nb, dtype, seconds, extra in rows:
        rate = nq * nb / seconds
        limit = _limit(bound, dtype)
        out.append({"pass": what, "n": nq, "base": nb, "dtype": dtype, "seconds": seconds,
                    "pair_distances_per_s": rate, "fraction_of_compute_bound":
                    rate / limit if limit else None, **extra})
    OUT.mkdir(exist_ok=True)
    (OUT / "gpu_knn.json").write_text(json.dumps(
        {"device": name, "k": args.k, "d": args.d, "torch": torch.__version__,
         "compute_bound_pairs_per_s": bound, "rows": out, "parity": checks}, indent=2))
    if not show:
        return
    print(f"\nexact k-NN, k={args.k}, d={args.d}, device: {name}, torch {torch.__version__}\n")
    print("| pass | queries | base | dtype | seconds | pair-distances/s | of bound | notes |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |")
    for row in out:
        frac = row["fraction_of_compute_bound"]
        notes = ", ".join(f"{key} {row[key]:.3g}" for key in
                          ("kernel_seconds", "fallback_rows") if key in row)
        print(f"| {row['pass']} | {row['n']:,} | {row['base']:,} | {row['dtype']} | "
              f"{row['seconds']:.3f} | {row['pair_distances_per_s'] / 1e9:.2f} G | "
              f"{f'{frac:.1%}' if frac else '-'} | {notes} |")
    if bound:
        print(f"\ncompute bound (dense tensor-core FLOP/s / {2 * args.d} flops per pair): "
              f"TF32 {bound['tf32'] / 1e9:,.0f} G/s, BF16 {bound['bf16'] / 1e9:,.0f} G/s "
              f"(float32 rows are set against TF32)")
    for check in checks:
        print(f"parity vs numpy brute force: {check}")


def _limit(bound: dict[str, float] | None, dtype: str) -> float | None:
    if bound is None or dtype == "float64":
        return None
    return bound["bf16"] if "bfloat16" in dtype else bound["tf32"]  # fp32 rows run as TF32


if __name__ == "__main__":
    main()
