"""The second round of profiling speed-ups changes no output: read-ahead of record batches,
the file's SHA-256 hashed in a thread, validity masks unpacked from the bitmap, numbers read
from Arrow's buffer without a fill, the co-moments reusing the numeric columns' arrays, and the
mix run in cache-sized runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import synthos.io.prefetch as prefetch_module
import synthos.profile as profile_module
from synthos.columns import classify_schema
from synthos.io.hashing import _MIX_RUN, mix64_inplace, valid_mask
from synthos.io.number_hashes import hash_numbers
from synthos.io.prefetch import HELPER_PREFIX, prefetched, spare_cores
from synthos.io.readers import open_table, sha256_file
from synthos.profile import profile_source
from synthos.profiling.covariance import CoMomentAccumulator

RNG = np.random.default_rng(23)


def _counting(n: int, fail_at: int | None = None, log: list[str] | None = None) -> Iterator[int]:
    try:
        for i in range(n):
            if i == fail_at:
                raise OSError(f"bad item {i}")
            yield i
    finally:
        if log is not None:
            log.append("closed")


def test_prefetched_yields_the_same_items_in_order() -> None:
    # GIVEN an iterator of 50 items / WHEN read ahead by 1 and by 3 / THEN the same sequence
    assert list(prefetched(_counting(50))) == list(range(50))
    assert list(prefetched(_counting(50), depth=3)) == list(range(50))
    assert list(prefetched(_counting(0))) == []


def test_prefetched_raises_the_producers_error_after_the_items_before_it() -> None:
    # GIVEN a source failing at its 5th item
    seen: list[int] = []
    # WHEN consumed through the read-ahead / THEN items 0..4 arrive, then the same error
    with pytest.raises(OSError, match="bad item 5"):
        for item in prefetched(_counting(10, fail_at=5)):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_closing_early_stops_and_joins_the_producer() -> None:
    # GIVEN a long source read ahead
    log: list[str] = []
    gen = prefetched(_counting(10_000, log=log), depth=2)
    # WHEN the caller takes 3 items and closes
    assert [next(gen), next(gen), next(gen)] == [0, 1, 2]
    gen.close()
    # THEN no helper thread is left and the source was closed (not run to its end)
    assert not [t for t in threading.enumerate() if t.name == HELPER_PREFIX + "prefetch"]
    assert log == ["closed"]


def test_spare_cores_counts_working_threads_not_helpers(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    # GIVEN one core more than the working threads this process already has (the suite may
    # have left idle threads behind: they count as working, which keeps the check cautious)
    working = [t for t in threading.enumerate() if not t.name.startswith(HELPER_PREFIX)]
    monkeypatch.setattr(prefetch_module, "available_cpus", lambda: len(working) + 1)
    # THEN a core is spare
    assert spare_cores()
    release = threading.Event()
    helper = threading.Thread(target=release.wait, name=HELPER_PREFIX + "x")
    worker = threading.Thread(target=release.wait, name="worker")
    helper.start()
    try:
        # WHEN only a helper runs beside us / THEN still spare
        assert spare_cores()
        # WHEN another working thread runs / THEN both cores are taken
        worker.start()
        assert not spare_cores()
    finally:
        release.set()
        helper.join()
        if worker.is_alive() or worker.ident is not None:
            worker.join()


@pytest.mark.parametrize("offset", [0, 1, 3, 8, 13])
def test_valid_mask_is_is_valid(offset: int) -> None:
    # GIVEN arrays with nulls, sliced at bit offsets, and one without nulls
    arr = pa.array(RNG.normal(size=100), mask=RNG.random(100) < 0.3)
    for a in (arr.slice(offset), arr.slice(offset, 50), pa.array([1.0, 2.0]).slice(offset % 2)):
        # WHEN unpacked from the bitmap / THEN the validity Arrow reports
        assert np.array_equal(valid_mask(a), a.is_valid().to_numpy(zero_copy_only=False))


def test_hash_numbers_ignores_whatever_the_null_slots_hold() -> None:
    # GIVEN the same valid values, the null slots holding 0 in one and NaN/inf/garbage in the
    # other (built from raw buffers)
    values = np.array([1.5, 7.0, -2.0, 3.25, 9.0])
    garbage = values.copy()
    garbage[[1, 3]] = [np.nan, np.inf]
    mask = pa.array([True, False, True, False, True]).buffers()[1]
    a = pa.Array.from_buffers(pa.float64(), 5, [mask, pa.py_buffer(np.where(
        [True, False, True, False, True], values, 0.0).tobytes())], null_count=2)
    b = pa.Array.from_buffers(pa.float64(), 5, [mask, pa.py_buffer(garbage.tobytes())],
                              null_count=2)
    # WHEN hashed / THEN equal hashes and equal valid values
    ha, va, ma = hash_numbers(a)
    hb, vb, mb = hash_numbers(b)
    assert np.array_equal(ha, hb)
    assert ma is not None and mb is not None
    assert np.array_equal(va[ma], vb[mb])


def test_mix_in_runs_is_the_whole_array_mix() -> None:
    # GIVEN words longer than one run (not a multiple of it)
    z = RNG.integers(0, 2**64 - 1, 2 * _MIX_RUN + 123, dtype=np.uint64, endpoint=True)
    # WHEN mixed in runs, with and without scratch space / THEN one vectorised mix's result
    expected = z.copy()
    tmp = np.empty_like(expected)
    np.right_shift(expected, np.uint64(30), out=tmp)
    expected ^= tmp
    expected *= np.uint64(0xBF58476D1CE4E5B9)
    np.right_shift(expected, np.uint64(27), out=tmp)
    expected ^= tmp
    expected *= np.uint64(0x94D049BB133111EB)
    np.right_shift(expected, np.uint64(31), out=tmp)
    expected ^= tmp
    assert np.array_equal(mix64_inplace(z.copy()), expected)
    assert np.array_equal(mix64_inplace(z.copy(), np.empty_like(z)), expected)


def test_co_moments_from_shared_numbers_are_the_same_bits() -> None:
    # GIVEN float (nulls, NaN, inf) and integer (nulls) columns
    n = 5000
    f = RNG.normal(size=n)
    f[RNG.random(n) < 0.01] = np.nan
    f[RNG.random(n) < 0.01] = np.inf
    batch = pa.record_batch({
        "f": pa.array(f, mask=RNG.random(n) < 0.05),
        "i": pa.array(RNG.integers(-(10**12), 10**12, n), mask=RNG.random(n) < 0.05),
        "g": pa.array(RNG.normal(size=n)),
    })
    plain, shared = CoMomentAccumulator(["f", "i", "g"]), CoMomentAccumulator(["f", "i", "g"])
    # WHEN one reads the Arrow columns and the other the hash_numbers arrays of f and i
    plain.update(batch)
    numbers = {name: hash_numbers(batch.column(name))[1:] for name in ("f", "i")}
    shared.update(batch, numbers)
    # THEN the same row count and the same bits
    assert plain.n == shared.n > 0
    assert np.array_equal(plain.mean, shared.mean) and np.array_equal(plain.cross, shared.cross)


@pytest.mark.parametrize("spare", [True, False])
def test_profile_source_digest_with_and_without_the_hash_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spare: bool
) -> None:
    # GIVEN a Parquet file, and the helper threads allowed or not
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": RNG.normal(size=3000), "y": RNG.integers(0, 9, 3000)}), path)
    monkeypatch.setattr(profile_module, "spare_cores", lambda: spare)
    source = open_table(path)
    # WHEN profiled / THEN the profile holds the file's SHA-256 and no helper thread is left
    out = profile_source(source, classify_schema(source.schema))
    assert out.profile.sha256 == sha256_file(path)
    assert out.profile.rows == 3000
    assert not [t for t in threading.enumerate() if t.name.startswith(HELPER_PREFIX)]
