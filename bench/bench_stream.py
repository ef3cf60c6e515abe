"""Streaming pass over 32 numeric columns, in rows per second.

    python bench/bench_stream.py                 # 2,000,000 rows
    python bench/bench_stream.py --rows 500000

a. shard pass: ``synthos.shard.profile_shard`` over a local Parquet file planned as one shard
   (decode, per-column moments, quantiles: the first million values per column exact, the
   rest into KLL and two REQ sketches, co-moments, distinct counts, row hashes, the bottom-k
   sample): the per-shard throughput the worked estimate in docs/sharding.md starts from.
b. the same pass over record batches already in host memory (``profile_batches``): no decode;
   with torch present, once more with the co-moments on the torch backend (CUDA when present:
   what the Batch worker's ``--backend torch`` does).
c. the heavy kernels alone, numpy vs torch (CUDA when present, else the CPU): co-moments of the
   32 columns (covariance) and the sort-based count of equal row hashes, per batch.

Prints a markdown table with the machine and writes ``bench/out/stream.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from synthos.backends import NumpyBackend, merge_co_moments
from synthos.columns import classify_schema
from synthos.shard import SourceInfo, plan_shards, profile_batches, profile_shard

OUT = Path(__file__).resolve().parent / "out"
COLUMNS = 32


def make_table(rows: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(rows, COLUMNS)) @ rng.normal(size=(COLUMNS, COLUMNS))
    return pa.table({f"c{j:02d}": data[:, j] for j in range(COLUMNS)})


def shard_pass(path: Path) -> float:
    manifest = plan_shards(path, target_bytes=1 << 40, sample_rows=20_000)
    start = time.perf_counter()
    with path.open("rb") as f:
        profile_shard(manifest, 0, f)
    return time.perf_counter() - start


def memory_pass(table: pa.Table, backend: object = None) -> float:
    source = SourceInfo("mem://bench", "parquet", 0, "", COLUMNS)
    batches = table.to_batches(max_chunksize=65_536)
    start = time.perf_counter()
    profile_batches(batches, source, classify_schema(table.schema), sample_rows=20_000,
                    backend=backend)  # type: ignore[arg-type]
    return time.perf_counter() - start


def kernel_pass(x: np.ndarray, hashes: np.ndarray, backend: object) -> float:
    batch = 65_536
    start = time.perf_counter()
    merged = (0, np.zeros(COLUMNS), np.zeros((COLUMNS, COLUMNS)))
    for r0 in range(0, len(x), batch):
        merged = merge_co_moments(merged, backend.co_moments(x[r0 : r0 + batch]))  # type: ignore[attr-defined]
        backend.unique_counts(hashes[r0 : r0 + batch])  # type: ignore[attr-defined]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    table = make_table(args.rows)
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.parquet"
        pq.write_table(table, path, row_group_size=131_072)
        rows.append(("shard pass from Parquet (profile_shard)", shard_pass(path)))
    rows.append(("shard pass from host memory (profile_batches)", memory_pass(table)))
    x = np.column_stack([c.to_numpy() for c in table.columns])
    hashes = np.random.default_rng(1).integers(0, 2**63, args.rows).astype(np.uint64)
    rows.append(("kernels, numpy (co-moments + hash sort)", kernel_pass(x, hashes,
                                                                       NumpyBackend())))
    device = "cpu"
    try:
        import torch

        from synthos.backends.torch_backend import TorchBackend, default_device

        device = default_device()
        rows.append((f"kernels, torch on {device} (co-moments + hash sort)",
                     kernel_pass(x, hashes, TorchBackend(device))))
        rows.append((f"shard pass from host memory, co-moments on torch ({device})",
                     memory_pass(table, TorchBackend(device))))
    except ImportError:
        torch = None  # type: ignore[assignment]
    _report(args.rows, rows, device, torch)


def _report(n: int, rows: list[tuple[str, float]], device: str, torch: object) -> None:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    machine = f"{platform.processor() or platform.machine()}, {cpus} CPUs"
    print(f"\nstreaming pass, {n:,} rows x {COLUMNS} float64 columns, {machine}\n")
    print("| pass | seconds | rows/s |")
    print("| --- | ---: | ---: |")
    out = []
    for what, seconds in rows:
        print(f"| {what} | {seconds:.2f} | {n / seconds:,.0f} |")
        out.append({"pass": what, "seconds": seconds, "rows_per_s": n / seconds})
    OUT.mkdir(exist_ok=True)
    (OUT / "stream.json").write_text(json.dumps(
        {"rows": n, "columns": COLUMNS, "machine": machine, "device": device,
         "torch": getattr(torch, "__version__", None), "passes": out}, indent=2))


if __name__ == "__main__":
    main()
