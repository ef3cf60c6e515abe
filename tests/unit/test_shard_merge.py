"""synthos.shard: any split of the rows into shards, merged in any order, gives the same result.

Exact statistics (counts, nulls, min/max, duplicates, exact distinct counts and top values, the
sample itself) are compared exactly; moments within float tolerance; sketches within their
stated error.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthos.columns import classify_schema
from synthos.errors import EmptyDataset, EngineError, IncompatibleShardStates
from synthos.io.hashing import hash_rows
from synthos.shard import (
    PartialState,
    fill_missing,
    finalize,
    merge,
    merge_all,
    profile_batches,
)

from .shard_cases import ROWS, SOURCE, rows_table, shard_state


def _sharded(table: pa.Table, cuts: list[int], k: int, order_seed: int) -> PartialState:
    edges = [0, *sorted(set(cuts)), table.num_rows]
    parts = [table.slice(a, b - a) for a, b in itertools.pairwise(edges)]
    states = [PartialState.from_bytes(shard_state(p, k, i).to_bytes()) for i, p in enumerate(parts)]
    random.Random(order_seed).shuffle(states)
    if order_seed % 2:  # all at once (one multi-way pass)...
        states = [merge_all(states)]
    while len(states) > 1:  # ... or a random tree: join two random neighbours at a time
        j = random.Random(order_seed + len(states)).randrange(len(states) - 1)
        states[j : j + 2] = [merge(states[j], states[j + 1])]
    merged = states[0]
    fill_missing(merged, table.to_batches(max_chunksize=5))
    return merged


def _fingerprint(table: pa.Table) -> list[int]:
    return hash_rows(table, table.column_names).tolist() if table.num_rows else []


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(ROWS, min_size=1, max_size=80), k=st.integers(1, 15),
       data=st.data())
def test_any_split_in_any_order_gives_the_same_outcome(rows, k, data) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a table with many repeated rows, one unsharded state and a random split of it
    table = rows_table(rows)
    cuts = data.draw(st.lists(st.integers(1, max(1, len(rows) - 1)), max_size=6))
    whole = finalize(shard_state(table, k, batch=1000))
    # WHEN the shards are profiled, saved, loaded, merged in a random tree and finalized
    split = finalize(_sharded(table, cuts, k, data.draw(st.integers(0, 99))))
    # THEN the sample is identical row for row, and so are the exact statistics
    assert _fingerprint(split.sample) == _fingerprint(whole.sample)
    a, b = split.profile, whole.profile
    assert (a.rows, a.exact_duplicate_rows, a.sample_rows) == (b.rows, b.exact_duplicate_rows,
                                                               b.sample_rows)
    for ca, cb in zip(a.column_profiles, b.column_profiles, strict=True):
        exact = ("count", "null_count", "nan_count", "distinct_count", "min", "max",
                 "top_values", "quantiles", "constant")
        assert [getattr(ca, f) for f in exact] == [getattr(cb, f) for f in exact]
        for moment in ("mean", "std"):
            x, y = getattr(ca, moment), getattr(cb, moment)
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)
    assert [u.name for u in a.unsupported_columns] == [u.name for u in b.unsupported_columns]


def test_merge_of_heavy_cross_shard_duplicates_needs_and_gets_the_fill_pass() -> None:
    # GIVEN 4,000 rows over 300 distinct values, split into 8 shards, sample of 50
    rng = np.random.default_rng(5)
    table = pa.table({"v": rng.integers(0, 300, 4000)})
    parts = [shard_state(table.slice(500 * i, 500), 50, i, batch=256) for i in range(8)]
    # WHEN merged
    merged = merge_all(parts)
    # THEN some sampled copies belong to rows no shard kept; finalize refuses until filled
    assert len(merged.sampler.missing_hashes()) > 0
    with pytest.raises(EngineError):
        finalize(merged)
    assert fill_missing(merged, table.to_batches(max_chunksize=1000)) == 0
    whole = finalize(shard_state(table, 50, batch=4000))
    assert _fingerprint(finalize(merged).sample) == _fingerprint(whole.sample)


def test_moments_and_sketches_of_large_shards_agree_within_their_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # GIVEN 200,000 distinct normal values (beyond the exact distinct limit and, with the
    # exact-quantile cap lowered to 10,000 values, in sketch mode), 5 shards
    monkeypatch.setattr("synthos.shard.state.limit_for", lambda n: 10_000)
    rng = np.random.default_rng(0)
    x = rng.normal(10.0, 3.0, 200_000)
    table = pa.table({"x": x})
    parts = [shard_state(table.slice(40_000 * i, 40_000), 100, i, batch=65_536) for i in range(5)]
    # WHEN merged and finalized
    col = finalize(merge_all(reversed(parts))).profile.column_profiles[0]
    whole = finalize(shard_state(table, 100, batch=65_536)).profile.column_profiles[0]
    # THEN moments are exact to rounding, quantiles within the KLL rank error (99% bound),
    # the distinct count within 3 standard errors of HLL p=14 (1.04 / sqrt(2^14)), and equal
    # to the unsharded one (HLL registers merge by maximum, whatever the split)
    np.testing.assert_allclose([col.mean, col.std], [x.mean(), x.std()], rtol=1e-12)
    assert (col.min, col.max) == (x.min(), x.max())
    assert col.quantiles is not None and col.quantile_rank_error
    ordered = np.sort(x)
    for name, value in col.quantiles.items():
        rank = np.searchsorted(ordered, value, side="right") / len(x)
        assert abs(rank - int(name[1:]) / 100) <= col.quantile_rank_error
    # ... and the REQ tail quantiles within their relative rank error (float32 items)
    assert col.tail_quantiles is not None and col.tail_quantile_rank_error
    for name, value in col.tail_quantiles.items():
        level = int(name[1:]) / 10 ** (len(name) - 1)
        rank = np.searchsorted(ordered, value, side="right") / len(x)
        slack = col.tail_quantile_rank_error * min(level, 1 - level) + 1e-5  # float32 rounding
        assert abs(rank - level) <= slack, name
    assert not col.distinct_exact
    assert abs(col.distinct_count - 200_000) <= 3 * 1.04 / 2**7 * 200_000
    assert col.distinct_count == whole.distinct_count


def test_states_of_other_sources_or_seeds_do_not_merge() -> None:
    # GIVEN two states of the same rows with different seeds, and one state merged with itself
    table = rows_table([(1, 0.5, "a", True)] * 3)
    a = shard_state(table, 5, 0)
    b = profile_batches(table.to_batches(), SOURCE, classify_schema(table.schema),
                        sample_rows=5, seed=12, shard_index=1)
    # WHEN / THEN they are refused with a named error
    with pytest.raises(IncompatibleShardStates):
        merge(a, b)
    with pytest.raises(IncompatibleShardStates):
        merge(a, a)
    with pytest.raises(IncompatibleShardStates):
        merge_all([])


def test_a_state_of_no_rows_merges_as_the_identity_and_alone_is_empty() -> None:
    # GIVEN a state of 5 rows and one of no rows
    table = rows_table([(i, 0.5, "a", None) for i in range(5)])
    full, empty = shard_state(table, 3, 0), shard_state(table.slice(0, 0), 3, 1)
    # WHEN merged (both orders)
    ab, ba = finalize(merge(full, empty)), finalize(merge(empty, full))
    # THEN the result is that of the 5 rows, and the empty state alone has no rows
    assert _fingerprint(ab.sample) == _fingerprint(ba.sample) == _fingerprint(
        finalize(full).sample)
    with pytest.raises(EmptyDataset):
        finalize(shard_state(table.slice(0, 0), 3, 2))
