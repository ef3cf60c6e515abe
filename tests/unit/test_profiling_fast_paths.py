"""The faster profiling kernels give exactly what the plainer formulations they replace give:
HLL registers, stable ordinals, sorted inserts, fused numeric and categorical updates, the
in-place mix and the exact-quantile sort done once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from synthos.columns import ColumnKind, ColumnSpec
from synthos.io.hashing import hash_array, mix64, mix64_inplace
from synthos.io.number_hashes import hash_numbers, hash_temporal
from synthos.profiling.categorical import CategoricalAccumulator
from synthos.profiling.hll import Hll
from synthos.profiling.quantiles import Quantiles
from synthos.sampling import _insert_sorted, _stabilise

RNG = np.random.default_rng(17)


def _reference_registers(p: int, hashes: np.ndarray) -> np.ndarray:
    """The per-hash HLL feed: rho = 1 + leading zeros of the remaining bits (frexp), capped."""
    q = 64 - p
    rest = hashes << np.uint64(p)
    hi = np.frexp((rest >> np.uint64(32)).astype(np.float64))[1]
    lo = np.frexp((rest & np.uint64(0xFFFFFFFF)).astype(np.float64))[1]
    lz = np.where(hi > 0, 32 - hi, 64 - lo)
    registers = np.zeros(1 << p, dtype=np.uint8)
    np.maximum.at(registers, (hashes >> np.uint64(q)).astype(np.int64),
                  np.minimum(lz + 1, q + 1).astype(np.uint8))
    return registers


@pytest.mark.parametrize("p", [4, 14, 18])
def test_hll_registers_match_the_per_hash_feed(p: int) -> None:
    # GIVEN random hashes plus the edge values (all zero, all one, one bit set)
    edges = [0, 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1] + [2**k for k in range(64)]
    hashes = np.concatenate([np.array(edges, dtype=np.uint64),
                             RNG.integers(0, 2**64 - 1, 50_000, dtype=np.uint64,
                                          endpoint=True)])
    # WHEN fed in two batches
    h = Hll(p)
    h.update(hashes[:1000])
    h.update(hashes[1000:])
    # THEN the registers are those of the per-hash maximum
    assert np.array_equal(h.registers, _reference_registers(p, hashes))


def test_stabilised_argsort_equals_the_stable_one() -> None:
    for trial in range(200):
        # GIVEN keys with many ties (or none)
        n = int(RNG.integers(1, 2000))
        high = 2**62 if trial % 4 == 0 else int(RNG.integers(1, 40))
        h = RNG.integers(0, high, n).astype(np.uint64)
        # WHEN an unstable argsort is stabilised by its runs
        order = np.argsort(h)
        hs = h[order]
        starts_mask = np.concatenate(([True], hs[1:] != hs[:-1]))
        starts = np.flatnonzero(starts_mask)
        _stabilise(order, np.cumsum(starts_mask) - 1, np.diff(np.append(starts, n)))
        # THEN it is the stable argsort
        assert np.array_equal(order, np.argsort(h, kind="stable"))


def test_insert_sorted_equals_np_insert() -> None:
    # GIVEN a sorted key/count map and new sorted keys (at the ends and in between)
    keys = np.sort(RNG.choice(10_000, 3_000, replace=False)).astype(np.uint64) * np.uint64(3)
    counts = RNG.integers(1, 9, len(keys)).astype(np.int64)
    new = np.setdiff1d(np.array([0, 5, 7, 30_001, 40_000], dtype=np.uint64), keys)
    new_counts = np.arange(1, len(new) + 1, dtype=np.int64)
    pos = np.searchsorted(keys, new)
    # WHEN inserted / THEN as np.insert, and still sorted
    out_keys, out_counts = _insert_sorted(keys, counts, pos, new, new_counts)
    assert np.array_equal(out_keys, np.insert(keys, pos, new))
    assert np.array_equal(out_counts, np.insert(counts, pos, new_counts))
    assert (np.diff(out_keys.astype(np.int64)) > 0).all()


@pytest.mark.parametrize("arr", [
    pa.array([1.5, None, -0.0, 0.0, float("nan"), float("inf"), None]),
    pa.array([3, None, 2**60, -(2**60), 0], pa.int64()),
    pa.array([1, 2, 3], pa.int8()),
    pa.array([2**64 - 1, None, 5], pa.uint64()),
])
def test_hash_numbers_is_hash_array_plus_the_values(arr: pa.Array) -> None:
    # WHEN hashed with the values kept
    hashes, values, valid = hash_numbers(arr)
    # THEN the hashes are hash_array's, and the valid values are the column's
    assert np.array_equal(hashes, hash_array(arr))
    kept = values if valid is None else values[valid]
    expected = pc.drop_null(arr).to_numpy(zero_copy_only=False)
    assert np.array_equal(kept, expected, equal_nan=True)


@pytest.mark.parametrize("arr", [
    pa.array([0, None, -(10**15), 10**15], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
    pa.array([0, 19_000, None], pa.int32()).cast(pa.date32()),
    pa.array([1_000, None, 86_399_999], pa.int32()).cast(pa.time32("ms")),
    pa.array([-5, 7], pa.int64()).cast(pa.duration("s")),
])
def test_hash_temporal_is_hash_array_plus_the_stored_integers(arr: pa.Array) -> None:
    # WHEN hashed with the stored integers kept
    hashes, raw, valid = hash_temporal(arr)
    # THEN the hashes are hash_array's, the valid integers those Arrow stores
    assert np.array_equal(hashes, hash_array(arr))
    storage = arr.view(pa.int32() if arr.type.bit_width == 32 else pa.int64())
    kept = raw if valid is None else raw[valid]
    assert np.array_equal(kept, pc.drop_null(storage).to_numpy(zero_copy_only=False))


def test_mix64_inplace_is_mix64() -> None:
    # GIVEN random words / WHEN mixed in place / THEN the same words as the copying mix
    z = RNG.integers(0, 2**64 - 1, 1000, dtype=np.uint64, endpoint=True)
    expected = mix64(z)
    assert np.array_equal(mix64_inplace(z.copy()), expected)


def test_categorical_counts_match_value_counts() -> None:
    # GIVEN text with nulls and repeats, fed in two batches
    values = ["b", None, "a", "b", "c", None, "a", "b", "d"]
    acc = CategoricalAccumulator(ColumnSpec("s", ColumnKind.CATEGORICAL, "string"))
    # WHEN updated
    arr = pa.array(values)
    _, hashes = acc.update(arr)
    acc.update(pa.array(["d", None]))
    # THEN row hashes are hash_array's, counts are value_counts' in first-seen order
    assert np.array_equal(hashes, hash_array(arr))
    assert acc.freq._exact == {"b": 3, "a": 2, "c": 1, "d": 2}
    assert list(acc.freq._exact) == ["b", "a", "c", "d"]
    assert acc.distinct_result() == (4, True)
    assert acc.null_count == 3


def test_exact_quantiles_sort_once_and_stay_right() -> None:
    # GIVEN values fed in chunks
    q = Quantiles()
    x = RNG.normal(size=5_001)
    for chunk in np.array_split(x, 4):
        q.update(chunk)
    # WHEN levels and tails are read (the second read reuses the sort), then more values come
    levels, _ = q.levels()
    tails, _ = q.tails()
    assert levels is not None and tails is not None
    ordered = np.sort(x)
    # the inverted CDF: index ceil(level * 5001) - 1
    assert levels["p50"] == ordered[2500] and tails["p999"] == ordered[4995]
    q.update(np.array([1e9]))
    # THEN the new value is sorted in
    assert q.tails()[0] is not None and q.state()["exact"][-1] == 1e9
