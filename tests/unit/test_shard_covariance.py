"""Co-moments of the numeric columns in the partial state: hand-checked, numpy-checked, and the
same (to 1e-9 relative) for any split of the rows merged in any order."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthos.columns import classify_schema
from synthos.profiling.covariance import MAX_COVARIANCE_COLUMNS, CoMomentAccumulator
from synthos.shard import PartialState, SourceInfo, finalize, merge_all, profile_batches

SOURCE = SourceInfo("mem://c", "parquet", 1, "0" * 64, 4)


def _state(table: pa.Table, index: int = 0, batch: int = 5) -> PartialState:
    return profile_batches(table.to_batches(max_chunksize=batch), SOURCE,
                           classify_schema(table.schema), sample_rows=10, seed=3,
                           shard_index=index)


def test_hand_computed_covariance_over_complete_rows() -> None:
    # GIVEN x = 1, 2, 3, 4, 9 and y = 2, 4, 5, NaN, null (rows 4, 5 incomplete), a text column
    table = pa.table({"x": [1.0, 2.0, 3.0, 4.0, 9.0],
                      "y": pa.array([2.0, 4.0, 5.0, float("nan"), None]),
                      "s": ["a", "b", "c", "d", "e"]})
    # WHEN profiled
    state = _state(table, batch=2)
    profile = finalize(state).profile
    # THEN the complete rows (1,2), (2,4), (3,5): means 2 and 11/3; centred sums
    # Sxx = 2, Syy = 42/9 = 14/3, Sxy = (-1)(-5/3) + 0 + (1)(4/3) = 3; r = 3 / sqrt(2 * 14/3)
    co = state.co_moments
    assert co is not None and co.columns == ["x", "y"] and co.n == 3
    np.testing.assert_allclose(co.mean, [2.0, 11 / 3], rtol=1e-15)
    np.testing.assert_allclose(co.cross, [[2.0, 3.0], [3.0, 14 / 3]], rtol=1e-14)
    corr = profile.correlation
    assert corr is not None and corr.columns == ["x", "y"] and corr.rows == 3
    np.testing.assert_allclose(corr.matrix, [[1.0, 3 / np.sqrt(28 / 3)],
                                             [3 / np.sqrt(28 / 3), 1.0]], rtol=1e-14)
    np.testing.assert_allclose(corr.stds, [np.sqrt(2 / 3), np.sqrt(14 / 9)], rtol=1e-14)


def test_constant_column_has_no_correlation_and_one_column_keeps_none() -> None:
    # GIVEN a constant numeric column next to a varying one, and a table of one numeric column
    two = pa.table({"x": [1.0, 2.0, 4.0], "k": [5.0, 5.0, 5.0]})
    one = pa.table({"x": [1.0, 2.0, 4.0], "s": ["a", "b", "c"]})
    # WHEN profiled
    corr = finalize(_state(two)).profile.correlation
    # THEN the constant column's row and column are null, the other's diagonal is 1
    assert corr is not None and corr.matrix == [[1.0, None], [None, None]]
    assert corr.stds[1] == 0.0
    assert _state(one).co_moments is None and finalize(_state(one)).profile.correlation is None


def test_too_many_numeric_columns_are_skipped_with_a_warning() -> None:
    # GIVEN one more numeric column than the bound
    width = MAX_COVARIANCE_COLUMNS + 1
    table = pa.table({f"c{i}": np.arange(3.0) * i for i in range(width)})
    # WHEN profiled / THEN no co-moments are kept, and the profile says why
    state = _state(table)
    assert state.co_moments is None
    profile = finalize(state).profile
    assert profile.correlation is None
    assert any("correlation left out" in w for w in profile.warnings)


_value = st.one_of(st.floats(-1e3, 1e3, allow_nan=False, width=32), st.none(),
                   st.just(float("nan")), st.just(float("inf")))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(_value, _value, st.integers(-5, 5)), min_size=2, max_size=60),
       data=st.data())
def test_any_split_gives_the_co_moments_of_numpy_on_the_complete_rows(rows, data) -> None:  # type: ignore[no-untyped-def]
    # GIVEN three numeric columns with nulls, NaN and infinities, and a random split of them
    table = pa.table({"a": pa.array([r[0] for r in rows], pa.float64()),
                      "b": pa.array([r[1] for r in rows], pa.float64()),
                      "c": pa.array([r[2] for r in rows], pa.int64())})
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(rows) - 1), max_size=5))))
    edges = [0, *cuts, len(rows)]
    parts = [_state(table.slice(lo, hi - lo), i, batch=data.draw(st.integers(1, 9)))
             for i, (lo, hi) in enumerate(itertools.pairwise(edges))]
    random.Random(data.draw(st.integers(0, 99))).shuffle(parts)
    # WHEN saved, loaded, merged in a random order and compared with the one-pass state
    merged = merge_all([PartialState.from_bytes(p.to_bytes()) for p in parts]).co_moments
    whole = _state(table, batch=len(rows)).co_moments
    # THEN both hold numpy's mean and population covariance of the rows finite in a, b, c
    x = np.column_stack([table.column(n).to_numpy(zero_copy_only=False).astype(float)
                         for n in "abc"])
    complete = x[np.isfinite(x).all(axis=1)]
    assert merged is not None and whole is not None
    assert merged.n == whole.n == len(complete)
    if len(complete):
        scale = max(1.0, float(np.abs(complete).max())) ** 2 * len(complete)
        np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-9, atol=1e-9 * scale)
        np.testing.assert_allclose(merged.cross, whole.cross, rtol=1e-9, atol=1e-9 * scale)
        np.testing.assert_allclose(merged.mean, complete.mean(axis=0), rtol=1e-9,
                                   atol=1e-9 * scale)
        expected = np.cov(complete, rowvar=False, ddof=0).reshape(3, 3)
        np.testing.assert_allclose(merged.covariance(), expected, rtol=1e-9,
                                   atol=1e-9 * scale / len(complete))


def test_large_random_split_matches_numpy_to_1e_9_relative() -> None:
    # GIVEN 50,000 correlated rows over 4 columns (a tenth with a null), 7 shards of any size
    rng = np.random.default_rng(8)
    x = rng.normal(size=(50_000, 4)) @ rng.normal(size=(4, 4)) + [1e3, -5.0, 0.0, 7.0]
    cols = {f"v{i}": pa.array(x[:, i], mask=rng.random(50_000) < 0.025) for i in range(4)}
    table = pa.table(cols)
    edges = [0, *sorted(rng.choice(np.arange(1, 50_000), 6, replace=False)), 50_000]
    parts = [_state(table.slice(lo, hi - lo), i, batch=4096)
             for i, (lo, hi) in enumerate(itertools.pairwise(edges))]
    # WHEN merged / THEN the covariance is numpy's on the complete rows, to 1e-9 relative
    merged = merge_all(parts[::-1]).co_moments
    complete = np.column_stack([table.column(f"v{i}").to_numpy(zero_copy_only=False)
                                for i in range(4)])
    complete = complete[np.isfinite(complete).all(axis=1)]
    assert merged is not None and merged.n == len(complete)
    np.testing.assert_allclose(merged.covariance(), np.cov(complete, rowvar=False, ddof=0),
                               rtol=1e-9)
    corr = finalize(merge_all(parts)).profile.correlation
    assert corr is not None
    np.testing.assert_allclose(np.array(corr.matrix, dtype=float),
                               np.corrcoef(complete, rowvar=False), rtol=1e-9, atol=1e-12)


def test_co_moments_of_other_columns_do_not_merge() -> None:
    # GIVEN co-moments over different column lists / WHEN merged / THEN refused
    a, b = CoMomentAccumulator(["x", "y"]), CoMomentAccumulator(["x", "z"])
    with pytest.raises(ValueError):
        a.merge(b)
