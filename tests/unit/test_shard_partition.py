"""synthos.shard.partition: the hash-partitioned reduce gives exactly merge_all's answer, and a
range reducer reads and merges only its own range of the count maps."""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import struct

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthos.errors import CorruptShardState, IncompatibleShardStates, InvalidOption
from synthos.shard import (
    PartialState,
    ProfileOutcome,
    RangeResult,
    combine,
    fill_missing,
    finalize,
    merge_all,
    merge_partitioned,
    partition,
    parts_for,
    read_range_slice,
    reduce_range,
    sample_merge,
)
from synthos.shard.codec import COUNT_BUCKETS, StateReader

from .shard_cases import ROWS, rows_table, shard_state


class CountingFile(io.BytesIO):
    """A file that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        out = super().read(size)
        self.bytes_read += len(out)
        return out


def _shard_bytes(table: pa.Table, cuts: list[int], k: int) -> list[bytes]:
    edges = [0, *sorted(set(cuts)), table.num_rows]
    parts = [table.slice(a, b - a) for a, b in itertools.pairwise(edges)]
    return [shard_state(p, k, i).to_bytes() for i, p in enumerate(parts)]


def _partitioned_from_files(blobs: list[bytes], parts: int) -> PartialState:
    """What the pipeline does: one reducer per range over the state files, results through
    bytes, then the combine over the states read without their count maps."""
    results = []
    for p in range(parts):
        slices = [read_range_slice(io.BytesIO(b), p, parts) for b in blobs]
        results.append(RangeResult.from_bytes(reduce_range(slices, p, parts).to_bytes()))
    return combine(results, (PartialState.read_without_counts(io.BytesIO(b)) for b in blobs))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(ROWS, min_size=1, max_size=80), k=st.integers(1, 15),
       parts=st.sampled_from([1, 2, 3, 8]), data=st.data())
def test_partitioned_reduce_equals_merge_all_for_any_split(rows, k, parts, data) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a table with many repeated rows split at random into shards saved as bytes
    table = rows_table(rows)
    cuts = data.draw(st.lists(st.integers(1, max(1, len(rows) - 1)), max_size=6))
    blobs = _shard_bytes(table, cuts, k)
    # WHEN reduced by merge_all, and range by range over `parts` hash ranges
    whole = merge_all([PartialState.from_bytes(b) for b in blobs])
    split = _partitioned_from_files(blobs, parts)
    # THEN the same rows lack content before the fill pass, and after it the outcome is the
    # same: every statistic, the duplicate counts and the sample row for row
    np.testing.assert_array_equal(split.sampler.missing_hashes(),
                                  whole.sampler.missing_hashes())
    for state in (whole, split):
        assert fill_missing(state, table.to_batches(max_chunksize=5)) == 0
    _assert_same_outcome(finalize(split), finalize(whole))


def _assert_same_outcome(a: ProfileOutcome, b: ProfileOutcome) -> None:
    """Equal to the bit (repr: floats in shortest round-trip form, NaN equal to NaN)."""
    assert repr(a.profile) == repr(b.profile)
    assert a.sample.schema == b.sample.schema
    assert repr(a.sample.to_pylist()) == repr(b.sample.to_pylist())
    assert a.specs == b.specs


def test_heavy_cross_shard_duplicates_need_the_same_fill_pass() -> None:
    # GIVEN 4,000 rows over 300 distinct values in 8 shards, a sample of 50
    rng = np.random.default_rng(5)
    table = pa.table({"v": rng.integers(0, 300, 4000)})
    states = [shard_state(table.slice(500 * i, 500), 50, i, batch=256) for i in range(8)]
    # WHEN merged whole and in 3 ranges (in memory)
    whole, split = merge_all(states), merge_partitioned(states, 3)
    # THEN both miss the same sampled rows, and after the fill pass finalize alike
    assert len(whole.sampler.missing_hashes()) > 0
    np.testing.assert_array_equal(split.sampler.missing_hashes(),
                                  whole.sampler.missing_hashes())
    for state in (whole, split):
        fill_missing(state, table.to_batches(max_chunksize=1000))
    a, b = finalize(split), finalize(whole)
    _assert_same_outcome(a, b)
    assert a.profile.exact_duplicate_rows == 4000 - len(np.unique(table["v"]))


def _distinct_states(n_states: int, rows: int) -> list[bytes]:
    rng = np.random.default_rng(7)
    table = pa.table({"x": rng.permutation(n_states * rows).astype(np.int64)})
    return [shard_state(table.slice(rows * i, rows), 20, i, batch=65_536).to_bytes()
            for i in range(n_states)]


def test_a_range_reducer_reads_and_merges_only_its_range(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # GIVEN 3 states of 20,000 distinct rows each, and a spy on the multi-way count merge
    blobs = _distinct_states(3, 20_000)
    seen: list[np.ndarray] = []
    original = sample_merge._add_counts

    def spy(parts):  # type: ignore[no-untyped-def]
        seen.extend(p.keys for p in parts)
        return original(parts)

    monkeypatch.setattr(sample_merge, "_add_counts", spy)
    parts, part = 8, 5
    lo, hi = partition.hash_range(part, parts)
    # WHEN range 5 of 8 is read from each state file and reduced
    files = [CountingFile(b) for b in blobs]
    result = reduce_range([read_range_slice(f, part, parts) for f in files], part, parts)
    # THEN the merge saw only keys of the range, and all of them
    everything = np.concatenate([PartialState.from_bytes(b).sampler.keys for b in blobs])
    in_range = everything[(everything >= np.uint64(lo)) & (everything < np.uint64(hi))]
    merged = np.concatenate(seen)
    assert ((merged >= np.uint64(lo)) & (merged < np.uint64(hi))).all()
    assert len(merged) == len(in_range) == result.distinct
    assert 0 < len(in_range) < len(everything) // 4
    # AND each file was read except the count-map entries outside the range (16 B each)
    for f, b in zip(files, blobs, strict=True):
        entries = StateReader(io.BytesIO(b)).entries
        mine = PartialState.from_bytes(b).sampler.keys
        inside = int(((mine >= np.uint64(lo)) & (mine < np.uint64(hi))).sum())
        assert f.bytes_read <= len(b) - 16 * (entries - inside)


def test_the_combine_never_reads_a_count_map() -> None:
    # GIVEN a state of 20,000 distinct rows
    (blob,) = _distinct_states(1, 20_000)
    f = CountingFile(blob)
    # WHEN read without its counts
    state = PartialState.read_without_counts(f)
    # THEN none of its 16 * 20,000 count-map bytes were read, and the sampler holds no keys
    assert f.bytes_read <= len(blob) - 16 * 20_000
    assert len(state.sampler.keys) == 0 and state.sampler.content is not None


def test_a_damaged_bucket_fails_only_the_ranges_that_read_it() -> None:
    # GIVEN a state whose first count-map entry (bucket 0, range 0 of 2) has a flipped byte
    (blob,) = _distinct_states(1, 5_000)
    reader = StateReader(io.BytesIO(blob))
    start = reader.base + reader.data_length() - 16 * reader.entries
    damaged = bytearray(blob)
    damaged[start] ^= 0x01
    # WHEN ranges are read / THEN range 0 is refused by name, range 1 reads, the whole refuses
    with pytest.raises(CorruptShardState):
        read_range_slice(io.BytesIO(bytes(damaged)), 0, 2)
    assert len(read_range_slice(io.BytesIO(bytes(damaged)), 1, 2).keys) > 0
    with pytest.raises(CorruptShardState):
        PartialState.from_bytes(bytes(damaged))


def test_version_2_states_and_bad_range_results_are_refused() -> None:
    # GIVEN a state relabelled as format version 2, and damaged range results
    (blob,) = _distinct_states(1, 100)
    old = bytearray(blob)
    old[8:10] = struct.pack("<H", 2)
    result = reduce_range([read_range_slice(io.BytesIO(blob), 0, 1)], 0, 1).to_bytes()
    # WHEN / THEN each is refused with CorruptShardState
    with pytest.raises(CorruptShardState, match="version 2"):
        PartialState.from_bytes(bytes(old))
    with pytest.raises(CorruptShardState):
        read_range_slice(io.BytesIO(bytes(old)), 0, 1)
    with pytest.raises(CorruptShardState):
        RangeResult.from_bytes(result[:-3])
    with pytest.raises(CorruptShardState):
        RangeResult.from_bytes(blob)


def test_combine_refuses_missing_ranges_and_its_state_cannot_merge_or_save() -> None:
    # GIVEN two states and the results of 2 of their 3 ranges
    table = rows_table([(i, 0.5, "a", True) for i in range(40)])
    states = [shard_state(table.slice(0, 20), 5, 0), shard_state(table.slice(20, 20), 5, 1)]
    results = [reduce_range([partition.range_slice(s, p, 3) for s in states], p, 3)
               for p in range(3)]
    # WHEN combined without range 1 / THEN refused
    with pytest.raises(IncompatibleShardStates):
        combine([results[0], results[2]], states)
    # AND with every range, the combined state neither merges nor saves (it has no counts)
    combined = combine(results, states)
    assert finalize(combined).profile.rows == 40
    with pytest.raises(IncompatibleShardStates):
        merge_all([combined, shard_state(table, 5, 2)])
    with pytest.raises(IncompatibleShardStates):
        combined.to_bytes()
    # AND results of other states do not combine with these
    with pytest.raises(IncompatibleShardStates):
        combine(results, states[:1])


def test_range_counts_and_bounds_hand_computed() -> None:
    # ranges of about 20 million distinct rows, 1 .. 1024 of them
    assert [parts_for(n) for n in (0, 1, 20_000_000, 20_000_001, 10**9, 10**15)] == [
        1, 1, 1, 2, 50, COUNT_BUCKETS]
    # three ranges over 1024 buckets: 341, 341 and 342 buckets (top 10 bits of the hash)
    assert [partition.bucket_range(p, 3) for p in range(3)] == [(0, 341), (341, 682),
                                                                 (682, 1024)]
    assert partition.hash_range(1, 2) == (1 << 63, 1 << 64)
    with pytest.raises(InvalidOption):
        partition.bucket_range(3, 3)
    with pytest.raises(InvalidOption):
        partition.bucket_range(0, COUNT_BUCKETS + 1)


def test_partial_reads_of_damaged_bytes_fail_only_by_name() -> None:
    # GIVEN a small state, cut at every 5th length and with 150 single bytes flipped
    (blob,) = _distinct_states(1, 300)
    rng = np.random.default_rng(3)
    damaged = [blob[:cut] for cut in range(0, len(blob), 5)]
    for pos in rng.integers(0, len(blob), 150):
        flipped = bytearray(blob)
        flipped[pos] ^= 1 << int(rng.integers(0, 8))
        damaged.append(bytes(flipped))
    # WHEN read by range and without counts / THEN each read succeeds or raises
    # CorruptShardState, and the whole read always refuses
    for data in damaged:
        for read in (lambda f: read_range_slice(f, 1, 3), PartialState.read_without_counts):
            with contextlib.suppress(CorruptShardState):  # any other error fails the test
                read(io.BytesIO(data))
        with pytest.raises(CorruptShardState):
            PartialState.from_bytes(data)


def _forge(blob: bytes, edit, raw: bytes | None = None) -> bytes:  # type: ignore[no-untyped-def]
    """``blob`` with its header edited by ``edit(header)`` (or replaced by ``raw``) and the
    prefix's length and digest recomputed: well signed, hostile content."""
    header_len = struct.unpack_from("<I", blob, 12)[0]
    if raw is None:
        header = json.loads(blob[48 : 48 + header_len])
        edit(header)
        raw = json.dumps(header, separators=(",", ":")).encode()
    return (blob[:12] + struct.pack("<I", len(raw)) + hashlib.sha256(raw).digest() + raw
            + blob[48 + header_len :])


