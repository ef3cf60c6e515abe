"""synthos.sampling and synthos.io.hashing: determinism and invariance of the row sample."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthos.errors import InvalidOption
from synthos.io.hashing import NULL_HASH, hash_array, hash_rows
from synthos.sampling import RowSampler, canonical_order

# ---- hashing -------------------------------------------------------------------------------

_HASH_SCRIPT = """
import datetime as dt, json, pyarrow as pa
from synthos.io.hashing import hash_array, hash_rows
cols = {
    "f": pa.array([0.0, -0.0, float("nan"), 1.5, None, float("inf")]),
    "i": pa.array([1, -7, 2**60, None, 0, 3]),
    "s": pa.array(["a", "", None, "héllo", "x" * 300, "a"]),
    "b": pa.array([True, False, None, True, True, False]),
    "t": pa.array([dt.datetime(2024, 1, d) for d in range(1, 7)], pa.timestamp("us")),
    "e": pa.array([[0.5, 1.0], None, [2.0, 3.0], [0.0, 0.0], [1.0, 1.0], [9.0, 8.0]]),
}
out = {k: [int(h) for h in hash_array(v)] for k, v in cols.items()}
out["rows"] = [int(h) for h in hash_rows(pa.table(cols), list(cols))]
print(json.dumps(out))
"""


def test_hashes_do_not_depend_on_the_process() -> None:
    # GIVEN the same values hashed in this process and in two fresh ones with other hash seeds
    here = {}
    exec(
        compile(_HASH_SCRIPT.replace("print(json.dumps(out))", "RESULT = out"), "<h>", "exec"), here
    )
    runs = []
    for seed in ("1", "987654"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _HASH_SCRIPT],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        runs.append(json.loads(done.stdout))
    # WHEN / THEN all three agree value for value
    assert runs[0] == runs[1] == here["RESULT"]


def test_float_hash_normalises_zero_and_nan() -> None:
    # GIVEN +0/-0, NaNs with different payloads, and the int 1 next to the float 1.0
    nan_payload = np.array([0x7FF8000000000001], dtype=np.uint64).view(np.float64)[0]
    arr = pa.array([0.0, -0.0, float("nan"), -float("nan"), nan_payload, 1.0, None])
    h = hash_array(arr)
    # WHEN / THEN -0.0 == 0.0, all NaN equal, NaN != null, and 1 (int) == 1.0
    assert h[0] == h[1]
    assert h[2] == h[3] == h[4]
    assert h[2] != h[6] and h[6] == NULL_HASH
    assert hash_array(pa.array([1]))[0] == h[5]
    assert len({h[0], h[2], h[5], h[6]}) == 4


def test_hash_is_independent_of_chunking_and_width() -> None:
    # GIVEN strings, sliced and re-chunked, as string and large_string
    values = ["alpha", "", "b" * 40, None, "alpha", "z" * 200, "ü"]
    arr = pa.array(values)
    whole = hash_array(arr)
    chunked = pa.chunked_array([arr.slice(0, 3), arr.slice(3)])
    # WHEN / THEN every view of the same values hashes the same, equal values equal
    assert (hash_array(chunked) == whole).all()
    assert (hash_array(arr.cast(pa.large_string())) == whole).all()
    assert (hash_array(arr.slice(2, 3)) == whole[2:5]).all()
    assert whole[0] == whole[4] and whole[3] == NULL_HASH
    assert len(set(whole.tolist())) == 6


def test_embedding_hash_ignores_list_type_and_width() -> None:
    # GIVEN the same vectors as list<float64>, fixed_size_list<float32, 2> and list<int64>
    a = pa.array([[1.0, 2.0], [3.0, 4.0]])
    b = pa.array([[1.0, 2.0], [3.0, 4.0]], pa.list_(pa.float32(), 2))
    c = pa.array([[1, 2], [3, 4]])
    # WHEN / THEN their hashes agree, and element order matters
    assert (hash_array(a) == hash_array(b)).all() and (hash_array(a) == hash_array(c)).all()
    assert hash_array(pa.array([[2.0, 1.0]]))[0] != hash_array(a)[0]


def test_timestamp_hash_is_the_instant_whatever_the_unit() -> None:
    # GIVEN one instant stored in seconds and in nanoseconds
    when = dt.datetime(2024, 5, 6, 7, 8, 9)
    # WHEN / THEN both hash alike
    assert (
        hash_array(pa.array([when], pa.timestamp("s")))[0]
        == hash_array(pa.array([when], pa.timestamp("ns")))[0]
    )


def test_row_hash_ignores_column_order_but_not_values() -> None:
    # GIVEN a table and the same table with columns swapped
    t = pa.table({"a": [1, 2], "b": ["x", "y"]})
    swapped = t.select(["b", "a"])
    # WHEN / THEN row hashes agree; swapping values between rows changes them
    assert (hash_rows(t, ["a", "b"]) == hash_rows(swapped, ["b", "a"])).all()
    other = pa.table({"a": [1, 2], "b": ["y", "x"]})
    assert (hash_rows(t, ["a", "b"]) != hash_rows(other, ["a", "b"])).all()


# ---- sampler -------------------------------------------------------------------------------

_values = st.tuples(
    st.integers(0, 4),
    st.sampled_from([0.0, 1.5, -2.0, float("nan"), None]),
    st.sampled_from(["a", "b", None]),
)


def _table(rows: list[tuple]) -> pa.Table:
    return pa.table(
        {
            "i": pa.array([r[0] for r in rows], pa.int64()),
            "f": pa.array([r[1] for r in rows], pa.float64()),
            "s": pa.array([r[2] for r in rows], pa.string()),
        }
    )


def _sample(table: pa.Table, k: int, seed: int, batch_sizes: list[int] | None = None):  # type: ignore[no-untyped-def]
    sampler = RowSampler(k, seed)
    start, sizes = 0, list(batch_sizes or [])
    while start < table.num_rows:
        size = sizes.pop(0) if sizes else table.num_rows
        sampler.update(table.slice(start, size))
        start += size
    return sampler.result()


def _fingerprint(table: pa.Table) -> list[int]:
    return hash_rows(table, table.column_names).tolist() if table.num_rows else []


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(_values, min_size=0, max_size=60), k=st.integers(1, 12), data=st.data())
def test_sample_is_invariant_to_row_order(rows: list[tuple], k: int, data: st.DataObject) -> None:
    # GIVEN a table with many repeated rows, and a permutation of it
    perm = data.draw(st.permutations(range(len(rows))))
    a, b = _table(rows), _table([rows[i] for i in perm])
    # WHEN both are sampled with the same seed
    ra, rb = _sample(a, k, seed=7), _sample(b, k, seed=7)
    # THEN the samples are identical, row for row (canonical order)
    assert _fingerprint(ra.sample) == _fingerprint(rb.sample)
    assert ra.exact_duplicate_rows == rb.exact_duplicate_rows
    assert ra.sample.num_rows == min(k, len(rows))


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(_values, min_size=1, max_size=60), k=st.integers(1, 12), data=st.data())
def test_sample_is_invariant_to_batching(rows: list[tuple], k: int, data: st.DataObject) -> None:
    # GIVEN one table fed whole, and fed in random batch sizes
    sizes = data.draw(st.lists(st.integers(1, 9), min_size=1, max_size=60))
    table = _table(rows)
    # WHEN both are sampled
    whole, split = _sample(table, k, seed=3), _sample(table, k, seed=3, batch_sizes=sizes)
    # THEN the samples and duplicate counts agree
    assert _fingerprint(whole.sample) == _fingerprint(split.sample)
    assert whole.exact_duplicate_rows == split.exact_duplicate_rows


def test_small_dataset_is_returned_whole() -> None:
    # GIVEN 30 rows and k = 30
    table = pa.table({"x": np.arange(30.0)[::-1], "y": [str(i % 4) for i in range(30)]})
    # WHEN sampled
    out = _sample(table, 30, seed=0, batch_sizes=[7, 7, 7, 9])
    # THEN every row is there, in canonical (sorted) order, and the sample is complete
    assert out.complete and out.rows_seen == 30
    assert out.sample.column("x").to_pylist() == [float(i) for i in range(30)]


def test_exact_duplicate_count_of_a_tiled_table() -> None:
    # GIVEN 10 distinct rows tiled 200 times (2,000 rows)
    base = pa.table({"a": list(range(10)), "b": [f"v{i}" for i in range(10)]})
    tiled = pa.concat_tables([base] * 200)
    # WHEN sampled in batches of 37
    out = _sample(tiled, 50, seed=1, batch_sizes=[37] * 60)
    # THEN 2,000 - 10 = 1,990 rows repeat an earlier row
    assert out.exact_duplicate_rows == 1990 and out.rows_seen == 2000
    assert not out.complete and out.sample.num_rows == 50


def test_duplicates_are_sampled_in_proportion() -> None:
    # GIVEN 900 copies of row A, 100 copies of row B
    table = pa.table({"v": ["A"] * 900 + ["B"] * 100})
    shares = []
    for seed in range(20):
        # WHEN 200 rows are sampled with 20 different seeds
        out = _sample(table, 200, seed=seed, batch_sizes=[128] * 8)
        count_a = out.sample.column("v").to_pylist().count("A")
        # THEN each sample is a uniform draw without replacement (hypergeometric, sd ~3.8)
        assert 165 <= count_a <= 195
        shares.append(count_a / 200)
    assert np.mean(shares) == pytest.approx(0.9, abs=0.01)


def test_seed_changes_the_sample_and_repeats_it() -> None:
    # GIVEN 1,000 distinct rows
    table = pa.table({"x": np.arange(1000)})
    # WHEN sampled twice with seed 0 and once with seed 1
    a, b, c = (_sample(table, 20, seed=s).sample for s in (0, 0, 1))
    # THEN the same seed repeats the sample, another seed does not
    assert a.equals(b) and not a.equals(c)


def test_sampler_handles_a_million_rows_quickly() -> None:
    # GIVEN 1,000,000 rows of which 10,000 repeat an earlier row
    rng = np.random.default_rng(0)
    x = np.concatenate([np.arange(990_000), rng.integers(0, 990_000, 10_000)])
    table = pa.table({"x": x, "y": x % 7})
    sampler = RowSampler(20_000, seed=0)
    # WHEN streamed in batches of 65,536
    start = time.perf_counter()
    for batch in table.to_batches(max_chunksize=65_536):
        sampler.update(batch)
    out = sampler.result()
    # THEN the duplicates are counted exactly, in seconds
    assert out.exact_duplicate_rows == 10_000 and out.sample.num_rows == 20_000
    assert time.perf_counter() - start < 20


def test_invalid_sample_size() -> None:
    with pytest.raises(InvalidOption):
        RowSampler(0)


# ---- canonical order -----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    xs=st.lists(
        st.one_of(st.integers(-50, 50).map(float), st.just(float("nan")), st.none()),
        min_size=2,
        max_size=40,
    ),
    scale=st.sampled_from([0.5, 2.0, 4.0, 1024.0]),
    shift=st.integers(-1000, 1000),
    data=st.data(),
)
def test_canonical_order_ignores_affine_rescale_row_and_column_order(
    xs: list[float | None], scale: float, shift: int, data: st.DataObject
) -> None:
    # GIVEN a table, and a copy with x rescaled by scale*x + shift, rows shuffled, columns swapped
    labels = [f"r{i:02d}" for i in range(len(xs))]
    table = pa.table({"x": pa.array(xs, pa.float64()), "y": labels})
    perm = data.draw(st.permutations(range(len(xs))))
    moved = [None if v is None else v * scale + shift for v in xs]
    other = pa.table(
        {"y": [labels[i] for i in perm], "x": pa.array([moved[i] for i in perm], pa.float64())}
    )
    # WHEN both are put in canonical order
    a, b = canonical_order(table), canonical_order(other)
    # THEN the rows come out in the same order (labels follow the same sequence)
    assert a.column("y").to_pylist() == b.column("y").to_pylist()
    # and numbers ascend, then NaN, then nulls
    got = a.column("x").to_pylist()
    finite = [v for v in got if v is not None and v == v]
    assert finite == sorted(finite)
    n_nan = sum(1 for v in xs if v is not None and v != v)
    assert [v is None for v in got[len(finite) :]] == [False] * n_nan + [True] * xs.count(None)


def test_canonical_order_sorts_embeddings_by_leading_components() -> None:
    # GIVEN vectors that differ first in their third component
    vectors = pa.array([[1.0, 1.0, 3.0, 0.0], [1.0, 1.0, 2.0, 9.0]], pa.list_(pa.float64(), 4))
    table = pa.table({"e": vectors})
    # WHEN / THEN the vector with the smaller third component comes first
    assert canonical_order(table).column("e").to_pylist()[0] == [1.0, 1.0, 2.0, 9.0]
