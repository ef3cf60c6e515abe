"""CSV/TSV reading that survives real files.

Opening a CSV scans it once with Arrow's streaming reader to settle the schema before anyone
consumes a batch: a column whose later values do not fit the type inferred from the first
block is re-typed (integers -> float -> text) and the scan restarts; bytes that are not UTF-8
switch the decoding to Latin-1; rows with the wrong number of fields are skipped and counted;
blank or repeated header names are repaired. Every such decision leaves a warning. The scan also
gives the exact row count. ``NaN``/``inf`` literals stay floats; only the tokens in
``NULL_TOKENS`` are nulls.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.types as pat

from synthos.errors import EmptyDataset, UnreadableDataset
from synthos.io.detect import Detection, unreadable

NULL_TOKENS = ["", "NULL", "null", "Null", "NA", "N/A", "n/a", "#N/A", "#NA", "None", "none", "nil"]
_MIN_BLOCK = 1 << 20
_MAX_BLOCK = 1 << 28
_PROBE_LIMIT = 1 << 25
_MAX_RETRIES = 64
_HOW = "cannot be read as delimited text"
_LATIN1_WARNING = "the file is not valid UTF-8; it was decoded as Latin-1"
_BAD_COLUMN = re.compile(r"CSV column #(\d+)")


@dataclass
class CsvPlan:
    """Everything needed to reopen the file with the settled schema."""

    path: Path
    delimiter: str
    encoding: str
    compression: str | None
    bytes_per_row: float
    min_block: int
    column_names: list[str] | None = None
    column_types: dict[str, pa.DataType] = field(default_factory=dict)
    inferred: dict[str, pa.DataType] = field(default_factory=dict)

    def block_size(self, batch_rows: int) -> int:
        want = int(self.bytes_per_row * batch_rows * 1.1)
        return max(self.min_block, min(want, _MAX_BLOCK))


class _RowSkipper:
    """invalid_row_handler: skip rows with the wrong number of fields, counting the non-blank."""

    def __init__(self) -> None:
        self.skipped = 0

    def __call__(self, row: pacsv.InvalidRow) -> str:
        if row.text.strip():
            self.skipped += 1
        return "skip"


def open_csv_source(path: Path, det: Detection) -> tuple[pa.Schema, list[str], int, CsvPlan]:
    """Scan the file once; return (settled schema, warnings, exact row count, reopen plan)."""
    max_line, per_row = _probe_lines(path, det.compression)
    plan = CsvPlan(
        path, det.delimiter, det.encoding, det.compression, per_row,
        min(_MAX_BLOCK, max(_MIN_BLOCK, 4 * max_line)),
    )  # fmt: skip
    warnings: list[str] = [_LATIN1_WARNING] if plan.encoding == "latin-1" else []
    schema: pa.Schema | None = None
    for _ in range(_MAX_RETRIES):
        skipper = _RowSkipper()
        try:
            reader = _open(plan, plan.block_size(65536), None, skipper)
            schema = reader.schema
            if _needs_reopen(plan, schema, warnings):
                continue
            rows = sum(batch.num_rows for batch in reader)
            break
        except pa.ArrowInvalid as exc:
            if not _repair(plan, exc, schema, warnings):
                raise unreadable(path, _HOW, exc) from exc
    else:
        raise UnreadableDataset(f"{path.name}: too many columns with inconsistent types")
    warnings.extend(_type_warnings(plan))
    if skipper.skipped:
        warnings.append(f"{skipper.skipped} rows with the wrong number of fields were skipped")
    if rows == 0:
        if skipper.skipped:
            raise UnreadableDataset(f"{path.name}: no row has as many fields as the header")
        raise EmptyDataset(f"{path.name} has a header but no rows")
    return schema, warnings, rows, plan


def iter_csv_batches(
    plan: CsvPlan, batch_rows: int, columns: Sequence[str] | None
) -> Iterator[pa.RecordBatch]:
    """Stream the file with the settled schema (batches of about ``batch_rows`` rows)."""
    try:
        reader = _open(plan, plan.block_size(batch_rows), columns, _RowSkipper())
        yield from reader
    except pa.ArrowException as exc:
        raise unreadable(plan.path, _HOW, exc) from exc


def _open(
    plan: CsvPlan, block: int, columns: Sequence[str] | None, skipper: _RowSkipper
) -> pacsv.CSVStreamingReader:
    read = pacsv.ReadOptions(
        use_threads=True, block_size=block, encoding=plan.encoding,
        column_names=plan.column_names, skip_rows=1 if plan.column_names else 0,
    )  # fmt: skip
    parse = pacsv.ParseOptions(
        delimiter=plan.delimiter, newlines_in_values=True, invalid_row_handler=skipper
    )
    convert = pacsv.ConvertOptions(
        null_values=NULL_TOKENS, strings_can_be_null=True, quoted_strings_can_be_null=True,
        column_types=plan.column_types, include_columns=list(columns) if columns else None,
    )  # fmt: skip
    source = pa.input_stream(str(plan.path), compression=plan.compression)
    return pacsv.open_csv(source, read_options=read, parse_options=parse, convert_options=convert)


def _needs_reopen(plan: CsvPlan, schema: pa.Schema, warnings: list[str]) -> bool:
    """Repair header names or switch to Latin-1 when the first block shows the need."""
    if plan.column_names is None:
        fixed = repair_names(schema.names)
        if fixed != schema.names:
            plan.column_names = fixed
            warnings.append("blank or repeated column names were renamed: " + ", ".join(
                f"{old!r}->{new!r}" for old, new in zip(schema.names, fixed, strict=True)
                if old != new
            ))  # fmt: skip
            return True
    if plan.encoding == "utf-8" and any(pat.is_binary(f.type) for f in schema):
        _to_latin1(plan, warnings)
        return True
    for f in schema:
        plan.inferred.setdefault(f.name, f.type)
    return False


def _repair(
    plan: CsvPlan, exc: pa.ArrowInvalid, schema: pa.Schema | None, warnings: list[str]
) -> bool:
    """Change the plan so that the error cannot recur; False when nothing can be done.

    Arrow reports these problems only in its message text, so that is what is read here.
    """
    msg = str(exc)
    if "straddl" in msg and plan.min_block < _MAX_BLOCK:
        plan.min_block = min(_MAX_BLOCK, plan.min_block * 4)
        return True
    if "UTF8" in msg and plan.encoding == "utf-8":
        _to_latin1(plan, warnings)
        return True
    match = _BAD_COLUMN.search(msg)
    if match is None or schema is None or int(match.group(1)) >= len(schema):
        return False
    name = schema.names[int(match.group(1))]
    current = plan.column_types.get(name, schema.field(name).type)
    if pat.is_string(current):
        return False
    widen = pat.is_integer(current) or pat.is_null(current)
    plan.column_types[name] = pa.float64() if widen else pa.string()
    return True


def _to_latin1(plan: CsvPlan, warnings: list[str]) -> None:
    plan.encoding = "latin-1"
    warnings.append(_LATIN1_WARNING)


def _type_warnings(plan: CsvPlan) -> list[str]:
    out = []
    for name, t in plan.column_types.items():
        first = plan.inferred.get(name, pa.null())
        if pat.is_null(first):
            out.append(f"column {name} is empty in its first rows; typed from later values as {t}")
        elif pat.is_string(t):
            out.append(f"column {name} has mixed types; read as text")
        else:
            out.append(f"column {name} holds decimals after integers; read as float")
    return out


def repair_names(names: Sequence[str]) -> list[str]:
    """Give blank names ``column_<i>`` and make repeated names unique (``x``, ``x_2``)."""
    seen: set[str] = set()
    out = []
    for i, name in enumerate(names, start=1):
        base = name.strip() or f"column_{i}"
        new, k = base, 2
        while new in seen:
            new, k = f"{base}_{k}", k + 1
        seen.add(new)
        out.append(new)
    return out


def _probe_lines(path: Path, compression: str | None) -> tuple[int, float]:
    """(longest line, mean bytes per line) over the first few lines, reading at most 32 MiB."""
    buf = b""
    with pa.input_stream(str(path), compression=compression) as f:
        while len(buf) < _PROBE_LIMIT:
            chunk = f.read(1 << 16 if not buf else len(buf))
            if not chunk:
                break
            buf += chunk
            if buf.count(b"\n") >= 64:
                break
    lines = buf.split(b"\n")
    complete = lines[:-1] if len(lines) > 1 else lines
    longest = max(len(line) for line in complete) + 1
    per_row = sum(len(line) + 1 for line in complete) / len(complete)
    return longest, per_row
