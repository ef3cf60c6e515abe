"""Column accumulators refuse, at load, partial states whose values are out of range.

Each case forges a correctly signed state (digests recomputed: ``_forge`` re-signs an edited
header, ``_reencode`` re-encodes an edited tree) whose content no profile pass can produce,
and checks that ``PartialState.from_bytes`` refuses it with CorruptShardState rather than
loading it for ``finalize`` to fail on later with another error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import datasketches as ds
import numpy as np
import pyarrow as pa
import pytest

from synthos.columns import classify_schema
from synthos.errors import CorruptShardState
from synthos.shard import PartialState, SourceInfo, codec, finalize, profile_batches

from .test_shard_partition import _forge

N = 300
SOURCE = SourceInfo("mem://ranges", "parquet", 1, "0" * 64, 8)


def _table() -> pa.Table:
    rng = np.random.default_rng(5)
    x = rng.normal(size=N)
    x[::50] = np.nan
    return pa.table({
        "x": pa.array(x, mask=np.arange(N) % 37 == 0),
        "y": pa.array(rng.normal(size=N)),
        "s": pa.array([f"v{i % 9}" for i in range(N)], mask=np.arange(N) % 41 == 0),
        "b": pa.array(rng.random(N) < 0.4),
        "ts": pa.array(np.arange(N).astype("datetime64[s]")),
        "t": pa.array([dt.time(i % 24, i % 60) for i in range(N)], pa.time64("us")),
        "e": pa.array([[float(i), 1.0, -2.0] for i in range(N)], pa.list_(pa.float64(), 3)),
    })


def _state_bytes(quantile_limit: int | None = None) -> bytes:
    table = _table()
    state = profile_batches(table.to_batches(max_chunksize=64), SOURCE,
                            classify_schema(table.schema), sample_rows=50, seed=2,
                            quantile_limit=quantile_limit)
    return state.to_bytes()


EXACT, SKETCHED = _state_bytes(), _state_bytes(quantile_limit=100)


def _reencode(blob: bytes, edit: Callable[[Any], None]) -> bytes:
    """``blob`` decoded, edited by ``edit(tree)`` and encoded again (every digest new)."""
    tree = codec.decode(blob)
    edit(tree)
    return codec.encode(tree)


def _header(path: str, value: Any) -> Callable[[bytes], bytes]:
    """Forge: set the header's state field at ``path`` (dotted) to ``value``."""
    *parents, last = path.split(".")

    def edit(header: dict[str, Any]) -> None:
        node = header["state"]
        for key in parents:
            node = node[key]
        node[last] = value

    return lambda blob: _forge(blob, edit)


def _tree(path: str, make: Callable[[Any], Any]) -> Callable[[bytes], bytes]:
    """Re-encode: replace the tree value at ``path`` (dotted) by ``make(old value)``."""
    *parents, last = path.split(".")

    def edit(tree: dict[str, Any]) -> None:
        node = tree
        for key in parents:
            node = node[key]
        node[last] = make(node[last])

    return lambda blob: _reencode(blob, edit)


def _kll_of(n: int) -> bytes:
    sketch = ds.kll_doubles_sketch(200)
    sketch.update(np.linspace(-1.0, 1.0, n))
    return sketch.serialize()


def _negative_variance(cross: np.ndarray) -> np.ndarray:
    out = cross.copy()
    out[0, 0] = -1.0
    return out


