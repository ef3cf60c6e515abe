"""Shard planning and reading: bounded shards that together are exactly the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from synthos.columns import classify_schema
from synthos.errors import InvalidOption
from synthos.io.readers import open_table
from synthos.profile import profile_source
from synthos.shard import fill_from_shards, finalize, merge_all
from synthos.shard.plan import Manifest, plan_shards
from synthos.shard.read import profile_shard, read_shard_batches

from .io_fixtures import write_as


def _table(n: int = 3000) -> pa.Table:
    rng = np.random.default_rng(4)
    return pa.table({"x": rng.normal(size=n).round(3), "k": rng.integers(0, 40, n),
                     "s": rng.choice(["red", "green", "blue"], n)})


def _sharded_outcome(path: Path, manifest: Manifest):  # type: ignore[no-untyped-def]
    states = []
    for i in range(len(manifest.items)):
        with path.open("rb") as f:
            states.append(profile_shard(manifest, i, f))
    merged = merge_all(states[::-1])
    fill_from_shards(merged, manifest, lambda: path.open("rb"))
    return finalize(merged)


def _whole_outcome(path: Path, sample_rows: int, seed: int):  # type: ignore[no-untyped-def]
    source = open_table(path)
    return profile_source(source, classify_schema(source.schema), sample_rows=sample_rows,
                          seed=seed)


def test_parquet_row_groups_are_grouped_up_to_the_target(tmp_path: Path) -> None:
    # GIVEN a Parquet file of 12 row groups of 250 rows
    path = tmp_path / "d.parquet"
    pq.write_table(_table(), path, row_group_size=250)
    meta = pq.ParquetFile(path).metadata
    one = sum(meta.row_group(0).column(j).total_compressed_size for j in range(3))
    # WHEN planned with a target of about three row groups
    manifest = plan_shards(path, target_bytes=int(one * 3.5), state_key=lambda i: f"s/{i}.bin")
    # THEN consecutive groups of 3 cover the 12 row groups, and the rows add up
    spans = [(i.start, i.stop) for i in manifest.items]
    assert spans == [(0, 3), (3, 6), (6, 9), (9, 12)]
    assert sum(i.rows_estimate for i in manifest.items) == 3000 == manifest.rows_estimate
    assert all(i.bytes_estimate <= one * 3.5 for i in manifest.items)
    assert [i.state_key for i in manifest.items] == [f"s/{i}.bin" for i in range(4)]


def test_manifest_json_round_trips_and_has_an_items_array(tmp_path: Path) -> None:
    # GIVEN a manifest
    path = write_as(_table(100), tmp_path / "d.parquet", "parquet")
    manifest = plan_shards(path, source_uri="s3://b/k.parquet", target_bytes=100)
    # WHEN serialized
    obj, items = json.loads(manifest.to_json()), json.loads(manifest.items_json())
    # THEN the object carries the items a Distributed Map iterates, and it parses back
    assert obj["items"] == items and isinstance(items, list)
    assert set(items[0]) == {"index", "kind", "start", "stop", "rows_estimate",
                             "bytes_estimate", "state_key"}
    assert Manifest.from_json(manifest.to_json()) == manifest
    with pytest.raises(InvalidOption):
        Manifest.from_json(json.dumps({**obj, "version": 7}))
    with pytest.raises(InvalidOption):
        Manifest.from_json("not json")
    with pytest.raises(InvalidOption):
        manifest.item(len(manifest.items))


@pytest.mark.parametrize("fmt", ["parquet", "csv", "tsv", "jsonl", "arrow", "arrow_stream"])
def test_sharded_profile_equals_the_one_pass_profile(tmp_path: Path, fmt: str) -> None:
    # GIVEN the same table written in each format (Arrow IPC with small record batches)
    table = _table()
    if fmt == "arrow":
        path = tmp_path / "d.arrow"
        with pa.ipc.new_file(path, table.schema) as writer:
            for batch in table.to_batches(max_chunksize=200):
                writer.write_batch(batch)
    else:
        path = write_as(table, tmp_path / f"d.{fmt}", fmt)
    # WHEN planned in small shards, profiled shard by shard and merged
    manifest = plan_shards(path, target_bytes=9_000, sample_rows=300, seed=9)
    outcome = _sharded_outcome(path, manifest)
    whole = _whole_outcome(path, 300, 9)
    # THEN the sample and every exact statistic (quantiles too: exact below the cap) are those
    # of one pass; moments and the correlation to rounding (merged in another order)
    assert fmt == "arrow_stream" or len(manifest.items) > 1
    assert outcome.sample.equals(whole.sample)
    a, b = outcome.profile.model_dump(), whole.profile.model_dump()
    for ca, cb in zip(a.pop("column_profiles"), b.pop("column_profiles"), strict=True):
        for field in ("mean", "std"):
            x, y = ca.pop(field), cb.pop(field)
            assert (x is None) == (y is None) and (x is None or x == pytest.approx(y, rel=1e-12))
        assert ca == cb
    ra, rb = a.pop("correlation"), b.pop("correlation")
    assert (ra is None) == (rb is None)
    if ra is not None:
        assert (ra["columns"], ra["rows"]) == (rb["columns"], rb["rows"])
        for key in ("means", "stds", "matrix"):
            np.testing.assert_allclose(np.array(ra[key], float), np.array(rb[key], float),
                                       rtol=1e-12, atol=1e-12)
    assert a == b


def test_byte_ranges_align_to_lines_whatever_the_cut(tmp_path: Path) -> None:
    # GIVEN a CSV whose lines have uneven lengths
    table = pa.table({"v": [("x" * (i % 13)) + str(i) for i in range(500)], "n": range(500)})
    path = tmp_path / "d.csv"
    pacsv.write_csv(table, path)
    for target in (7, 64, 1000, 10**6):
        # WHEN cut into byte ranges of many sizes
        manifest = plan_shards(path, target_bytes=target)
        with path.open("rb") as f:
            rows = [r for i in range(len(manifest.items))
                    for b in read_shard_batches(manifest, i, f) for r in b.column("n").to_pylist()]
        # THEN every line is read once, in order
        assert rows == list(range(500)), target


def test_gzip_csv_is_one_whole_file_shard(tmp_path: Path) -> None:
    # GIVEN a gzipped CSV
    path = tmp_path / "d.csv.gz"
    with pa.CompressedOutputStream(str(path), "gzip") as out:
        pacsv.write_csv(_table(200), out)
    # WHEN planned / THEN one whole_file shard that reads every row
    manifest = plan_shards(path, target_bytes=100)
    assert [i.kind for i in manifest.items] == ["whole_file"]
    with path.open("rb") as f:
        assert sum(b.num_rows for b in read_shard_batches(manifest, 0, f)) == 200


def test_file_objects_plan_parquet_only_with_their_size_and_uri(tmp_path: Path) -> None:
    # GIVEN a Parquet file opened as a file object
    path = write_as(_table(300), tmp_path / "d.parquet", "parquet")
    with path.open("rb") as f:
        # WHEN planned from the object / THEN it needs fmt, size and uri
        with pytest.raises(InvalidOption):
            plan_shards(f)
        manifest = plan_shards(f, fmt="parquet", size_bytes=path.stat().st_size,
                               source_uri="s3://b/d.parquet", target_bytes=1)
    assert [(i.start, i.stop) for i in manifest.items] == [(0, 1), (1, 2), (2, 3)]
