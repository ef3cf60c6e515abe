"""synthos.io.readers: format detection, streaming, and faithful reading of every format."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
import pytest

from synthos.errors import InvalidOption, UnsupportedFormat
from synthos.io import jsonl_source
from synthos.io.readers import open_table, sha256_file

from .io_fixtures import ALL_FORMATS, EXTENSION, reference_table, write_all, write_as


def _read_all(source) -> pa.Table:
    return pa.Table.from_batches(list(source.batches()), schema=source.schema)


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_every_format_reads_back_the_same_values(tmp_path: Path, fmt: str) -> None:
    # GIVEN the reference table written in one format
    table = reference_table()
    path = write_as(table, tmp_path / f"data.{fmt}", fmt)
    # WHEN it is opened without naming the format
    source = open_table(path)
    got = _read_all(source)
    # THEN the format is found, the rows and values are the ones written (timestamps by instant)
    assert source.format == fmt
    assert source.schema.names == table.column_names
    assert got.num_rows == 8
    assert got.column("n").to_pylist() == table.column("n").to_pylist()
    assert got.column("city").to_pylist() == table.column("city").to_pylist()
    assert got.column("flag").to_pylist() == table.column("flag").to_pylist()
    assert got.column("ts").cast(pa.timestamp("s")).equals(table.column("ts"))
    x = got.column("x").to_pylist()
    assert x[:2] == [1.5, 2.5] and x[2] != x[2] and x[3] is None and x[5] == float("inf")
    assert source.size_bytes == path.stat().st_size
    assert source.num_rows_hint == (None if fmt == "arrow_stream" else 8)
    assert source.warnings == []


def test_wrong_extension_is_read_by_content_with_a_warning(tmp_path: Path) -> None:
    # GIVEN Parquet bytes in a file named .csv, and JSON Lines in a file named .parquet
    paths = write_all(reference_table(), tmp_path)
    parquet_as_csv = tmp_path / "really_parquet.csv"
    shutil.copy(paths["parquet"], parquet_as_csv)
    jsonl_as_parquet = tmp_path / "really_jsonl.parquet"
    shutil.copy(paths["jsonl"], jsonl_as_parquet)
    # WHEN they are opened
    a, b = open_table(parquet_as_csv), open_table(jsonl_as_parquet)
    # THEN each is read as what it is, and a warning says what happened
    assert a.format == "parquet" and _read_all(a).num_rows == 8
    assert b.format == "jsonl" and _read_all(b).num_rows == 8
    assert any("says csv" in w and "parquet" in w for w in a.warnings)
    assert any("says parquet" in w and "jsonl" in w for w in b.warnings)


def test_requested_format_is_used_for_text_and_overridden_by_binary_content(tmp_path: Path) -> None:
    # GIVEN a tab-separated file without extension, and an IPC file
    tsv = tmp_path / "noext"
    tsv.write_text("a\tb\n1\t2\n3\t4\n")
    paths = write_all(reference_table(), tmp_path)
    # WHEN they are opened with an explicit (right or wrong) format
    as_tsv = open_table(tsv, fmt="tsv")
    sniffed = open_table(tsv)
    ipc_claimed_csv = open_table(paths["arrow"], fmt="csv")
    # THEN text uses the request, sniffing agrees, binary content wins with a warning
    assert as_tsv.format == "tsv" and as_tsv.schema.names == ["a", "b"]
    assert sniffed.format == "tsv"
    assert ipc_claimed_csv.format == "arrow" and ipc_claimed_csv.warnings
    with pytest.raises(UnsupportedFormat):
        open_table(tsv, fmt="xlsx")


@pytest.mark.parametrize(
    ("text", "fmt", "names"),
    [
        ("a;b\n1;2\n", "csv", ["a", "b"]),
        ('{"a": 1, "b": 2}\n', "jsonl", ["a", "b"]),
        ("a\tb\n1\t2\n", "tsv", ["a", "b"]),
        ("a,b\n1,2\n", "csv", ["a", "b"]),
    ],
)
def test_text_is_sniffed_without_an_extension(
    tmp_path: Path, text: str, fmt: str, names: list[str]
) -> None:
    # GIVEN text data in a file with an uninformative name
    path = tmp_path / "upload.dat"
    path.write_text(text)
    # WHEN it is opened
    source = open_table(path)
    # THEN the sniffed format and columns are right
    assert source.format == fmt
    assert source.schema.names == names
    assert _read_all(source).column(0).to_pylist() == [1]


def test_gzipped_csv_is_read(tmp_path: Path) -> None:
    # GIVEN a gzipped CSV
    path = tmp_path / "data.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("a,b\n1,x\n2,y\n")
    # WHEN it is opened
    source = open_table(path)
    # THEN it reads as the CSV inside
    assert source.format == "csv"
    assert _read_all(source).to_pydict() == {"a": [1, 2], "b": ["x", "y"]}


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_batches_are_bounded_and_nothing_reads_the_whole_file(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 5,000 rows in a file, and the whole-file readers of Arrow made to fail
    table = pa.table({"i": list(range(5000)), "s": [f"v{i % 7}" for i in range(5000)]})
    path = write_as(table, tmp_path / f"big.{fmt}", fmt)
    source = open_table(path)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("read the whole file at once")

    monkeypatch.setattr(pq.ParquetFile, "read", forbidden)
    monkeypatch.setattr(pq, "read_table", forbidden)
    monkeypatch.setattr(pacsv, "read_csv", forbidden)
    monkeypatch.setattr(pa.ipc.RecordBatchFileReader, "read_all", forbidden)
    monkeypatch.setattr(jsonl_source, "_BLOCK_BYTES", 4096)  # JSON Lines: 4 KiB blocks
    # WHEN it is streamed in batches of 700 rows
    sizes = [b.num_rows for b in source.batches(batch_rows=700)]
    # THEN every batch holds 700 rows but the last, and all rows arrive in order
    assert sizes == [700] * 7 + [100]
    got = pa.Table.from_batches(list(source.batches(batch_rows=700)))
    assert got.column("i").to_pylist() == list(range(5000))


def test_jsonl_blocks_stay_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a JSON Lines file of ~90 KB and a 4 KiB block size
    rows = [{"i": i, "s": "x" * 10} for i in range(3000)]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(f'{{"i": {r["i"]}, "s": "{r["s"]}"}}\n' for r in rows))
    monkeypatch.setattr(jsonl_source, "_BLOCK_BYTES", 4096)
    seen: list[int] = []
    real = pajson.read_json

    def spy(source, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(len(source.getbuffer()))
        return real(source, **kwargs)

    monkeypatch.setattr(pajson, "read_json", spy)
    # WHEN it is opened and streamed
    total = sum(b.num_rows for b in open_table(path).batches())
    # THEN Arrow only ever parsed blocks of about one block size
    assert total == 3000
    assert len(seen) > 40 and max(seen) <= 4096 + 64


def test_columns_projection_and_bad_options(tmp_path: Path) -> None:
    # GIVEN a Parquet file
    source = open_table(write_as(reference_table(), tmp_path / "d.parquet", "parquet"))
    # WHEN only two columns are asked for
    got = pa.Table.from_batches(list(source.batches(columns=["n", "city"])))
    # THEN only those come back; unknown columns and empty batches are refused
    assert got.column_names == ["n", "city"]
    with pytest.raises(InvalidOption):
        list(source.batches(columns=["nope"]))
    with pytest.raises(InvalidOption):
        list(source.batches(batch_rows=0))


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    # GIVEN a file of 3 MiB + 5 bytes (several read chunks)
    path = tmp_path / "blob.bin"
    data = bytes(range(256)) * (3 * 4096) + b"tail!"
    path.write_bytes(data)
    # WHEN / THEN the streamed digest equals the one-shot digest
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_pandas_index_column_is_ignored(tmp_path: Path) -> None:
    # GIVEN a Parquet file carrying a pandas index column
    table = pa.table({"a": [1, 2], "__index_level_0__": [10, 11]})
    path = tmp_path / "pd.parquet"
    pq.write_table(table, path)
    # WHEN it is opened
    source = open_table(path)
    # THEN the index is not a data column, and a warning says so
    assert source.schema.names == ["a"]
    assert _read_all(source).column_names == ["a"]
    assert any("__index_level_0__" in w for w in source.warnings)


@pytest.mark.parametrize("fmt", ["parquet", "arrow", "arrow_stream", "feather"])
def test_a_pandas_index_is_dropped_alike_in_parquet_and_arrow_ipc(tmp_path: Path,
                                                                   fmt: str) -> None:
    import pandas as pd

    # GIVEN a DataFrame with a non-default index, written the way pandas users write it
    frame = pd.DataFrame({"a": [1.5, 2.5, 3.5], "b": ["x", "y", "z"]}, index=[10, 20, 30])
    table = pa.Table.from_pandas(frame)
    assert table.column_names == ["a", "b", "__index_level_0__"]
    path = write_as(table, tmp_path / f"pd{EXTENSION[fmt]}", fmt)
    # WHEN it is opened
    source = open_table(path)
    got = _read_all(source)
    # THEN every format drops the index column the same way, with the same warning
    assert (source.format, source.schema.names, got.column_names) == (fmt, ["a", "b"],
                                                                       ["a", "b"])
    assert got.column("a").to_pylist() == [1.5, 2.5, 3.5]
    assert source.warnings == ["pandas index column(s) __index_level_0__ ignored"]
