"""Open a tabular file of any supported format as a streaming ``TableSource``.

Formats: ``parquet``, ``csv``, ``tsv``, ``jsonl``, ``arrow`` (IPC file), ``arrow_stream`` (IPC
stream) and ``feather`` (v2, an IPC file). The format is taken from the content first, then the
name, then by sniffing text (see ``synthos.io.detect``). Nothing here holds a whole file in
memory: ``TableSource.batches`` streams bounded record batches.

Every problem with the input surfaces as one named error with a one-line message:
``DatasetNotFound`` (no such path, a directory), ``UnsupportedFormat``, ``UnreadableDataset``
(truncated or garbage bytes) and ``EmptyDataset`` (0 bytes, header only, no rows).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from synthos.errors import (
    DatasetNotFound,
    EmptyDataset,
    InvalidOption,
    SynthosError,
    UnreadableDataset,
)
from synthos.io.csv_source import iter_csv_batches, open_csv_source
from synthos.io.detect import Detection, detect, unreadable
from synthos.io.jsonl_source import iter_jsonl_batches, open_jsonl_source
from synthos.io.prefetch import prefetched, spare_cores

StreamFn = Callable[[int, list[str]], Iterator[pa.RecordBatch]]
_PARQUET_BUFFER = 1 << 20
_PANDAS_INDEX = re.compile(r"^__index_level_\d+__$")


@dataclass
class TableSource:
    """An opened file: what it is, its (settled) schema, and a way to stream its rows.

    ``num_rows_hint`` is the row count when it was cheap to know (Parquet and IPC file
    metadata; CSV/TSV/JSON Lines from the scan done on opening); None for IPC streams.
    """

    path: str
    format: str
    size_bytes: int
    schema: pa.Schema
    warnings: list[str]
    num_rows_hint: int | None
    _stream: StreamFn = field(repr=False, compare=False)

    def batches(
        self, batch_rows: int = 65536, columns: Sequence[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Stream record batches of at most ``batch_rows`` rows (``columns``: a projection).

        Small batches from the file are coalesced, large ones split, so every batch but the
        last holds exactly ``batch_rows`` rows. Raises UnreadableDataset when the bytes turn
        out to be corrupt part-way.
        """
        if batch_rows < 1:
            raise InvalidOption(f"batch_rows must be at least 1, got {batch_rows}")
        names = list(columns) if columns is not None else list(self.schema.names)
        known = set(self.schema.names)
        missing = [n for n in names if n not in known]
        if missing:
            raise InvalidOption(f"no such column in {Path(self.path).name}: {', '.join(missing)}")
        try:
            yield from _rebatch(self._stream(batch_rows, names), batch_rows)
        except SynthosError:
            raise
        except (pa.ArrowException, OSError, EOFError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UnreadableDataset(
                f"{Path(self.path).name} is corrupt or truncated ({self.format}): {reason}",
                details={"cause": reason},
            ) from exc


def open_table(path: str | Path, fmt: str | None = None) -> TableSource:
    """Open ``path`` for streaming; ``fmt`` overrides the name (the content still wins)."""
    p = Path(path)
    if not p.exists():
        raise DatasetNotFound(f"{p} does not exist")
    if p.is_dir():
        raise DatasetNotFound(f"{p} is a directory, not a data file")
    if not p.is_file():
        raise DatasetNotFound(f"{p} is not a regular file")
    det = detect(p, fmt)
    schema, warnings, rows, stream = _OPENERS[det.format](p, det)
    if len(schema) == 0:
        raise EmptyDataset(f"{p.name} has no columns")
    size = p.stat().st_size
    return TableSource(str(p), det.format, size, schema, [*det.warnings, *warnings], rows, stream)


def sha256_file(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


Opened = tuple[pa.Schema, list[str], int | None, StreamFn]


def _open_parquet(path: Path, det: Detection) -> Opened:
    try:
        meta = pq.ParquetFile(str(path))
        schema, rows = meta.schema_arrow, meta.metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise unreadable(path, "is not a readable Parquet", exc) from exc
    if rows == 0:
        raise EmptyDataset(f"{path.name} has no rows")
    schema, warnings = drop_pandas_index(schema)

    def stream(batch_rows: int, names: list[str]) -> Iterator[pa.RecordBatch]:
        # buffered column-chunk streams: memory follows the batch, not the row group
        pf = pq.ParquetFile(str(path), pre_buffer=False, buffer_size=_PARQUET_BUFFER)
        batches = pf.iter_batches(batch_size=batch_rows, columns=names, use_threads=True)
        # with a core to spare, decoded one batch ahead in a thread (Arrow releases the GIL)
        yield from prefetched(batches) if spare_cores() else batches

    return schema, warnings, rows, stream


def drop_pandas_index(schema: pa.Schema) -> tuple[pa.Schema, list[str]]:
    """``schema`` without the pandas index columns (``__index_level_N__``), and a warning
    naming them when there were any. Applied to Parquet and Arrow IPC (file, Feather, stream)
    alike, here and in the shard planner."""
    index = [f.name for f in schema if _PANDAS_INDEX.match(f.name)]
    if not index:
        return schema, []
    kept = pa.schema([f for f in schema if f.name not in index], metadata=schema.metadata)
    return kept, [f"pandas index column(s) {', '.join(index)} ignored"]


def _open_ipc_file(path: Path, det: Detection) -> Opened:
    try:
        reader = pa.ipc.open_file(pa.memory_map(str(path)))
        schema, rows = reader.schema, reader.count_rows()
    except (pa.ArrowException, OSError) as exc:
        raise unreadable(path, "is not a readable Arrow IPC file", exc) from exc
    if rows == 0:
        raise EmptyDataset(f"{path.name} has no rows")
    schema, warnings = drop_pandas_index(schema)

    def stream(batch_rows: int, names: list[str]) -> Iterator[pa.RecordBatch]:
        file_reader = pa.ipc.open_file(pa.memory_map(str(path)))
        for i in range(file_reader.num_record_batches):
            yield file_reader.get_batch(i).select(names)

    return schema, warnings, rows, stream


def _open_ipc_stream(path: Path, det: Detection) -> Opened:
    try:
        reader = pa.ipc.open_stream(pa.memory_map(str(path)))
        schema = reader.schema
        has_rows = any(batch.num_rows for batch in reader)
    except (pa.ArrowException, OSError) as exc:
        raise unreadable(path, "is not a readable Arrow IPC stream", exc) from exc
    if not has_rows:
        raise EmptyDataset(f"{path.name} has no rows")
    schema, warnings = drop_pandas_index(schema)

    def stream(batch_rows: int, names: list[str]) -> Iterator[pa.RecordBatch]:
        for batch in pa.ipc.open_stream(pa.memory_map(str(path))):
            yield batch.select(names)

    return schema, warnings, None, stream


def _open_csv(path: Path, det: Detection) -> Opened:
    schema, warnings, rows, plan = open_csv_source(path, det)
    return schema, warnings, rows, lambda n, names: iter_csv_batches(plan, n, names)


def _open_jsonl(path: Path, det: Detection) -> Opened:
    schema, warnings, rows, plan = open_jsonl_source(path, det)
    return schema, warnings, rows, lambda n, names: iter_jsonl_batches(plan, n, names)


_OPENERS: dict[str, Callable[[Path, Detection], Opened]] = {
    "parquet": _open_parquet, "csv": _open_csv, "tsv": _open_csv, "jsonl": _open_jsonl,
    "arrow": _open_ipc_file, "feather": _open_ipc_file, "arrow_stream": _open_ipc_stream,
}  # fmt: skip


def _rebatch(batches: Iterator[pa.RecordBatch], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Coalesce/split a batch stream into batches of exactly ``batch_rows`` (the last: fewer)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        if not pending and batch.num_rows == batch_rows:
            yield batch
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= batch_rows:
            table = pa.Table.from_batches(pending)
            yield _one_batch(table.slice(0, batch_rows))
            pending = table.slice(batch_rows).to_batches()
            count -= batch_rows
    if count:
        yield _one_batch(pa.Table.from_batches(pending))


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    batches = table.to_batches()
    if len(batches) == 1:
        return batches[0]
    return table.combine_chunks().to_batches()[0]
