"""Shared helpers for the reader, profile and sampling tests: write one table in every format."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq

ALL_FORMATS = ("parquet", "csv", "tsv", "jsonl", "arrow", "arrow_stream", "feather")
EXTENSION = {
    "parquet": ".parquet", "csv": ".csv", "tsv": ".tsv", "jsonl": ".jsonl",
    "arrow": ".arrow", "arrow_stream": ".arrows", "feather": ".feather",
}  # fmt: skip


def reference_table() -> pa.Table:
    """Eight rows with one of each column kind, nulls, a NaN, an infinity and a duplicate row."""
    t0 = dt.datetime(2024, 1, 1)
    return pa.table(
        {
            "x": [1.5, 2.5, float("nan"), None, 4.0, float("inf"), 2.5, -1.0],
            "n": [1, 2, 3, None, 5, 6, 2, 8],
            "city": ["oslo", "rome", None, "oslo", "lima", "oslo", "rome", "oslo"],
            "flag": [True, False, None, True, True, False, False, True],
            "ts": pa.array(
                [t0 + dt.timedelta(days=d) for d in (0, 1, 2, 3, 4, 5, 1, 7)], pa.timestamp("s")
            ),
        }
    )


def write_as(table: pa.Table, path: Path, fmt: str) -> Path:
    """Write ``table`` to ``path`` in format ``fmt`` (one of ALL_FORMATS)."""
    if fmt == "parquet":
        pq.write_table(table, path, row_group_size=max(1, table.num_rows // 3))
    elif fmt in ("csv", "tsv"):
        options = pacsv.WriteOptions(delimiter="," if fmt == "csv" else "\t")
        pacsv.write_csv(table, path, write_options=options)
    elif fmt == "jsonl":
        write_jsonl(table.to_pylist(), path)
    elif fmt == "arrow":
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=3)
    elif fmt == "arrow_stream":
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=3)
    elif fmt == "feather":
        feather.write_feather(table, str(path), version=2, chunksize=3)
    else:
        raise ValueError(fmt)
    return path


def write_jsonl(rows: list[dict[str, object]], path: Path) -> Path:
    def default(value: object) -> object:
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        raise TypeError(type(value))

    with path.open("w") as f:
        for row in rows:
            f.write(json.dumps(row, default=default, allow_nan=True) + "\n")
    return path


def write_all(table: pa.Table, directory: Path, stem: str = "data") -> dict[str, Path]:
    return {fmt: write_as(table, directory / f"{stem}{EXTENSION[fmt]}", fmt) for fmt in ALL_FORMATS}


def same_float(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return (math.isnan(a) and math.isnan(b)) or a == b
