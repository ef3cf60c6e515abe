"""Exact k-NN (k=5, d=64, N x N) with the torch backend: pair-distances per second.

    python bench/bench_gpu_knn.py                 # CUDA: N = 1,000,000; CPU: N = 20,000
    python bench/bench_gpu_knn.py --n 50000 --dtype float64

Two numbers:

a. kernel: the tile loop alone on the device (matmul of augmented rows + ``torch.topk`` +
   running top-k merge), as plain torch does it; N * N / seconds. This is the number the
   issue's 400 G pair-distances/s bar (H100) is about; a fused matmul + k-selection kernel
   (Triton/CUDA) is what it takes to get there, and it is not in this repository.
b. end to end: ``synthos.knn.knn(x, x, k, exclude_self=True, backend=TorchBackend(...))``, which
   adds the exact recomputation of the k distances (numpy) and the tie handling; and the numpy
   backend on the same points when N is at most ``--numpy-max`` (CPU comparison).

Prints a markdown table (device name included) and writes ``bench/out/gpu_knn.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from synthos.backends.torch_backend import TorchBackend
from synthos.knn import knn

OUT = Path(__file__).resolve().parent / "out"


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


def main() -> None:
    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000 if cuda else 20_000)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--tile-rows", type=int, default=8192 if cuda else 1024)
    parser.add_argument("--tile-cols", type=int, default=65536 if cuda else 8192)
    parser.add_argument("--e2e-max", type=int, default=200_000 if cuda else 20_000)
    parser.add_argument("--numpy-max", type=int, default=20_000)
    args = parser.parse_args()
    device = "cuda" if cuda else "cpu"
    name = torch.cuda.get_device_name(0) if cuda else f"CPU ({platform.processor() or 'x86'}" \
        f", {torch.get_num_threads()} threads)"
    dtype = getattr(torch, args.dtype)
    rng = np.random.default_rng(0)
    x_np = rng.normal(size=(args.n, args.d))
    x = torch.from_numpy(x_np).to(device, dtype)
    kernel_pass(x[: min(args.n, 4096)], args.k, args.tile_rows, args.tile_cols)  # warm-up
    seconds = kernel_pass(x, args.k, args.tile_rows, args.tile_cols)
    rows = [("kernel (matmul + topk tiles)", args.n, args.dtype, seconds)]
    m = min(args.n, args.e2e_max)
    be = TorchBackend(device=device, dtype=dtype)
    start = time.perf_counter()
    knn(x_np[:m], x_np[:m], args.k, exclude_self=True, backend=be)
    rows.append(("synthos.knn, torch backend", m, args.dtype, time.perf_counter() - start))
    if m <= args.numpy_max:
        start = time.perf_counter()
        knn(x_np[:m], x_np[:m], args.k, exclude_self=True, backend="numpy")
        rows.append(("synthos.knn, numpy backend", m, "float64", time.perf_counter() - start))
    _report(name, args, rows)


def _report(name: str, args: argparse.Namespace, rows: list[tuple[str, int, str, float]]
            ) -> None:
    print(f"\nexact k-NN, k={args.k}, d={args.d}, device: {name}, torch {torch.__version__}\n")
    print("| pass | N | dtype | seconds | pair-distances/s |")
    print("| --- | ---: | --- | ---: | ---: |")
    out = []
    for what, n, dtype, seconds in rows:
        rate = n * n / seconds
        print(f"| {what} | {n:,} | {dtype} | {seconds:.2f} | {rate / 1e9:.2f} G |")
        out.append({"pass": what, "n": n, "dtype": dtype, "seconds": seconds,
                    "pair_distances_per_s": rate})
    OUT.mkdir(exist_ok=True)
    (OUT / "gpu_knn.json").write_text(json.dumps({"device": name, "k": args.k, "d": args.d,
                                                  "torch": torch.__version__, "rows": out},
                                                 indent=2))


if __name__ == "__main__":
    main()