def test_a_well_signed_header_with_a_bad_layout_is_refused() -> None:
    # GIVEN a state whose header (digest recomputed) gives a section a float offset
    (blob,) = _distinct_states(1, 50)

    def edit(header):  # type: ignore[no-untyped-def]
        header["sections"][1]["offset"] = float(header["sections"][1]["offset"])

    forged = _forge(blob, edit)
    # WHEN read / THEN refused by name
    with pytest.raises(CorruptShardState):
        PartialState.from_bytes(forged)
    with pytest.raises(CorruptShardState):
        read_range_slice(io.BytesIO(forged), 0, 1)


def _array_section(header, n_items: int) -> dict:  # type: ignore[no-untyped-def]
    """The descriptor of the first <u8 array section of ``n_items`` items."""
    return next(d for d in header["sections"] if d["kind"] == "array"
                and d["dtype"] == "<u8" and d["length"] == 8 * n_items)


def _nest(value, depth: int):  # type: ignore[no-untyped-def]
    for _ in range(depth):
        value = {"a": value}
    return value


HOSTILE_HEADERS = {
    # an unhashable dtype, shapes beyond int64 or whose int64 product wraps to the length
    "dtype list": lambda h: h["sections"][0].update(dtype=["<u8"]),
    "shape beyond int64": lambda h: _array_section(h, 20).update(shape=[2**70]),
    "shape product wraps": lambda h: _array_section(h, 20).update(shape=[4, 2**62 + 5]),
    # numbers no integer field can hold, and nesting deeper than any state
    "infinite rows": lambda h: h["state"].update(rows=float("inf")),
    "infinite sample size": lambda h: h["state"]["sample"].update(k=float("inf")),
    "zero sample size": lambda h: h["state"]["sample"].update(k=0),
    # a length no file holds (a plain file object cannot even seek or read that far)
    "last section beyond any file": lambda h: h["sections"][-1].update(length=2**70),
    "deep nesting": lambda h: h["state"].update(warnings=_nest(1, 500)),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_HEADERS))