CASES: dict[str, tuple[bytes, Callable[[bytes], bytes]]] = {
    # every kind: counts
    "null count above count": (EXACT, _header("columns.y.null_count", N + 1)),
    "negative count": (EXACT, _header("columns.y.count", -1)),
    "more distinct values than rows": (
        EXACT, _tree("columns.y.distinct.exact", lambda _: np.arange(N + 5, dtype=np.uint64))),
    "column count beyond the rows": (EXACT, _header("rows", N - 1)),
    # numeric: moments, NaN/inf counts, quantiles, sketches
    "numeric: negative moment count": (EXACT, _header("columns.y.moments.n", -1)),
    "numeric: moments of nothing hold a mean": (
        EXACT, _tree("columns.y", lambda c: {**c, "moments": {**c["moments"], "n": 0}})),
    "numeric: negative m2": (EXACT, _header("columns.y.moments.m2", -3.0)),
    "numeric: NaN count does not add up": (EXACT, _header("columns.x.nan_count", 1)),
    "numeric: negative inf count": (EXACT, _header("columns.x.inf_count", -1)),
    "numeric: infinite quantile value": (
        EXACT, _tree("columns.y.quantiles.exact",
                     lambda v: np.concatenate((v[:-1], [np.inf])))),
    "numeric: quantile values beyond max": (
        EXACT, _tree("columns.y.quantiles.exact", lambda v: v + 1.0)),
    "numeric: KLL of another count": (SKETCHED, _tree("columns.y.quantiles.kll",
                                                      lambda _: _kll_of(N - 1))),
    "numeric: sketched within its cap": (SKETCHED, _header("columns.y.quantiles.limit", N)),
    "numeric: REQ with trailing bytes": (
        SKETCHED, _tree("columns.y.quantiles.req_hi", lambda b: b + b"\0" * 4)),
    # datetime
    "datetime: raw max beyond int64": (EXACT, _header("columns.ts.raw_max", 2**70)),
    "datetime: raw min above raw max": (EXACT, _header("columns.ts.raw_min", N + 10)),
    "datetime: time past midnight": (EXACT, _header("columns.t.raw_max", 86_400 * 10**6)),
    "datetime: moments miss values": (EXACT, _header("columns.ts.null_count", 3)),
    # categorical and boolean
    "categorical: counts do not add up": (EXACT, _header("columns.s.null_count", 0)),
    "categorical: repeated value": (
        EXACT, _tree("columns.s.freq.values", lambda v: [v[0], *v[:-1]])),
    "categorical: zero count": (
        EXACT, _tree("columns.s.freq.counts", lambda c: np.concatenate(([0], c[1:])))),
    "boolean: negative true count": (EXACT, _header("columns.b.true", -5)),
    "boolean: counts above the rows": (EXACT, _header("columns.b.false", N)),
    # embedding
    "embedding: dim beyond Arrow": (EXACT, _header("columns.e.dim", 2**70)),
    "embedding: dim unlike the column type": (EXACT, _header("columns.e.dim", 4)),
    "embedding: negative NaN count": (EXACT, _header("columns.e.nan_count", -1)),
    "embedding: more NaN than cells": (EXACT, _header("columns.e.nan_count", 3 * N + 1)),
    # co-moments
    "co-moments: negative variance": (EXACT, _tree("co_moments.cross", _negative_variance)),
    "co-moments: more rows than the state": (EXACT, _header("co_moments.n", N + 1)),
}


def test_the_unforged_states_load_and_finalize() -> None:
    # GIVEN the states every case starts from / WHEN read back and finalized
    for blob in (EXACT, SKETCHED):
        outcome = finalize(PartialState.from_bytes(blob))
        # THEN every column is measured
        assert len(outcome.profile.column_profiles) == 7
        assert outcome.profile.rows == N
    # AND re-signing an unchanged header or re-encoding an unchanged tree changes nothing
    assert PartialState.from_bytes(_forge(EXACT, lambda h: None)).rows == N
    assert PartialState.from_bytes(_reencode(SKETCHED, lambda t: None)).rows == N


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_out_of_range_state_is_refused_at_load(case: str) -> None:
    # GIVEN a well-signed state holding a value no profile pass produces
    blob, forge = CASES[case]
    forged = forge(blob)
    # WHEN read / THEN refused by name, before finalize could fail on it
    with pytest.raises(CorruptShardState):
        PartialState.from_bytes(forged)


WRONG_SIZE_BLOBS: dict[str, tuple[bytes, Callable[[bytes], bytes]]] = {
    "KLL with 8 bytes more": (SKETCHED, _tree("columns.y.quantiles.kll", lambda b: b + b"\0" * 8)),
    "KLL cut by 8 bytes": (SKETCHED, _tree("columns.y.quantiles.kll", lambda b: b[:-8])),
    "HLL registers of another precision": (
        EXACT, _tree("columns.y.distinct", lambda _: {"hll_p": 14,
                                                      "hll": np.zeros(1 << 12, np.uint8)})),
}


@pytest.mark.parametrize("case", sorted(WRONG_SIZE_BLOBS))
def test_a_sketch_of_the_wrong_size_is_refused_at_load(case: str) -> None:
    # GIVEN a well-signed state whose sketch bytes or registers have the wrong size
    # (refused before these range checks too: by the KLL binding and the HLL constructor)
    blob, forge = WRONG_SIZE_BLOBS[case]
    # WHEN read / THEN refused by name
    with pytest.raises(CorruptShardState):
        PartialState.from_bytes(forge(blob))
