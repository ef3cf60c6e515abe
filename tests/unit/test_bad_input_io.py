"""Bad and awkward input: each case gets one named error or a correct, warned profile."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthos.columns import ColumnKind, classify_schema
from synthos.errors import (
    DatasetNotFound,
    EmptyDataset,
    NoUsableColumns,
    UnreadableDataset,
    UnsupportedFormat,
)
from synthos.io.readers import open_table
from synthos.profile import ProfileOutcome, profile_source

from .io_fixtures import write_jsonl


def _profile(path: Path, **kwargs: object) -> ProfileOutcome:
    source = open_table(path)
    return profile_source(source, classify_schema(source.schema), **kwargs)  # type: ignore[arg-type]


def _column(outcome: ProfileOutcome, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in outcome.profile.column_profiles if c.name == name)


def test_missing_file(tmp_path: Path) -> None:
    # GIVEN a path that does not exist / WHEN opened / THEN DatasetNotFound
    with pytest.raises(DatasetNotFound, match="does not exist"):
        open_table(tmp_path / "nope.csv")


def test_directory(tmp_path: Path) -> None:
    # GIVEN a directory / WHEN opened / THEN DatasetNotFound
    with pytest.raises(DatasetNotFound, match="directory"):
        open_table(tmp_path)


@pytest.mark.parametrize(
    ("name", "payload", "error", "match"),
    [
        ("empty.parquet", b"", EmptyDataset, "0 bytes"),  # zero-byte file
        ("h.csv", b"a,b,c\n", EmptyDataset, "no rows"),  # CSV header, no rows
        ("upload.csv", b"PK\x03\x04rest-of-a-zip", UnsupportedFormat, None),  # Excel/ZIP
        ("upload.csv", b"FEA1....", UnsupportedFormat, None),  # Feather v1
        ("rows.json", b'[{"a": 1}, {"a": 2}]', UnsupportedFormat, "JSON Lines"),  # JSON array
        ("rows.jsonl", b'{"a": 1}\n{"a": 2}\n{"a": \n', UnreadableDataset, "line 3"),
    ],
    ids=["zero-byte", "header-only-csv", "zip", "feather-v1", "json-array", "bad-json-line"],
)
def test_unopenable_files(
    tmp_path: Path, name: str, payload: bytes, error: type[Exception], match: str | None
) -> None:
    # GIVEN a file with these bytes / WHEN opened / THEN the named error (naming the cause)
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(error, match=match):
        open_table(path)


def test_parquet_without_rows(tmp_path: Path) -> None:
    # GIVEN a valid Parquet file with a schema and no rows / WHEN opened / THEN EmptyDataset
    path = tmp_path / "none.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.int64())}), path)
    with pytest.raises(EmptyDataset):
        open_table(path)


def test_one_row(tmp_path: Path) -> None:
    # GIVEN a CSV with a single data row
    path = tmp_path / "one.csv"
    path.write_text("x,c\n3.5,a\n")
    # WHEN profiled
    out = _profile(path)
    x = _column(out, "x")
    # THEN the statistics are those of one value: std 0, every quantile the value, constant
    assert out.profile.rows == 1 and out.sample.num_rows == 1
    assert (x.count, x.mean, x.std, x.min, x.max) == (1, 3.5, 0.0, 3.5, 3.5)
    assert set(x.quantiles.values()) == {3.5}
    assert x.constant and _column(out, "c").constant
    assert out.profile.exact_duplicate_rows == 0


def test_all_nan_column_counts_nans_not_zeros(tmp_path: Path) -> None:
    # GIVEN a column of NaN literals (and one empty cell, a null) next to a normal column
    path = tmp_path / "nan.csv"
    path.write_text("x,y\nNaN,1\nnan,2\nNaN,3\n,4\n")
    # WHEN profiled
    out = _profile(path)
    x = _column(out, "x")
    # THEN 3 NaN and 1 null are counted; nothing is turned into 0
    assert out.specs[0].kind == ColumnKind.NUMERIC
    assert (x.count, x.nan_count, x.null_count) == (4, 3, 1)
    assert x.mean is None and x.min is None and x.quantiles is None
    assert x.distinct_count == 0 and x.constant
    assert "column has no finite values" in x.warnings
    values = out.sample.column("x").to_pylist()
    assert sum(1 for v in values if v is not None and math.isnan(v)) == 3
    assert 0.0 not in values


def test_all_null_column_is_unsupported(tmp_path: Path) -> None:
    # GIVEN a Parquet float column holding only nulls next to a normal column
    path = tmp_path / "nulls.parquet"
    pq.write_table(
        pa.table({"x": pa.array([None, None, None], pa.float64()), "y": [1, 2, 3]}), path
    )
    # WHEN profiled
    out = _profile(path)
    # THEN the column is unsupported with its reason, and left out of the sample
    assert [u.name for u in out.profile.unsupported_columns] == ["x"]
    assert out.profile.unsupported_columns[0].reason == "column holds only nulls"
    assert out.sample.column_names == ["y"]
    assert out.specs[0].kind == ColumnKind.UNSUPPORTED


def test_only_null_columns_means_no_usable_columns(tmp_path: Path) -> None:
    # GIVEN a file whose only column is empty / WHEN profiled / THEN NoUsableColumns
    path = tmp_path / "empty_col.parquet"
    pq.write_table(pa.table({"x": pa.array([None, None], pa.float64())}), path)
    with pytest.raises(NoUsableColumns):
        _profile(path)


def test_infinities_are_counted_and_left_out_of_moments(tmp_path: Path) -> None:
    # GIVEN 1, inf, -inf, 2 (CSV literals)
    path = tmp_path / "inf.csv"
    path.write_text("x\n1\ninf\n-inf\n2\n")
    # WHEN profiled
    x = _column(_profile(path), "x")
    # THEN two infinities, and mean/min/max over the finite values only
    assert (x.inf_count, x.nan_count, x.null_count) == (2, 0, 0)
    assert (x.mean, x.min, x.max, x.std) == (1.5, 1.0, 2.0, 0.5)
    assert x.distinct_count == 4  # inf and -inf are values


def test_constant_columns_are_flagged(tmp_path: Path) -> None:
    # GIVEN a constant number, a constant text with a null, and a varying column
    path = tmp_path / "const.parquet"
    pq.write_table(
        pa.table({"k": [7, 7, 7, 7], "t": ["a", None, "a", "a"], "v": [1, 2, 1, 2]}), path
    )
    # WHEN profiled
    out = _profile(path)
    # THEN only the first two are constant
    assert _column(out, "k").constant and _column(out, "k").distinct_count == 1
    assert _column(out, "t").constant and _column(out, "t").top_values == [("a", 3)]
    assert not _column(out, "v").constant


def test_mixed_types_in_a_late_csv_block_read_as_text(tmp_path: Path) -> None:
    # GIVEN 200,000 integers (more than one parse block) and then the text "abc"
    path = tmp_path / "mixed.csv"
    with path.open("w") as f:
        f.write("v,w\n")
        f.writelines(f"{i},{i % 3}\n" for i in range(200_000))
        f.write("abc,1\n")
    # WHEN opened and profiled
    source = open_table(path)
    out = profile_source(source, classify_schema(source.schema), sample_rows=100)
    v = _column(out, "v")
    # THEN the column is text, every row counted, and a warning names the column
    assert source.schema.field("v").type == pa.string()
    assert "column v has mixed types; read as text" in out.profile.warnings
    assert v.kind == "categorical" and v.count == 200_001
    # 200,001 distinct values: past the exact limit, an HLL estimate (lg_k 14: ~1% error)
    assert not v.distinct_exact and v.distinct_count == pytest.approx(200_001, rel=0.03)
    assert _column(out, "w").kind == "numeric"


def test_non_utf8_bytes_fall_back_to_latin1(tmp_path: Path) -> None:
    # GIVEN Latin-1 bytes at the start of one file, only past the first parse block in another
    early = tmp_path / "early.csv"
    early.write_bytes(b"name,v\ncaf\xe9,1\n" + b"plain,2\n" * 10)
    late = tmp_path / "late.csv"
    late.write_bytes(b"name,v\n" + b"plain,2\n" * 200_000 + b"na\xefve,3\n")
    # WHEN profiled
    a, b = _profile(early), _profile(late, sample_rows=50)
    # THEN the text is decoded as Latin-1 with a warning, nothing is lost
    for out in (a, b):
        assert "the file is not valid UTF-8; it was decoded as Latin-1" in out.profile.warnings
    assert _column(a, "name").top_values == [("plain", 10), ("café", 1)]
    assert _column(b, "name").count == 200_001
    assert _column(b, "name").top_values == [("plain", 200_000), ("naïve", 1)]


def test_truncated_parquet(tmp_path: Path) -> None:
    # GIVEN a Parquet file cut in half
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"a": list(range(10_000))}), good)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    # WHEN opened / THEN UnreadableDataset with one clear line
    with pytest.raises(UnreadableDataset, match="truncated") as info:
        open_table(cut)
    assert "\n" not in str(info.value)


def test_parquet_with_corrupt_pages(tmp_path: Path) -> None:
    # GIVEN a Parquet file whose data pages were overwritten (footer intact)
    path = tmp_path / "bad_pages.parquet"
    pq.write_table(
        pa.table({"a": [f"value-{i}" for i in range(20_000)]}), path, compression="snappy"
    )
    data = bytearray(path.read_bytes())
    data[100:2100] = random.Random(0).randbytes(2000)
    path.write_bytes(bytes(data))
    # WHEN profiled / THEN UnreadableDataset, not an Arrow exception
    with pytest.raises(UnreadableDataset):
        _profile(path)


@pytest.mark.parametrize("name", ["garbage.bin", "garbage.parquet", "garbage.csv"])
def test_garbage_bytes(tmp_path: Path, name: str) -> None:
    # GIVEN random bytes under various names / WHEN opened / THEN UnreadableDataset
    path = tmp_path / name
    path.write_bytes(random.Random(1).randbytes(4096))
    with pytest.raises(UnreadableDataset, match="binary content"):
        open_table(path)


def test_jsonl_mixed_types_and_nan_tokens(tmp_path: Path) -> None:
    # GIVEN JSON Lines where a field mixes numbers and text, and another holds NaN
    path = write_jsonl(
        [{"a": 1, "b": 0.5}, {"a": "two", "b": float("nan")}, {"a": 3, "b": 1.5}],
        tmp_path / "m.jsonl",
    )
    # WHEN profiled
    out = _profile(path)
    # THEN the mixed field is text (with a warning) and the NaN stays a NaN
    assert out.sample.schema.field("a").type == pa.string()
    assert "column a has mixed types; read as text" in out.profile.warnings
    b = _column(out, "b")
    assert (b.nan_count, b.mean) == (1, 1.0)


def test_rows_with_wrong_field_count_are_skipped_with_a_warning(tmp_path: Path) -> None:
    # GIVEN a CSV with one short and one long row among three good ones
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3\n4,5,6\n7,8\n9,10\n")
    # WHEN profiled
    out = _profile(path)
    # THEN the good rows are profiled and the skip is reported
    assert out.profile.rows == 3
    assert "2 rows with the wrong number of fields were skipped" in out.profile.warnings


def test_repeated_and_blank_header_names_are_repaired(tmp_path: Path) -> None:
    # GIVEN a CSV header "a,a,,b"
    path = tmp_path / "names.csv"
    path.write_text("a,a,,b\n1,2,3,4\n5,6,7,8\n")
    # WHEN opened / THEN names are unique and every column is kept
    source = open_table(path)
    assert source.schema.names == ["a", "a_2", "column_3", "b"]
    assert pa.Table.from_batches(list(source.batches())).column("a_2").to_pylist() == [2, 6]


def test_ten_thousand_columns(tmp_path: Path) -> None:
    # GIVEN a CSV with 10,000 columns and 30 rows: column j holds row_index + j
    n_cols, n_rows = 10_000, 30
    path = tmp_path / "wide.csv"
    with path.open("w") as f:
        f.write(",".join(f"c{j}" for j in range(n_cols)) + "\n")
        for i in range(n_rows):
            f.write(",".join(str(i + j) for j in range(n_cols)) + "\n")
    # WHEN profiled
    start = time.perf_counter()
    out = _profile(path)
    elapsed = time.perf_counter() - start
    # THEN every column is profiled correctly, in seconds
    assert len(out.profile.column_profiles) == n_cols
    last = out.profile.column_profiles[-1]
    assert (last.name, last.min, last.max, last.mean) == ("c9999", 9999.0, 10028.0, 9999 + 14.5)
    assert out.sample.num_columns == n_cols and out.sample.num_rows == n_rows
    assert elapsed < 60