def test_hostile_well_signed_headers_fail_only_by_name(case: str) -> None:
    # GIVEN a state whose header (digest recomputed) holds one hostile value
    (blob,) = _distinct_states(1, 50)
    forged = _forge(blob, HOSTILE_HEADERS[case])
    # WHEN read whole / THEN refused by name
    with pytest.raises(CorruptShardState):
        PartialState.from_bytes(forged)
    # AND the partial reads (which may not touch the hostile value) succeed or refuse by name
    for read in (PartialState.read_without_counts, lambda f: read_range_slice(f, 0, 2)):
        with contextlib.suppress(CorruptShardState):  # any other error fails the test
            read(io.BytesIO(forged))


def test_a_header_nested_past_the_json_parser_is_refused() -> None:
    # GIVEN a well-signed header of 100,000 nested arrays (the JSON parser recurses)
    (blob,) = _distinct_states(1, 50)
    raw = b'{"state":' + b"[" * 100_000 + b"]" * 100_000 + b',"sections":[],"count_map":null}'
    forged = _forge(blob, None, raw)
    # WHEN read / THEN refused by name, not a RecursionError
    with pytest.raises(CorruptShardState):
        PartialState.from_bytes(forged)
    with pytest.raises(CorruptShardState):
        read_range_slice(io.BytesIO(forged), 0, 1)


