"""The row-hash reduce, whole (``merge_all``'s count merge) vs hash-partitioned (one range).

    python bench/bench_partition_reduce.py [--states 20] [--keys 1000000] [--parts 8]

Builds ``--states`` partial states whose samplers hold ``--keys`` distinct random row hashes
each (count 1, a 20,000-pair sample), writes them in the state format, then times and traces
(``tracemalloc``: peak bytes allocated by numpy) the count merge of a reduce done whole (every
state read in full, ``merge_many``) and done range by range (each range reducer reads its
slice of every state with ``read_range_slice`` and merges it with ``reduce_range``), and the
combine (every state read without its count map, ``combine``).
"""

from __future__ import annotations

import argparse
import io
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from synthos.columns import classify_schema
from synthos.sampling import RowSampler
from synthos.shard import (
    PartialState,
    SourceInfo,
    combine,
    profile_batches,
    read_range_slice,
    reduce_range,
)
from synthos.shard.sample_merge import merge_many

SOURCE = SourceInfo("mem://bench", "parquet", 1, "0" * 64, 1)
K = 20_000


def _states(n_states: int, keys: int) -> list[bytes]:
    rng = np.random.default_rng(0)
    table = pa.table({"x": np.arange(10, dtype=np.int64)})
    out = []
    for i in range(n_states):
        state = profile_batches(table.to_batches(), SOURCE, classify_schema(table.schema),
                                sample_rows=K, seed=0, shard_index=i)
        sampler = RowSampler(K, 0)
        sampler.keys = np.unique(rng.integers(0, 2**64 - 1, keys, dtype=np.uint64))
        sampler.counts = np.ones(len(sampler.keys), dtype=np.int64)
        sampler.select(sampler.keys, np.zeros(len(sampler.keys), dtype=np.int64))
        state.sampler, state.rows = sampler, len(sampler.keys)
        out.append(state.to_bytes())
    return out


def _measure(label: str, run: Callable[[], Any]) -> Any:
    tracemalloc.start()
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"| {label} | {seconds:.2f} | {peak / 2**20:,.0f} |")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--states", type=int, default=20)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=8)
    args = parser.parse_args()
    blobs = _states(args.states, args.keys)
    print(f"{args.states} states x {args.keys:,} keys, {args.parts} ranges; "
          f"state files {sum(map(len, blobs)) / 2**20:,.0f} MiB")
    print("| step | seconds | peak MiB (tracemalloc) |\n| --- | ---: | ---: |")
    _measure("whole: read every state in full + merge_many", lambda: merge_many(
        *(PartialState.from_bytes(b).sampler for b in blobs)))
    results = []
    for part in range(args.parts):
        results.append(_measure(f"range {part}: read its slices + reduce_range", lambda p=part:
                                reduce_range([read_range_slice(io.BytesIO(b), p, args.parts)
                                              for b in blobs], p, args.parts)))
    _measure("combine: states without count maps + range results", lambda: combine(
        results, (PartialState.read_without_counts(io.BytesIO(b)) for b in blobs)))


if __name__ == "__main__":
    main()
