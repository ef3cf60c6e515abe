"""The partial-state byte format: round trip, and untrusted bytes fail with one named error."""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa
import pytest

from synthos.columns import classify_schema
from synthos.errors import CorruptShardState
from synthos.profiling.quantiles import Quantiles
from synthos.shard import PartialState, SourceInfo, codec, finalize, profile_batches

SOURCE = SourceInfo("mem://t", "parquet", 10, "ab" * 32, 5, ("a source warning",))


def _state(n: int = 300) -> PartialState:
    rng = np.random.default_rng(1)
    table = pa.table({
        "x": rng.normal(size=n), "y": rng.integers(0, 5, n), "s": rng.choice(["u", "v", "w"], n),
        "t": pa.array(rng.integers(0, 10**9, n)).cast(pa.timestamp("ms", tz="UTC")),
        "b": rng.random(n) > 0.3,
        "e": pa.array(list(rng.normal(size=(n, 3))), pa.list_(pa.float64(), 3)),
    })
    return profile_batches(table.to_batches(max_chunksize=64), SOURCE,
                           classify_schema(table.schema), sample_rows=40, seed=2)


def test_round_trip_keeps_every_statistic_and_the_sample() -> None:
    # GIVEN the state of 300 rows of five column kinds
    state = _state()
    # WHEN written and read back
    again = PartialState.from_bytes(state.to_bytes())
    # THEN it finalizes to the same outcome, and writes the same bytes again
    a, b = finalize(state), finalize(again)
    assert a.profile == b.profile and a.sample.equals(b.sample) and a.specs == b.specs
    assert again.to_bytes() == state.to_bytes()


def test_layout_starts_with_magic_version_and_header_length() -> None:
    # GIVEN the bytes of a state
    data = _state(20).to_bytes()
    # WHEN the fixed prefix is read by hand
    magic, version, flags, header_len = struct.unpack_from("<8sHHI", data)
    # THEN it is the documented layout, with a JSON header right after the digest
    assert (magic, version, flags) == (b"SYNSHARD", 3, 0)
    assert data[48:49] == b"{" and data[48 + header_len - 1 : 48 + header_len] == b"}"


@pytest.mark.parametrize("damage", ["empty", "garbage", "magic", "version", "flip", "tail"])
def test_damaged_bytes_raise_corrupt_shard_state(damage: str) -> None:
    # GIVEN the bytes of a state, damaged in one way
    data = bytearray(_state(50).to_bytes())
    if damage == "empty":
        data = bytearray()
    elif damage == "garbage":
        data = bytearray(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8))
    elif damage == "magic":
        data[0:8] = b"NOTSHARD"
    elif damage == "version":
        data[8:10] = struct.pack("<H", 99)
    elif damage == "flip":
        data[len(data) // 2] ^= 0x40
    else:
        data += b"\x00"
    # WHEN read / THEN the one named error, never another exception
    with pytest.raises(CorruptShardState):
        PartialState.from_bytes(bytes(data))


def test_every_truncation_raises_corrupt_shard_state() -> None:
    # GIVEN the bytes of a small state
    data = _state(12).to_bytes()
    # WHEN cut at every length (step 7) / THEN each is refused by name
    for cut in range(0, len(data), 7):
        with pytest.raises(CorruptShardState):
            PartialState.from_bytes(data[:cut])


def test_well_formed_envelope_with_bad_content_is_refused() -> None:
    # GIVEN envelopes with a valid digest around bad trees: cut KLL and REQ sketches, exact
    # quantile values over their cap, co-moments of the wrong shape, a wrong array dtype, a
    # sample whose candidates are not in its row counts, and not a state at all
    tree = codec.decode(_state(300).to_bytes())
    sketched = Quantiles(limit=100)
    sketched.update(np.random.default_rng(3).normal(size=300))
    good = sketched.state()
    cases = []
    for key, cut in (("kll", 20), ("req_lo", 30), ("req_hi", 60)):  # the binding would crash
        tree["columns"]["x"]["quantiles"] = {**good, key: good[key][:cut]}
        cases.append(codec.encode(tree))
    tree["columns"]["x"]["quantiles"] = {"limit": 10, "exact": np.zeros(11)}
    cases.append(codec.encode(tree))
    tree["columns"]["x"]["quantiles"] = good
    cross = tree["co_moments"]["cross"]
    tree["co_moments"]["cross"] = np.zeros((3, 3))
    cases.append(codec.encode(tree))
    tree["co_moments"]["cross"] = cross
    tree["co_moments"]["columns"] = ["t", "x"]
    cases.append(codec.encode(tree))
    tree["co_moments"] = None
    cases.append(codec.encode(tree))
    tree["co_moments"] = {"columns": ["x"], "n": 0, "mean": np.zeros(1), "cross": np.zeros((1, 1))}
    cases.append(codec.encode(tree))
    tree = codec.decode(_state(300).to_bytes())
    keys, counts = tree["sample"]["count_map"].keys, tree["sample"]["count_map"].counts
    tree["sample"]["count_map"] = codec.CountMap(keys, -counts)
    cases.append(codec.encode(tree))
    tree["sample"]["count_map"] = codec.CountMap(keys[::-1].copy(), counts)
    cases.append(codec.encode(tree))
    tree["sample"]["count_map"] = {"keys": keys, "counts": counts}
    cases.append(codec.encode(tree))
    cases.append(codec.encode({"kind": "something else"}))
    cases.append(codec.encode([1, 2, 3]))
    # WHEN read / THEN each is refused with CorruptShardState
    for data in cases:
        with pytest.raises(CorruptShardState):
            PartialState.from_bytes(data)


def test_codec_round_trips_arrays_bytes_tables_and_special_floats() -> None:
    # GIVEN a tree of every supported leaf
    tree = {"a": np.arange(6, dtype=np.int64).reshape(2, 3), "b": b"\x00\xff",
            "t": pa.table({"x": [1.5, None]}), "f": [float("inf"), -0.0, 0.1], "n": None}
    # WHEN encoded and decoded
    back = codec.decode(codec.encode(tree))
    # THEN every leaf comes back equal (floats bit for bit)
    np.testing.assert_array_equal(back["a"], tree["a"])
    assert back["b"] == tree["b"] and back["t"].equals(tree["t"]) and back["n"] is None
    assert [struct.pack("<d", v) for v in back["f"]] == [struct.pack("<d", v) for v in tree["f"]]