@pytest.mark.parametrize("field", ["part", "parts", "k", "seed", "rows", "distinct"])
def test_a_range_result_with_a_non_integer_count_is_refused(field: str) -> None:
    # GIVEN a range result whose integer field is forged to a float (digest recomputed)
    (blob,) = _distinct_states(1, 100)
    result = reduce_range([read_range_slice(io.BytesIO(blob), 0, 1)], 0, 1).to_bytes()
    forged = _forge(result, lambda h: h["state"].update({field: h["state"][field] + 0.5}))
    # WHEN read / THEN refused by name
    with pytest.raises(CorruptShardState):
        RangeResult.from_bytes(forged)


def test_a_range_result_may_lack_its_ranges_own_best_pair_but_not_the_global_sample() -> None:
    # GIVEN one shard of two distinct rows whose hashes lie in different halves, sample of 1
    for a in range(100):
        state = shard_state(pa.table({"v": [a, a + 1]}), 1)
        state.sampler.missing_hashes()  # flush the pending candidates
        if len({int(h) >> 63 for h in state.sampler.keys}) == 2:
            break
    else:
        pytest.fail("no two rows with hashes in different halves")
    kept = int(state.sampler.cand_hash[0]) >> 63
    # WHEN both halves are reduced
    results = [reduce_range([partition.range_slice(state, p, 2)], p, 2) for p in range(2)]
    # THEN the half without the kept pair found no pair although it holds a row (its own
    # bottom-1 would be that row), and the combined sample is the shard's sample
    assert (results[1 - kept].distinct, len(results[1 - kept].cand_hash)) == (1, 0)
    combined = combine(results, [state])
    np.testing.assert_array_equal(combined.sampler.cand_hash, state.sampler.cand_hash)


def test_a_datetime_type_pointing_at_other_bytes_is_refused_by_name() -> None:
    # GIVEN a state of a datetime column whose Arrow type section is swapped for the section
    # of the sampled hashes (digest recomputed)
    table = pa.table({"t": pa.array(np.arange(50) * 10**9).cast(pa.timestamp("ns"))})
    blob = shard_state(table, 5).to_bytes()

    def edit(header):  # type: ignore[no-untyped-def]
        header["state"]["columns"]["t"]["type"] = header["state"]["sample"]["cand_hash"]

    forged = _forge(blob, edit)
    # WHEN read whole and without counts / THEN refused by name
    with pytest.raises(CorruptShardState):
        PartialState.from_bytes(forged)
    with pytest.raises(CorruptShardState):
        PartialState.read_without_counts(io.BytesIO(forged))
